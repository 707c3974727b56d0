"""Request validation shared by the operations: keys, items, placeholders, projections, enums."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflowkit.ddb.conditions import check_values
from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.expressions import parse_condition, parse_projection, parse_update
from workflowkit.ddb.paths import Path, check_overlaps
from workflowkit.ddb.table import Index, PrimaryKey, Table
from workflowkit.ddb.tree import Parsed
from workflowkit.ddb.values import MAX_ITEM_SIZE, Item, Value, convert, convert_item, convert_values

NO_NAMES: Mapping[str, str] = {}
NO_VALUES: Mapping[str, Value] = {}
KEY_MISMATCH = "The provided key element does not match the schema"
HASH_KEY_LIMIT, RANGE_KEY_LIMIT = 2048, 1024


def empty_key_message(name: str) -> str:
    return (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
        f"an empty string value. Key: {name}"
    )


def key(table: Table, wire: Any, message: str = KEY_MISMATCH) -> tuple[Item, PrimaryKey]:
    """A request's Key: exactly the table's key attributes, of the schema's types, not empty."""
    if not isinstance(wire, dict) or len(wire) != len(table.key_names):
        raise ValidationException(message)
    converted: Item = {}
    for name in table.key_names:
        raw = wire.get(name)
        if raw is None:
            raise ValidationException(message)
        value = convert(raw)[0]
        expected = table.hash_type if name == table.hash_name else table.range_type
        if expected not in value:
            raise ValidationException(message)
        if value[expected] in ("", b""):
            raise ValidationException(empty_key_message(name))
        check_key_size(name == table.hash_name, value[expected])  # as for PutItem's item
        converted[name] = value
    return converted, table.primary_key(converted)


def item(table: Table, wire: Any) -> tuple[Item, PrimaryKey, int]:
    """A whole item to store: validated values, present and well-typed keys, size within limits."""
    converted, size = convert_item(wire)
    for name in table.key_names:
        value = converted.get(name)
        if value is None:
            raise ValidationException(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
            )
        expected = table.hash_type if name == table.hash_name else table.range_type
        assert expected is not None
        if expected not in value:
            raise ValidationException(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{name} expected: {expected} actual: {next(iter(value))}"
            )
        raw = value[expected]
        if raw in ("", b""):
            raise ValidationException(empty_key_message(name))
        check_key_size(name == table.hash_name, raw)
    if table.index_keys:
        table.check_index_keys(converted)
    if size > MAX_ITEM_SIZE:
        raise ValidationException("Item size has exceeded the maximum allowed size")
    return converted, table.primary_key(converted), size


def check_key_size(is_hash: bool, raw: Any) -> None:
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if is_hash and size > HASH_KEY_LIMIT:
        raise ValidationException(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit "
            f"of{HASH_KEY_LIMIT} bytes"
        )
    if not is_hash and size > RANGE_KEY_LIMIT:
        raise ValidationException(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the "
            f"size limit of {RANGE_KEY_LIMIT} bytes"
        )


