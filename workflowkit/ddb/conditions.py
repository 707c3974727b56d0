"""Evaluating parsed condition/filter expressions, and reading a key condition into a key range."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.tree import (
    And,
    Between,
    Comparison,
    Function,
    In,
    Not,
    Or,
    Parsed,
    PathOperand,
    SizeOperand,
    ValueOperand,
)
from workflowkit.ddb.values import ALL_TYPES, SET_TYPES, Item, Value, compare, equal

Names = Mapping[str, str]
Values = Mapping[str, Value]


class _OperandTypeError(Exception):
    """Raised deep inside evaluation; turned into a ValidationException naming the expression."""

    def __init__(self, function: str, kind: str) -> None:
        super().__init__(function, kind)
        self.function = function
        self.kind = kind


def path_value(elements: tuple[str | int, ...], item: Item, names: Names) -> Value | None:
    first = elements[0]
    assert isinstance(first, str)
    value = item.get(names[first] if first[0] == "#" else first)
    for element in elements[1:]:
        if value is None:
            return None
        if type(element) is int:
            elements_list = value.get("L")
            if elements_list is None or element >= len(elements_list):
                return None
            value = elements_list[element]
        else:
            members = value.get("M")
            if members is None:
                return None
            name = element
            assert isinstance(name, str)
            value = members.get(names[name] if name[0] == "#" else name)
    return value


def operand_value(node: Any, item: Item, names: Names, values: Values) -> Value | None:
    if type(node) is PathOperand:
        return path_value(node.elements, item, names)
    if type(node) is ValueOperand:
        return values[node.placeholder]
    assert isinstance(node, SizeOperand)
    target = path_value(node.path.elements, item, names)
    if target is None:
        return None
    ((kind, raw),) = target.items()
    if kind in ("N", "BOOL", "NULL"):
        raise _OperandTypeError("size", kind)
    return {"N": str(len(raw))}


def _compare(operator: str, left: Value | None, right: Value | None) -> bool:
    if operator == "=":
        return left is not None and right is not None and equal(left, right)
    if operator == "<>":
        # A missing attribute is "not equal" to anything: DynamoDB evaluates `a <> :v` to true then.
        return left is None or right is None or not equal(left, right)
    if left is None or right is None:
        return False
    sign = compare(left, right)
    if sign is None:
        return False
    if operator == "<":
        return sign < 0
    if operator == "<=":
        return sign <= 0
    if operator == ">":
        return sign > 0
    return sign >= 0


def _function(node: Function, item: Item, names: Names, values: Values) -> bool:
    name = node.name
    target = operand_value(node.arguments[0], item, names, values)
    if name == "attribute_exists":
        return target is not None
    if name == "attribute_not_exists":
        return target is None
    argument = operand_value(node.arguments[1], item, names, values)
    if target is None or argument is None:
        return False
    ((kind, raw),) = target.items()
    if name == "attribute_type":
        return argument.get("S") == kind
    ((argument_kind, argument_raw),) = argument.items()
    if name == "begins_with":
        return kind == argument_kind and kind in ("S", "B") and raw.startswith(argument_raw)
    # contains
    if kind in ("S", "B"):
        return kind == argument_kind and argument_raw in raw
    if kind in SET_TYPES:
        return SET_TYPES[kind] == argument_kind and argument_raw in raw
    if kind == "L":
        return any(equal(element, argument) for element in raw)
    return False


def _test(node: Any, item: Item, names: Names, values: Values) -> bool:
    kind = type(node)
    if kind is Comparison:
        return _compare(
            node.operator,
            operand_value(node.left, item, names, values),
            operand_value(node.right, item, names, values),
        )
    if kind is And:
        return _test(node.left, item, names, values) and _test(node.right, item, names, values)
    if kind is Or:
        return _test(node.left, item, names, values) or _test(node.right, item, names, values)
    if kind is Function:
        return _function(node, item, names, values)
    if kind is Not:
        return not _test(node.condition, item, names, values)
    if kind is Between:
        target = operand_value(node.operand, item, names, values)
        low = operand_value(node.low, item, names, values)
        high = operand_value(node.high, item, names, values)
        if target is None or low is None or high is None:
            return False
        above, below = compare(target, low), compare(target, high)
        return above is not None and below is not None and above >= 0 and below <= 0
    assert kind is In
    target = operand_value(node.operand, item, names, values)
    if target is None:
        return False
    for option in node.options:
        candidate = operand_value(option, item, names, values)
        if candidate is not None and equal(target, candidate):
            return True
    return False


def evaluate(parsed: Parsed, item: Item, names: Names, values: Values) -> bool:
    """Whether ``item`` (``{}`` for a missing item) satisfies the parsed condition."""
    try:
        return _test(parsed.root, item, names, values)
    except _OperandTypeError as error:
        raise ValidationException(
            f"Invalid {parsed.label}: Incorrect operand type for operator or function; "
            f"operator or function: {error.function}, operand type: {error.kind}"
        ) from None


def _show(value: Value) -> str:
    ((kind, raw),) = value.items()
    return f"{{{kind}:{raw}}}"


def _between_bounds_message(label: str, low: Value, high: Value) -> str:
    return (
        f"Invalid {label}: The BETWEEN operator requires upper bound to be greater than or equal to lower "
        f"bound; lower bound operand: AttributeValue: {_show(low)}, upper bound operand: AttributeValue: "
        f"{_show(high)}"
    )


def check_values(parsed: Parsed, values: Values) -> None:
    """The checks DynamoDB makes on the :values' types before it evaluates anything."""
    for check in parsed.value_checks:
        kind, operator = check[0], check[1]
        if kind == "between":
            low, high = values[check[2]], values[check[3]]
            sign = compare(low, high)
            if sign is None:
                raise ValidationException(
                    f"Invalid {parsed.label}: The BETWEEN operator requires same data type for lower and "
                    f"upper bounds; lower bound operand: AttributeValue: {_show(low)}, upper bound operand: "
                    f"AttributeValue: {_show(high)}"
                )
            if sign > 0:
                raise ValidationException(_between_bounds_message(parsed.label, low, high))
            continue
        value = values[check[2]]
        value_kind = next(iter(value))
        allowed = {"compare": ("S", "N", "B"), "begins_with": ("S", "B"), "attribute_type": ("S",)}[kind]
        if value_kind not in allowed:
            raise ValidationException(
                f"Invalid {parsed.label}: Incorrect operand type for operator or function; "
                f"operator or function: {operator}, operand type: {value_kind}"
            )
        if kind == "attribute_type" and value["S"] not in ALL_TYPES:
            raise ValidationException(
                f"Invalid {parsed.label}: Invalid attribute type name found in type condition; "
                f"attribute type name: {value['S']}"
            )


