"""DynamoDB transactions on the local cloud: roll back only the items a transaction touched.

moto backs up a transaction by deep-copying every table it names, so each ``TransactWriteItems``
costs time proportional to the table's size: the controller's history table grows with every event,
and a run of a thousand workflows spends most of its time copying it. Here the backup is a journal
of the touched items' prior states (at most 100 per transaction); moto's own logic still validates
and applies the transaction, and on cancellation the journal puts every touched item back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_MISSING = object()


class TransactionJournal:
    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        self._copying_tables = False

    def install(self) -> None:
        original = DynamoDBBackend.transact_write_items
        original_table_deepcopy = getattr(Table, "__deepcopy__", None)
        journal = self

        def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
            before = journal._pre_images(backend, transact_items)
            with journal._tables_copy_by_reference():
                try:
                    original(backend, transact_items)
                except Exception:
                    journal._restore(before)
                    raise

        def table_deepcopy(table: Table, memo: dict[int, Any]) -> Any:
            if journal._copying_tables:
                return table  # the journal is the backup: moto's "restore" assigns the same table back
            if original_table_deepcopy is not None:
                return original_table_deepcopy(table, memo)
            return _default_deepcopy(table, memo)

        self._patch(DynamoDBBackend, "transact_write_items", transact_write_items)
        self._patch(Table, "__deepcopy__", table_deepcopy)

    def uninstall(self) -> None:
        for owner, name, value in reversed(self._saved):
            if value is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        self._saved.clear()

    def _patch(self, owner: Any, name: str, replacement: Callable[..., Any]) -> None:
        self._saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, replacement)

    @contextmanager
    def _tables_copy_by_reference(self) -> Iterator[None]:
        self._copying_tables = True
        try:
            yield
        finally:
            self._copying_tables = False

    @staticmethod
    def _pre_images(
        backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
    ) -> list[tuple[Table, Any, Any, Any]]:
        """(table, hash value, range value, deep copy of the item or None) for every touched item."""
        images = []
        for entry in transact_items:
            _, operation = next(iter(entry.items()))
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue
            key = operation.get("Key") or operation.get("Item") or {}
            if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue  # malformed: moto rejects it, nothing was touched
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            current = table.get_item(hash_value, range_value)
            images.append((table, hash_value, range_value, copy.deepcopy(current)))
        return images

    @staticmethod
    def _restore(images: list[tuple[Table, Any, Any, Any]]) -> None:
        for table, hash_value, range_value, item in reversed(images):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item


def _default_deepcopy(table: Table, memo: dict[int, Any]) -> Any:
    clone = Table.__new__(Table)
    memo[id(table)] = clone
    for name, value in table.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone
