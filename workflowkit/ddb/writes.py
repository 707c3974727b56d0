"""Single-item writes (Put, Update, Delete, ConditionCheck) as a prepare/execute pair.

``prepare`` does everything DynamoDB validates from the request alone (keys, expressions, placeholders);
``execute`` reads the current item, checks the condition and computes the new item without storing
it. PutItem & co. run both and store; TransactWriteItems prepares every action, executes every action
(collecting cancellation reasons), and stores only when all of them succeeded, so a cancelled
transaction never has anything to roll back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflowkit.ddb import requests, updates
from workflowkit.ddb.conditions import evaluate
from workflowkit.ddb.errors import ConditionalCheckFailedException, ValidationException
from workflowkit.ddb.paths import Path
from workflowkit.ddb.table import PrimaryKey, Table
from workflowkit.ddb.tree import Parsed
from workflowkit.ddb.values import MAX_ITEM_SIZE, Item, Value, attribute_size, copy_item, item_size

EMPTY: Item = {}


@dataclass(slots=True)
class Write:
    kind: str  # Put, Update, Delete, ConditionCheck
    table: Table
    primary: PrimaryKey
    key: Item  # the key attributes (for Update, the item it creates when none exists)
    item: Item | None  # Put: the new item
    size: int
    condition: Parsed | None
    update: Parsed | None
    targets: list[Path]
    names: Mapping[str, str]
    values: Mapping[str, Value]
    return_on_failure: bool


def prepare_put(table: Table, request: dict[str, Any]) -> Write:
    new, primary, size = requests.item(table, request.get("Item"))
    condition = requests.condition(request)
    names, values = requests.expressions(request, condition)
    return Write(
        "Put",
        table,
        primary,
        EMPTY,
        new,
        size,
        condition,
        None,
        [],
        names,
        values,
        requests.on_condition_failure(request),
    )


def prepare_update(table: Table, request: dict[str, Any]) -> Write:
    key, primary = requests.key(table, request.get("Key"))
    update = requests.update(request)
    condition = requests.condition(request)
    names, values = requests.expressions(request, update, condition)
    targets: list[Path] = []
    if update is not None:
        targets = updates.target_paths(update, names)
        for target in targets:
            if target[0] in table.key_names:
                raise ValidationException(
                    f"One or more parameter values were invalid: Cannot update attribute {target[0]}. "
                    "This attribute is part of the key"
                )
        updates.check_action_values(update, values)
    return Write(
        "Update",
        table,
        primary,
        key,
        None,
        0,
        condition,
        update,
        targets,
        names,
        values,
        requests.on_condition_failure(request),
    )


def prepare_delete(table: Table, request: dict[str, Any], kind: str = "Delete") -> Write:
    key, primary = requests.key(table, request.get("Key"))
    condition = requests.condition(request)
    if kind == "ConditionCheck" and condition is None:
        raise ValidationException("The ConditionExpression parameter is required for a ConditionCheck")
    names, values = requests.expressions(request, condition)
    return Write(
        kind,
        table,
        primary,
        key,
        None,
        0,
        condition,
        None,
        [],
        names,
        values,
        requests.on_condition_failure(request),
    )


def execute(write: Write) -> tuple[Item | None, Item | None, int]:
    """(current item, item to store or None to delete, its size); raises when the write must not happen."""
    table = write.table
    found = table.get_sized(write.primary)
    old, old_size = found if found is not None else (None, 0)
    if write.condition is not None and not evaluate(write.condition, old or EMPTY, write.names, write.values):
        raise ConditionalCheckFailedException(copy_item(old) if write.return_on_failure and old else None)
    kind = write.kind
    if kind == "Put":
        return old, write.item, write.size
    if kind == "Delete":
        return old, None, 0
    if kind == "ConditionCheck":
        return old, old, old_size
    base = old if old is not None else write.key
    if write.update is None:
        new = dict(base)
    else:
        new = updates.apply(write.update, base, write.targets, write.names, write.values)
    if table.index_keys:
        table.check_index_keys(new)
    size = _updated_size(write, old, old_size, new)
    if size > MAX_ITEM_SIZE:
        raise ValidationException("Item size to update has exceeded the maximum allowed size")
    return old, new, size


def _updated_size(write: Write, old: Item | None, old_size: int, new: Item) -> int:
    if old is None:
        return item_size(new)
    # Only the top-level attributes an action touched can have changed size.
    size = old_size
    for name in {target[0] for target in write.targets}:
        assert isinstance(name, str)
        if name in old:
            size -= attribute_size(name, old[name])
        if name in new:
            size += attribute_size(name, new[name])
    return size