# --- key conditions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyRange:
    """What a KeyConditionExpression selects: one hash key value and an optional range-key condition."""

    hash_value: Value
    operator: str | None = None  # =, <, <=, >, >=, BETWEEN, begins_with
    operands: tuple[Value, ...] = ()


_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_KEY_LABEL = "KeyConditionExpression"
_MULTIPLE_NAMES = f"Invalid condition in {_KEY_LABEL}: Multiple attribute names used in one condition"


def _leaves(node: Any, into: list[Any]) -> None:
    if type(node) is And:
        _leaves(node.left, into)
        _leaves(node.right, into)
    elif type(node) is Or:
        raise ValidationException(f"Invalid operator used in {_KEY_LABEL}: OR")
    elif type(node) is Not:
        raise ValidationException(f"Invalid operator used in {_KEY_LABEL}: NOT")
    elif type(node) is In:
        raise ValidationException(f"Invalid operator used in {_KEY_LABEL}: IN")
    else:
        into.append(node)


def _attribute(operand: Any, names: Names) -> str:
    first = operand.elements[0]
    if len(operand.elements) != 1:
        raise ValidationException(
            f"Invalid {_KEY_LABEL}: Nested attributes are not supported in key conditions"
        )
    return str(names[first] if first[0] == "#" else first)


class KeySchema(Protocol):
    """A table's or an index's key attributes and their types."""

    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None


