"""The engine: DynamoDB's data-plane operations answered in-process, in botocore's parsed shapes.

``handle(operation, request)`` takes the JSON body botocore serialised and returns what botocore's
parser would have returned for DynamoDB's response, so a caller short-circuiting botocore's
``before-call`` event sees exactly what it would have seen over HTTP: results, or an error botocore
raises as ``client.exceptions.<Code>``. The control plane (CreateTable, DescribeTable, ...) is not here:
the engine asks ``describe_table`` for a table's schema the first time it sees the table's name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, ClassVar

from workflowkit.ddb import legacy, reads, requests, writes
from workflowkit.ddb.errors import (
    ConditionalCheckFailedException,
    DynamoDBError,
    ResourceNotFoundException,
    TransactionCanceledException,
    ValidationException,
)
from workflowkit.ddb.paths import project
from workflowkit.ddb.table import PrimaryKey, Table
from workflowkit.ddb.values import copy_item

Response = dict[str, Any]
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
        # A counter, not a uuid: unique per engine and an order of magnitude cheaper.
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
        old, _, _ = writes.execute(write)
        if old is not None:
            table.write(write.primary, None)
        return {"Attributes": copy_item(old)} if returned == "ALL_OLD" and old is not None else {}

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
    def _transact_write_items(self, request: dict[str, Any]) -> Response:
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
        # Every action is evaluated against the state before the transaction (no item appears twice),
        # and nothing is stored unless all of them pass.
        outcomes: list[tuple[writes.Write, Any, int]] = []
        reasons: list[dict[str, Any]] = []
        failed = False
        for write in prepared:
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
            responses.append({} if item is None else {"Item": reads.render(item, paths)})
        return {"Responses": responses}
