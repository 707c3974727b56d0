"""The engine: DynamoDB's data-plane operations answered in-process, in botocore's parsed shapes.

``handle(operation, request)`` takes the JSON body botocore serialised and returns what botocore's
parser would have returned for DynamoDB's response, so a caller short-circuiting botocore's
``before-call`` event sees exactly what it would have seen over HTTP: results, or an error botocore
raises as ``client.exceptions.<Code>``. The control plane (CreateTable, DescribeTable, ...) is not here:
the engine asks ``describe_table`` for a table's schema the first time it sees the table's name.

The engine may be called from several threads. Each call is atomic, as DynamoDB's single-item
operations are: one lock (uncontended in a single-threaded run) is held while a call reads or writes.
A TransactWriteItems is the exception, as in DynamoDB: it is *in progress* from its prepare (every
action validated, every condition passed, its items held) until its commit (the prepared items
stored), and the lock is let go in between. While it is in progress another thread's TransactWriteItems
or TransactGetItems that includes one of its items is cancelled with a ``TransactionConflict`` reason
for that item, a PutItem, UpdateItem or DeleteItem of one of its items is refused with
``TransactionConflictException``, a BatchWriteItem leaves that item unprocessed, and reads see the
item as last committed. ``on_prepared`` is called in the writer's thread inside that window, so a test
can hold a transaction there and make another writer meet it. In one thread nothing ever meets a
transaction in progress, so a single-threaded run answers exactly as before the window existed.

``item_faults`` lets a test or a simulation say that another writer is busy on an item without any
thread being there (see :data:`ItemFault`), and the engine then answers as DynamoDB does: a
TransactWriteItems or TransactGetItems is cancelled with that item's reason (``TransactionConflict``,
or ``ThrottlingError``) and ``None`` for the others, and a PutItem, UpdateItem or DeleteItem on an
item that transactions write is refused with ``TransactionConflictException``.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from workflowkit.ddb import legacy, reads, requests, writes
from workflowkit.ddb.errors import (
    TRANSACTION_CONFLICT_MESSAGE,
    ConditionalCheckFailedException,
    DynamoDBError,
    ResourceNotFoundException,
    TransactionCanceledException,
    TransactionConflictException,
    ValidationException,
)
from workflowkit.ddb.paths import project
from workflowkit.ddb.table import PrimaryKey, Table
from workflowkit.ddb.values import Item, copy_item

Response = dict[str, Any]
# (operation, table name, the item's key attributes in wire form) -> None when nothing else is busy on
# the item, or the cancellation reason code DynamoDB would give for it: "TransactionConflict" (another
# transaction is in progress on the item) or "ThrottlingError" (for transactions only). Asked for every
# item of a TransactWriteItems or TransactGetItems, and for every PutItem, UpdateItem and DeleteItem of
# an item that a TransactWriteItems has written (only a transaction holds an item against a single
# write), after the request passed validation and before any condition is evaluated.
ItemFault = Callable[[str, str, Item], str | None]
# (table name, the item's key attributes in wire form) of each item a prepared TransactWriteItems holds,
# in request sequence: called in the writer's thread while the transaction is in progress (see the module).
TransactionHook = Callable[[list[tuple[str, Item]]], None]
TRANSACTION_CONFLICT = "TransactionConflict"
# The messages DynamoDB documents for these cancellation reason codes (TransactionCanceledException).
_FAULT_REASONS = {
    TRANSACTION_CONFLICT: TRANSACTION_CONFLICT_MESSAGE,
    "ThrottlingError": (
        "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
        "scaling your table or index so please try again shortly. If exceptions persist, check if you "
        "have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
        "bp-partition-key-design.html."
    ),
}
_MAX_BATCH_GET, _MAX_BATCH_WRITE, _MAX_TRANSACTION = 100, 25, 100
_DUPLICATE_KEYS = "Provided list of item keys contains duplicates"
_DUPLICATE_TRANSACTION_ITEM = "Transaction request cannot include multiple operations on one item"
_TOO_MANY_TRANSACTION_ITEMS = (
    "1 validation error detected at 'transactItems' failed to satisfy constraint: Member must have length "
    "less than or equal to 100."
)
_ONE_WRITE_REQUEST = "A WriteRequest must contain exactly one of PutRequest or DeleteRequest"


class DynamoEngine:
    OPERATIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactWriteItems",
            "TransactGetItems",
        }
    )

    def __init__(self, describe_table: Callable[[str], dict[str, Any] | None]) -> None:
        self._describe_table = describe_table
        self._tables: dict[str, Table] = {}
        self._request_ids = itertools.count(1)
        # Contention (see ItemFault); None: no other writer is ever busy, as without faults.
        self.item_faults: ItemFault | None = None
        # operation -> requests refused or cancelled because of an item fault
        self.contended: Counter[str] = Counter()
        # (table, key) of every item a TransactWriteItems has included (committed or not): the only items
        # a transaction can hold against a single-item write.
        self._transacted: set[tuple[str, PrimaryKey]] = set()
        # One call at a time reads or writes the tables (re-entrant: an item fault may read the engine).
        self._lock = threading.RLock()
        # (table, key) of every item a TransactWriteItems in progress holds, between prepare and commit.
        self._in_progress: set[tuple[str, PrimaryKey]] = set()
        # Called between a TransactWriteItems' prepare and its commit (see TransactionHook); None: nothing.
        self.on_prepared: TransactionHook | None = None
        # operation -> requests refused or cancelled because a transaction in progress held an item
        # (a real overlap between threads; also counted in ``contended``)
        self.overlapped: Counter[str] = Counter()
        self._handlers: dict[str, Callable[[dict[str, Any]], Response]] = {
            "GetItem": self._get_item,
            "PutItem": self._put_item,
            "UpdateItem": self._update_item,
            "DeleteItem": self._delete_item,
            "Query": self._query,
            "Scan": self._scan,
            "BatchGetItem": self._batch_get_item,
            "BatchWriteItem": self._batch_write_item,
            "TransactWriteItems": self._transact_write_items,
            "TransactGetItems": self._transact_get_items,
        }

    def forget_table(self, name: str) -> None:
        """The table was deleted: its schema and items go (a table re-created later starts empty)."""
        with self._lock:
            self._tables.pop(name, None)

    def handle(self, operation: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        handler = self._handlers.get(operation)
        if handler is None:
            raise ValueError(f"{operation} is not one of DynamoEngine.OPERATIONS")
        try:
            if operation == "TransactWriteItems":
                body = self._transact_write_items(request)  # takes the lock for each of its phases
            else:
                with self._lock:
                    body = handler(request)
        except DynamoDBError as error:
            return 400, {
                "Error": {"Code": error.code, "Message": error.message},
                "ResponseMetadata": self._metadata(400),
                **error.modeled_fields(),
            }
        body["ResponseMetadata"] = self._metadata(200)
        return 200, body

    def _metadata(self, status: int) -> dict[str, Any]:
        # A counter, not a uuid: unique per engine and ten times cheaper.
        request_id = f"LOCALDDB{next(self._request_ids):020d}"
        return {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}

    def _table(self, name: Any) -> Table:
        table = self._tables.get(name)
        if table is None:
            description = self._describe_table(name) if isinstance(name, str) else None
            if description is None:
                raise ResourceNotFoundException()
            table = self._tables[name] = Table(description)
        return table

    # --- single items -------------------------------------------------------------------------------
    def _get_item(self, request: dict[str, Any]) -> Response:
        table = self._table(request.get("TableName"))
        request = legacy.translate(request)
        requests.consumed_capacity(request)
        found, paths = reads.get_items(table, [request.get("Key")], request)
        item = found[0][1]
        return {} if item is None else {"Item": reads.render(item, paths)}

    def _put_item(self, request: dict[str, Any]) -> Response:
        table = self._table(request.get("TableName"))
        request = legacy.translate(request)
        returned = requests.return_values(request, ("NONE", "ALL_OLD"))
        requests.consumed_capacity(request)
        write = writes.prepare_put(table, request)
        self._check_single_write("PutItem", write)
        old, new, size = writes.execute(write)
        table.write(write.primary, new, size)
        return {"Attributes": copy_item(old)} if returned == "ALL_OLD" and old is not None else {}

    def _update_item(self, request: dict[str, Any]) -> Response:
        table = self._table(request.get("TableName"))
        request = legacy.translate(request)
        returned = requests.return_values(
            request, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
        )
        requests.consumed_capacity(request)
        write = writes.prepare_update(table, request)
        self._check_single_write("UpdateItem", write)
        old, new, size = writes.execute(write)
        assert new is not None
        table.write(write.primary, new, size)
        if returned == "NONE":
            return {}
        if returned == "ALL_NEW":
            return {"Attributes": copy_item(new)}
        if returned == "ALL_OLD":
            return {"Attributes": copy_item(old)} if old is not None else {}
        source = new if returned == "UPDATED_NEW" else old
        attributes = project(source, write.targets) if source is not None else {}
        return {"Attributes": attributes} if attributes else {}

    def _delete_item(self, request: dict[str, Any]) -> Response:
        table = self._table(request.get("TableName"))
        request = legacy.translate(request)
        returned = requests.return_values(request, ("NONE", "ALL_OLD"))
        requests.consumed_capacity(request)
        write = writes.prepare_delete(table, request)
        self._check_single_write("DeleteItem", write)
        old, _, _ = writes.execute(write)
        if old is not None:
            table.write(write.primary, None)
        return {"Attributes": copy_item(old)} if returned == "ALL_OLD" and old is not None else {}

    def _check_single_write(self, operation: str, write: writes.Write) -> None:
        """Refuse the write when a transaction in progress holds the item, or the item fault says one does."""
        item = (write.table.name, write.primary)
        if item in self._in_progress:
            self.overlapped[operation] += 1
            self.contended[operation] += 1
            raise TransactionConflictException()
        faults = self.item_faults
        if faults is None or item not in self._transacted:
            return
        code = faults(operation, write.table.name, _key_of(write))
        if code is None:
            return
        if code != TRANSACTION_CONFLICT:
            raise ValueError(f"an item fault on {operation} can only be {TRANSACTION_CONFLICT}, not {code!r}")
        self.contended[operation] += 1
        raise TransactionConflictException()

    def _fault_reason(self, operation: str, table: Table, key: Item) -> dict[str, Any] | None:
        """The cancellation reason the item fault gives this item, or None (asked only when one is set)."""
        faults = self.item_faults
        assert faults is not None
        code = faults(operation, table.name, key)
        if code is None:
            return None
        message = _FAULT_REASONS.get(code)
        if message is None:
            raise ValueError(f"an item fault can be one of {sorted(_FAULT_REASONS)}, not {code!r}")
        return {"Code": code, "Message": message}

    # --- reads --------------------------------------------------------------------------------------
    def _query(self, request: dict[str, Any]) -> Response:
        table = self._table(request.get("TableName"))
        request = legacy.translate(request)
        return reads.query(table, request)

    def _scan(self, request: dict[str, Any]) -> Response:
        table = self._table(request.get("TableName"))
        request = legacy.translate(request)
        return reads.scan(table, request)

    def _batch_get_item(self, request: dict[str, Any]) -> Response:
        batches: dict[str, Any] = request.get("RequestItems") or {}
        requests.consumed_capacity(request)
        if sum(len(batch.get("Keys", ())) for batch in batches.values()) > _MAX_BATCH_GET:
            raise ValidationException("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[dict[str, Any]]] = {}
        for name, wire_batch in batches.items():
            table = self._table(name)
            batch = legacy.translate(wire_batch)
            found, paths = reads.get_items(table, batch.get("Keys", []), batch)
            if len({primary for primary, _ in found}) != len(found):
                raise ValidationException(_DUPLICATE_KEYS)
            responses[name] = [reads.render(item, paths) for _, item in found if item is not None]
        return {"Responses": responses, "UnprocessedKeys": {}}

    def _batch_write_item(self, request: dict[str, Any]) -> Response:
        batches: dict[str, Any] = request.get("RequestItems") or {}
        requests.consumed_capacity(request)
        if sum(len(batch) for batch in batches.values()) > _MAX_BATCH_WRITE:
            raise ValidationException("Too many items requested for the BatchWriteItem call")
        # Validate everything first: DynamoDB rejects the whole batch for one bad request.
        planned: list[tuple[Table, PrimaryKey, Any, int]] = []
        for name, batch in batches.items():
            table = self._table(name)
            seen: set[PrimaryKey] = set()
            for entry in batch:
                if len(entry) != 1:
                    raise ValidationException(_ONE_WRITE_REQUEST)
                if "PutRequest" in entry:
                    item, primary, size = requests.item(table, entry["PutRequest"].get("Item"))
                    planned.append((table, primary, item, size))
                else:
                    _, primary = requests.key(table, entry["DeleteRequest"].get("Key"))
                    planned.append((table, primary, None, 0))
                if primary in seen:
                    raise ValidationException(_DUPLICATE_KEYS)
                seen.add(primary)
        # An item a transaction in progress holds is left unprocessed (the caller sends it again, as it
        # does for throttled items): written now, it would be overwritten by the transaction's commit.
        unprocessed: dict[str, list[dict[str, Any]]] = {}
        entries = [(name, entry) for name, batch in batches.items() for entry in batch]
        for (name, entry), (table, primary, item, size) in zip(entries, planned, strict=True):
            if (table.name, primary) in self._in_progress:
                unprocessed.setdefault(name, []).append(entry)
                continue
            table.write(primary, item, size)
        if unprocessed:
            self.overlapped["BatchWriteItem"] += 1
            self.contended["BatchWriteItem"] += 1
        return {"UnprocessedItems": unprocessed}

    # --- transactions -------------------------------------------------------------------------------
    def _prepare_transaction(self, request: dict[str, Any]) -> list[writes.Write]:
        """Every action validated (the whole request is rejected for one bad action), no item twice."""
        entries: list[dict[str, Any]] = request.get("TransactItems") or []
        requests.consumed_capacity(request)
        if len(entries) > _MAX_TRANSACTION:
            raise ValidationException(_TOO_MANY_TRANSACTION_ITEMS)
        prepared: list[writes.Write] = []
        seen: set[tuple[str, PrimaryKey]] = set()
        for entry in entries:
            if len(entry) != 1:
                raise ValidationException(
                    "TransactItems can only contain one of Check, Put, Update or Delete"
                )
            ((kind, action),) = entry.items()
            table = self._table(action.get("TableName"))
            if kind == "Put":
                write = writes.prepare_put(table, action)
            elif kind == "Update":
                write = writes.prepare_update(table, action)
            elif kind in ("Delete", "ConditionCheck"):
                write = writes.prepare_delete(table, action, kind)
            else:
                raise ValidationException(
                    "TransactItems can only contain one of Check, Put, Update or Delete"
                )
            if (table.name, write.primary) in seen:
                raise ValidationException(_DUPLICATE_TRANSACTION_ITEM)
            seen.add((table.name, write.primary))
            prepared.append(write)
        return prepared

    def _transact_write_items(self, request: dict[str, Any]) -> Response:
        with self._lock:
            outcomes = self._prepare_writes(request)
            held = [(write.table.name, write.primary) for write, _, _ in outcomes]
            self._in_progress.update(held)
        # In progress: the lock is let go, so other threads' calls meet the held items (see the module).
        hook = self.on_prepared
        if hook is not None:
            try:
                hook([(write.table.name, _key_of(write)) for write, _, _ in outcomes])
            except BaseException:
                with self._lock:  # the writer went away before committing: nothing is stored
                    self._in_progress.difference_update(held)
                raise
        with self._lock:
            for write, new, size in outcomes:
                if write.kind != "ConditionCheck":
                    write.table.write(write.primary, new, size)
            self._in_progress.difference_update(held)
        return {}

    def _prepare_writes(self, request: dict[str, Any]) -> list[tuple[writes.Write, Any, int]]:
        """Every action's outcome (the item to store), or the cancellation: the transaction's prepare."""
        prepared = self._prepare_transaction(request)
        # Every action is evaluated against the state before the transaction (no item appears twice),
        # and nothing is stored unless all of them pass.
        outcomes: list[tuple[writes.Write, Any, int]] = []
        reasons: list[dict[str, Any]] = []
        failed = contended = overlapped = False
        in_progress, faults = self._in_progress, self.item_faults
        for write in prepared:
            item = (write.table.name, write.primary)
            self._transacted.add(item)
            # Another writer busy on the item: DynamoDB cancels for it without evaluating its condition.
            # A transaction in progress on it is a real conflict; otherwise the item fault may say so.
            busy: dict[str, Any] | None = None
            if item in in_progress:
                busy, overlapped = _conflict_reason(), True
            elif faults is not None:
                busy = self._fault_reason("TransactWriteItems", write.table, _key_of(write))
            if busy is not None:
                failed = contended = True
                reasons.append(busy)
                continue
            try:
                _, new, size = writes.execute(write)
            except ConditionalCheckFailedException as error:
                failed = True
                reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": error.message}
                if error.item is not None:
                    reason["Item"] = error.item
                reasons.append(reason)
                continue
            except ValidationException as error:
                failed = True
                reasons.append({"Code": "ValidationError", "Message": error.message})
                continue
            reasons.append({"Code": "None"})
            outcomes.append((write, new, size))
        if failed:
            if contended:
                self.contended["TransactWriteItems"] += 1
            if overlapped:
                self.overlapped["TransactWriteItems"] += 1
            raise TransactionCanceledException(reasons)
        return outcomes

    def _transact_get_items(self, request: dict[str, Any]) -> Response:
        entries: list[dict[str, Any]] = request.get("TransactItems") or []
        requests.consumed_capacity(request)
        if len(entries) > _MAX_TRANSACTION:
            raise ValidationException(_TOO_MANY_TRANSACTION_ITEMS)
        responses: list[dict[str, Any]] = []
        gets: list[tuple[Table, PrimaryKey, Any]] = []
        seen: set[tuple[str, PrimaryKey]] = set()
        for entry in entries:
            action = entry.get("Get")
            if action is None or len(entry) != 1:
                raise ValidationException("TransactItems can only contain one Get")
            table = self._table(action.get("TableName"))
            found, paths = reads.get_items(table, [action.get("Key")], action)
            primary, item = found[0]
            if (table.name, primary) in seen:
                raise ValidationException(_DUPLICATE_TRANSACTION_ITEM)
            seen.add((table.name, primary))
            gets.append((table, primary, action.get("Key")))
            responses.append({} if item is None else {"Item": reads.render(item, paths)})
        if self.item_faults is not None or self._in_progress:
            # As for TransactWriteItems: a transaction in progress on an item, else the item fault.
            reasons: list[dict[str, Any] | None] = []
            overlapped = False
            for table, primary, wire in gets:
                if (table.name, primary) in self._in_progress:
                    reasons.append(_conflict_reason())
                    overlapped = True
                elif self.item_faults is not None:
                    key = requests.key(table, wire)[0]
                    reasons.append(self._fault_reason("TransactGetItems", table, key))
                else:
                    reasons.append(None)
            if any(reason is not None for reason in reasons):
                self.contended["TransactGetItems"] += 1
                if overlapped:
                    self.overlapped["TransactGetItems"] += 1
                raise TransactionCanceledException([reason or {"Code": "None"} for reason in reasons])
        return {"Responses": responses}

    def stored(self, table_name: str, key: dict[str, Any]) -> tuple[Item, int] | None:
        """The item stored under the key attributes of ``key`` (wire form; other attributes are ignored)
        and its size as DynamoDB counts it, or None: what a meter reads to count capacity units."""
        with self._lock:
            table = self._tables.get(table_name)
            if table is None:
                return None
            try:
                _, primary = requests.key(table, {name: key[name] for name in table.key_names})
            except (KeyError, DynamoDBError):
                return None
            return table.get_sized(primary)


def _conflict_reason() -> dict[str, Any]:
    """The cancellation reason of an item another transaction in progress holds."""
    return {"Code": TRANSACTION_CONFLICT, "Message": _FAULT_REASONS[TRANSACTION_CONFLICT]}


def _key_of(write: writes.Write) -> Item:
    """The written item's key attributes (a copy: an item fault may keep it)."""
    key = write.table.key_attributes(write.item) if write.kind == "Put" and write.item else write.key
    return copy_item(key)