def _key_leaf(leaf: Any, names: Names, values: Values) -> tuple[str, str, tuple[Value, ...]]:
    """(attribute, operator, operands) of one condition of a KeyConditionExpression."""
    if type(leaf) is Comparison:
        left, right, operator = leaf.left, leaf.right, leaf.operator
        if operator == "<>":
            raise ValidationException(f"Unsupported operator in {_KEY_LABEL}: <>")
        if isinstance(left, ValueOperand) and isinstance(right, PathOperand):
            left, right, operator = right, left, _FLIP[operator]
        if isinstance(left, PathOperand) and isinstance(right, PathOperand):
            raise ValidationException(_MULTIPLE_NAMES)
        if not isinstance(left, PathOperand) or not isinstance(right, ValueOperand):
            raise ValidationException(f"Invalid condition in {_KEY_LABEL}: No key attribute specified")
        return _attribute(left, names), operator, (values[right.placeholder],)
    if type(leaf) is Between:
        low, high = leaf.low, leaf.high
        if not isinstance(leaf.operand, PathOperand):
            raise ValidationException(f"Invalid condition in {_KEY_LABEL}: No key attribute specified")
        if not isinstance(low, ValueOperand) or not isinstance(high, ValueOperand):
            raise ValidationException(_MULTIPLE_NAMES)
        return _attribute(leaf.operand, names), "BETWEEN", (values[low.placeholder], values[high.placeholder])
    if type(leaf) is Function and leaf.name == "begins_with":
        argument = leaf.arguments[1]
        if not isinstance(argument, ValueOperand):
            raise ValidationException(_MULTIPLE_NAMES)
        return _attribute(leaf.arguments[0], names), "begins_with", (values[argument.placeholder],)
    name = leaf.name if type(leaf) is Function else "size"
    raise ValidationException(f"Invalid operator used in {_KEY_LABEL}: {name}")


def key_range(parsed: Parsed, schema: KeySchema, names: Names, values: Values) -> KeyRange:
    """The hash key value and range condition a KeyConditionExpression selects, validated as DynamoDB does."""
    leaves: list[Any] = []
    _leaves(parsed.root, leaves)
    if len(leaves) > 2:
        raise ValidationException("Conditions can be of length 1 or 2 only")
    conditions: dict[str, tuple[str, tuple[Value, ...]]] = {}
    for leaf in leaves:
        attribute, operator, operands = _key_leaf(leaf, names, values)
        if attribute in conditions:
            raise ValidationException("KeyConditionExpressions must only contain one condition per key")
        conditions[attribute] = (operator, operands)
    hash_name, range_name = schema.hash_name, schema.range_name
    if hash_name not in conditions:
        raise ValidationException(f"Query condition missed key schema element: {hash_name}")
    if any(attribute not in (hash_name, range_name) for attribute in conditions):
        if range_name is not None and range_name not in conditions:
            raise ValidationException(f"Query condition missed key schema element: {range_name}")
        raise ValidationException("Query key condition not supported")
    operator, operands = conditions[hash_name]
    if operator != "=":
        raise ValidationException("Query key condition not supported")
    _check_key_operand(hash_name, schema.hash_type, operands[0])
    if range_name is None or range_name not in conditions:
        return KeyRange(operands[0])
    range_operator, range_operands = conditions[range_name]
    assert schema.range_type is not None
    for operand in range_operands:
        if range_operator == "begins_with" and next(iter(operand)) not in ("S", "B"):
            raise ValidationException(
                f"Invalid {_KEY_LABEL}: Incorrect operand type for operator or function; "
                f"operator or function: begins_with, operand type: {next(iter(operand))}"
            )
        _check_key_operand(range_name, schema.range_type, operand)
    if range_operator == "BETWEEN":
        sign = compare(range_operands[0], range_operands[1])
        if sign is not None and sign > 0:
            raise ValidationException(_between_bounds_message(_KEY_LABEL, *range_operands))
    return KeyRange(operands[0], range_operator, range_operands)


def _check_key_operand(name: str, key_type: str, operand: Value) -> None:
    if key_type not in operand:
        raise ValidationException(
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        )
    if operand[key_type] in ("", b""):
        raise ValidationException(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            f"contain an empty string value. Key: {name}"
        )
