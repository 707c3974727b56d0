"""Applying a parsed UpdateExpression to an item, as DynamoDB does.

Every right-hand side is evaluated against the item as it was before the update (``SET a = b, b = a``
swaps), then SET, REMOVE, ADD and DELETE are applied to a shallow copy of the item with copy-on-write
below the top level, so the stored item is never touched.
"""

from __future__ import annotations

from typing import Any

from workflowkit.ddb import paths
from workflowkit.ddb.conditions import Names, Values, path_value
from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.paths import Path
from workflowkit.ddb.tree import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    Parsed,
    PathOperand,
    UpdateAction,
    ValueOperand,
)
from workflowkit.ddb.values import SET_TYPES, Item, Value, add_numbers

_LABEL = "UpdateExpression"
_HUMAN_TYPES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
}
_HUMAN_TYPES.update({"SS": "STRING_SET", "NS": "NUMBER_SET", "BS": "BINARY_SET"})
INCORRECT_DATA_TYPE = "An operand in the update expression has an incorrect data type"
MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"


def resolve(elements: tuple[str | int, ...], names: Names) -> Path:
    return tuple(names[e] if type(e) is str and e[0] == "#" else e for e in elements)


def target_paths(parsed: Parsed, names: Names) -> list[Path]:
    """The resolved path of every action, checked for overlaps (needed before evaluating anything)."""
    targets = [resolve(action.path.elements, names) for action in parsed.root]
    if len(targets) > 1:
        paths.check_overlaps(targets, _LABEL)
    return targets


def check_action_values(parsed: Parsed, values: Values) -> None:
    """ADD takes a number or a set, DELETE a set: DynamoDB checks the :value before reading the item."""
    for action in parsed.root:
        if action.clause in ("ADD", "DELETE"):
            kind = next(iter(values[action.value.placeholder]))
            allowed = ("N", *SET_TYPES) if action.clause == "ADD" else tuple(SET_TYPES)
            if kind not in allowed:
                raise ValidationException(
                    f"Invalid {_LABEL}: Incorrect operand type for operator or function; operator: "
                    f"{action.clause}, operand type: {_HUMAN_TYPES[kind]}, typeSet: "
                    f"ALLOWED_FOR_{action.clause}_OPERAND"
                )


def _operand(node: Any, item: Item, names: Names, values: Values) -> Value:
    if type(node) is ValueOperand:
        return values[node.placeholder]
    if type(node) is PathOperand:
        found = path_value(node.elements, item, names)
        if found is None:
            raise ValidationException(MISSING_ATTRIBUTE)
        return found
    if type(node) is IfNotExists:
        existing = path_value(node.path.elements, item, names)
        return existing if existing is not None else _operand(node.default, item, names, values)
    if type(node) is ListAppend:
        first, second = _operand(node.first, item, names, values), _operand(node.second, item, names, values)
        for operand in (first, second):
            if "L" not in operand:
                raise ValidationException(
                    f"Invalid {_LABEL}: Incorrect operand type for operator or function; "
                    f"operator or function: list_append, operand type: {next(iter(operand))}"
                )
        return {"L": (*first["L"], *second["L"])}
    assert type(node) is Arithmetic
    left, right = _operand(node.left, item, names, values), _operand(node.right, item, names, values)
    for operand in (left, right):
        if "N" not in operand:
            raise ValidationException(
                f"Invalid {_LABEL}: Incorrect operand type for operator or function; "
                f"operator or function: {node.operator}, operand type: {next(iter(operand))}"
            )
    return {"N": add_numbers(left["N"], right["N"], subtract=node.operator == "-")}


def apply(parsed: Parsed, old: Item, targets: list[Path], names: Names, values: Values) -> Item:
    """The updated item (a new dict; ``old`` is left as it was)."""
    actions: tuple[UpdateAction, ...] = parsed.root
    # Right-hand sides first, all against the old item.
    computed: list[Value | None] = [
        _operand(action.value, old, names, values) if action.clause == "SET" else None for action in actions
    ]
    new = dict(old)
    removals: list[Path] = []
    for action, target, value in zip(actions, targets, computed, strict=True):
        clause = action.clause
        if clause == "SET":
            assert value is not None
            paths.set_value(new, target, value)
        elif clause == "REMOVE":
            removals.append(target)
        elif clause == "ADD":
            _add(new, target, values[action.value.placeholder])
        else:
            _delete(new, target, values[action.value.placeholder])
    # Indexes in one REMOVE refer to the list as it was: remove the highest first so none shifts.
    for target in sorted(removals, key=_removal_rank, reverse=True):
        paths.remove(new, target)
    return new


def _removal_rank(path: Path) -> tuple[tuple[int, Any], ...]:
    return tuple((1, element) if type(element) is int else (0, element) for element in path)


def _add(item: Item, target: Path, addend: Value) -> None:
    existing = paths.get(item, target)
    if existing is None:
        paths.set_value(item, target, addend)
        return
    kind = next(iter(addend))
    if kind not in existing:
        raise ValidationException(INCORRECT_DATA_TYPE)
    if kind == "N":
        paths.set_value(item, target, {"N": add_numbers(existing["N"], addend["N"])})
        return
    present = set(existing[kind])
    merged = (*existing[kind], *(member for member in addend[kind] if member not in present))
    paths.set_value(item, target, {kind: merged})


def _delete(item: Item, target: Path, removed: Value) -> None:
    existing = paths.get(item, target)
    if existing is None:
        return
    kind = next(iter(removed))
    if kind not in existing:
        raise ValidationException(INCORRECT_DATA_TYPE)
    gone = set(removed[kind])
    kept = tuple(member for member in existing[kind] if member not in gone)
    if kept:
        paths.set_value(item, target, {kind: kept})
    else:
        paths.remove(item, target)  # DynamoDB has no empty sets: the attribute goes away