def expressions(
    request: dict[str, Any], *parsed: Parsed | None
) -> tuple[Mapping[str, str], Mapping[str, Value]]:
    """Check the request's #names and :values against the expressions that use them; convert the values."""
    raw_names = request.get("ExpressionAttributeNames")
    raw_values = request.get("ExpressionAttributeValues")
    used = [expression for expression in parsed if expression is not None]
    names: Mapping[str, str] = NO_NAMES
    values: Mapping[str, Value] = NO_VALUES
    if raw_names is not None:
        if not raw_names:
            raise ValidationException("ExpressionAttributeNames must not be empty")
        if not used:
            raise ValidationException("ExpressionAttributeNames can only be specified when using expressions")
        for placeholder in raw_names:
            if not placeholder.startswith("#"):
                raise ValidationException(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{placeholder}"'
                )
        names = raw_names
    if raw_values is not None:
        if not raw_values:
            raise ValidationException("ExpressionAttributeValues must not be empty")
        if not used:
            raise ValidationException(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        for placeholder in raw_values:
            if not placeholder.startswith(":"):
                raise ValidationException(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{placeholder}"'
                )
        values = convert_values(raw_values)
    used_names: set[str] = set()
    used_values: set[str] = set()
    for expression in used:
        for placeholder in expression.names:
            if placeholder not in names:
                raise ValidationException(
                    f"Invalid {expression.label}: An expression attribute name used in the document path is "
                    f"not defined; attribute name: {placeholder}"
                )
        for placeholder in expression.values:
            if placeholder not in values:
                raise ValidationException(
                    f"Invalid {expression.label}: An expression attribute value used in expression is not "
                    f"defined; attribute value: {placeholder}"
                )
        used_names |= expression.names
        used_values |= expression.values
    if len(used_names) != len(names):
        unused = ", ".join(sorted(set(names) - used_names))
        raise ValidationException(
            f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{unused}}}"
        )
    if len(used_values) != len(values):
        unused = ", ".join(sorted(set(values) - used_values))
        raise ValidationException(
            f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{unused}}}"
        )
    for expression in used:
        if expression.value_checks:
            check_values(expression, values)
    return names, values


def condition(request: dict[str, Any], field: str = "ConditionExpression") -> Parsed | None:
    text = request.get(field)
    if text is None:
        return None
    label = "ConditionExpression" if field == "ConditionExpression" else field
    return parse_condition(text, label)


def update(request: dict[str, Any]) -> Parsed | None:
    text = request.get("UpdateExpression")
    return None if text is None else parse_update(text)


def projection(request: dict[str, Any]) -> tuple[Parsed | None, list[str] | None]:
    """The parsed ProjectionExpression, or the legacy AttributesToGet list (never both)."""
    text = request.get("ProjectionExpression")
    attributes = request.get("AttributesToGet")
    if text is not None and attributes is not None:
        raise ValidationException(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"
        )
    if attributes is not None:
        return None, list(attributes)
    return (None if text is None else parse_projection(text)), None


def projection_paths(
    parsed: Parsed | None, attributes: list[str] | None, names: Mapping[str, str]
) -> list[Path] | None:
    if attributes is not None:
        return [(name,) for name in dict.fromkeys(attributes)]
    if parsed is None:
        return None
    resolved: list[Path] = [
        tuple(names[e] if type(e) is str and e[0] == "#" else e for e in path.elements)
        for path in parsed.root
    ]
    if len(resolved) > 1:
        check_overlaps(resolved, "ProjectionExpression")
    return resolved


def return_values(request: dict[str, Any], allowed: tuple[str, ...]) -> str:
    chosen = request.get("ReturnValues", "NONE")
    if chosen not in allowed:
        raise ValidationException("Return values set to invalid value")
    return str(chosen)


def on_condition_failure(request: dict[str, Any]) -> bool:
    """Whether the caller wants the item back when a condition fails (ReturnValuesOnConditionCheckFailure)."""
    chosen = request.get("ReturnValuesOnConditionCheckFailure", "NONE")
    if chosen not in ("NONE", "ALL_OLD"):
        raise ValidationException(
            f"1 validation error detected: Value '{chosen}' at 'returnValuesOnConditionCheckFailure' failed "
            "to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        )
    return bool(chosen == "ALL_OLD")


def consumed_capacity(request: dict[str, Any]) -> None:
    chosen = request.get("ReturnConsumedCapacity", "NONE")
    if chosen not in ("NONE", "TOTAL", "INDEXES"):
        raise ValidationException(
            f"1 validation error detected: Value '{chosen}' at 'returnConsumedCapacity' failed to satisfy "
            "constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )


def index(table: Table, name: str | None) -> Index | None:
    if name is None:
        return None
    found = table.indexes.get(name)
    if found is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    return found
