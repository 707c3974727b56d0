"""DynamoDB on the local cloud: the data plane answered by :mod:`workflowkit.ddb`, the rest by moto.

moto's DynamoDB costs 1-10 ms per call (its HTTP layer, its expression parser, whole-table deep copies
per transaction); a workflow makes ~35 calls. The engine answers every data-plane call through the
fast path in tens of microseconds; tables are still created, described and deleted by moto (from the
template), and the engine learns a table's key schema and indexes from moto's description the first
time the table is used. moto's own item store is left empty, so code calling moto's backend directly
would read nothing: moto's data methods are closed while the local cloud runs, with an error saying
why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.dynamodb.exceptions import ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend

from workflowkit.answers import register_dynamodb
from workflowkit.context import Backends
from workflowkit.ddb import DynamoEngine

if TYPE_CHECKING:
    from workflowkit.fastpath import FastPath

_MOTO_DATA_METHODS = (
    "put_item",
    "get_item",
    "query",
    "scan",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "execute_statement",  # PartiQL: not in the engine, and moto's store is empty
    "execute_transaction",
    "batch_execute_statement",
)


class DataPlaneBypassedError(RuntimeError):
    """A DynamoDB data call reached moto instead of the local cloud's engine."""


class IndexChangeUnsupportedError(RuntimeError):
    """UpdateTable tried to add, change or delete a global secondary index at run time."""


class DynamoDBService:
    """``backends``: moto's backends of the local cloud (its tables' descriptions; its account and region)."""

    def __init__(self, backends: Backends) -> None:
        self._backends = backends
        self.engine = DynamoEngine(self._describe)
        self._saved: list[tuple[str, Any]] = []

    def install(self, fast_path: FastPath) -> None:
        register_dynamodb(fast_path, self.engine)
        original_delete = DynamoDBBackend.delete_table
        engine = self.engine

        def delete_table(backend: DynamoDBBackend, name: str) -> Any:
            table = original_delete(backend, name)
            engine.forget_table(name)
            return table

        original_update = DynamoDBBackend.update_table
        backends = self._backends

        def update_table(backend: DynamoDBBackend, name: str, *args: Any, **kwargs: Any) -> Any:
            global_index = kwargs.get("global_index", args[1] if len(args) > 1 else None)
            if global_index and backends.owns(backend):
                # The engine's indexes are built as items are written; a new index would start empty.
                raise IndexChangeUnsupportedError(
                    f"UpdateTable with GlobalSecondaryIndexUpdates on {name}: the local cloud's DynamoDB "
                    "engine takes a table's indexes from the template; add the index there instead."
                )
            return original_update(backend, name, *args, **kwargs)

        self._patch("delete_table", delete_table)
        self._patch("update_table", update_table)
        for method in _MOTO_DATA_METHODS:
            self._patch(method, _closed(method, getattr(DynamoDBBackend, method), backends))

    def uninstall(self) -> None:
        for name, original in reversed(self._saved):
            setattr(DynamoDBBackend, name, original)
        self._saved.clear()

    def _patch(self, name: str, replacement: Callable[..., Any]) -> None:
        self._saved.append((name, getattr(DynamoDBBackend, name)))
        setattr(DynamoDBBackend, name, replacement)

    def _describe(self, name: str) -> dict[str, Any] | None:
        try:
            description: dict[str, Any] = self._backends("dynamodb").describe_table(name)["Table"]
        except ResourceNotFoundException:
            return None
        return description


def _closed(method: str, original: Callable[..., Any], backends: Backends) -> Callable[..., Any]:
    def refuse(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if not backends.owns(backend):
            return original(backend, *args, **kwargs)  # another region's moto: not the local cloud's
        raise DataPlaneBypassedError(
            f"DynamoDB {method} reached moto's backend while a LocalCloud runs: the local cloud's "
            "DynamoDB data lives in its engine (workflowkit.ddb), which boto3 clients reach; calls "
            "straight into moto's backend would read and write a separate, empty store."
        )

    return refuse
