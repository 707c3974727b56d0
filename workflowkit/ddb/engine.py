"""The engine: DynamoDB's data-plane operations answered in-process, in botocore's parsed shapes.

``handle(operation, request)`` takes the JSON body botocore serialised and returns what botocore's
parser would have returned for DynamoDB's response, so a caller short-circuiting botocore's
``before-call`` event sees exactly what it would have seen over HTTP: results, or an error botocore
raises as ``client.exceptions.<Code>``. The control plane (CreateTable, DescribeTable, ...) is not here:
the engine asks ``describe_table`` for a table's schema the first time it sees the table's name.

Contention is not something an in-process engine meets by itself: a transaction here is over before
any other call starts. ``item_faults`` lets a test or a simulation say that another writer is busy on
an item (see :data:`ItemFault`), and the engine then answers as DynamoDB does: a TransactWriteItems or
TransactGetItems is cancelled with that item's reason (``TransactionConflict``, or ``ThrottlingError``)
and ``None`` for the others, and a PutItem, UpdateItem or DeleteItem on an item that transactions write
is refused with ``TransactionConflictException``.
"""

from __future__ import annotations

import itertools
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
        self._tables.pop(name, None)

    def handle(self, operation: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        handler = self._handlers.get(operation)
        if handler is None:
            raise ValueError(f"{operation} is not one of DynamoEngine.OPERATIONS")
        try:
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
        """Refuse the write when the item fault says a transaction in progress holds the item."""
        faults = self.item_faults
        if faults is None or (write.table.name, write.primary) not in self._transacted:
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
        for table, primary, item, size in planned:
            table.write(primary, item, size)
        return {"UnprocessedItems": {}}

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
        prepared = self._prepare_transaction(request)
        # Every action is evaluated against the state before the transaction (no item appears twice),
        # and nothing is stored unless all of them pass.
        outcomes: list[tuple[writes.Write, Any, int]] = []
        reasons: list[dict[str, Any]] = []
        failed = contended = False
        faults = self.item_faults
        for write in prepared:
            self._transacted.add((write.table.name, write.primary))
            # Another writer busy on the item: DynamoDB cancels for it without evaluating its condition.
            busy = (
                None
                if faults is None
                else self._fault_reason("TransactWriteItems", write.table, _key_of(write))
            )
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
            raise TransactionCanceledException(reasons)
        for write, new, size in outcomes:
            if write.kind != "ConditionCheck":
                write.table.write(write.primary, new, size)
        return {}

    def _transact_get_items(self, request: dict[str, Any]) -> Response:
        entries: list[dict[str, Any]] = request.get("TransactItems") or []
        requests.consumed_capacity(request)
        if len(entries) > _MAX_TRANSACTION:
            raise ValidationException(_TOO_MANY_TRANSACTION_ITEMS)
        responses: list[dict[str, Any]] = []
        gets: list[tuple[Table, Any]] = []
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
            gets.append((table, action.get("Key")))
            responses.append({} if item is None else {"Item": reads.render(item, paths)})
        if self.item_faults is not None:
            reasons = [
                self._fault_reason("TransactGetItems", table, requests.key(table, wire)[0])
                for table, wire in gets
            ]
            if any(reason is not None for reason in reasons):
                self.contended["TransactGetItems"] += 1
                raise TransactionCanceledException([reason or {"Code": "None"} for reason in reasons])
        return {"Responses": responses}


def _key_of(write: writes.Write) -> Item:
    """The written item's key attributes (a copy: an item fault may keep it)."""
    key = write.table.key_attributes(write.item) if write.kind == "Put" and write.item else write.key
    return copy_item(key)
