"""Attribute values: wire-format validation, canonical numbers, comparison, collation, size and copies.

Inside the engine a value keeps DynamoDB's wire shape (``{"S": "x"}``, ``{"M": {...}}``) with two
differences that make it exactly what botocore hands a caller: binary values are ``bytes`` (decoded
from base64 once, on the way in) and numbers are in DynamoDB's canonical text (leading and trailing
zeros trimmed, no exponent), so equal numbers are equal strings and compare with ``==``.

Stored values are never mutated in place: updates copy the path they change and share the rest.
Lists and sets are held as tuples, which enforces that (a set of strings, a tuple of atomic values,
is also dropped by CPython's garbage collector from the objects it traverses). Copies handed out,
like botocore's parsed responses, use lists again.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Context, Decimal
from functools import lru_cache
from typing import Any

from workflowkit.ddb.errors import ValidationException

Value = dict[str, Any]
Item = dict[str, Value]

SCALAR_TYPES = frozenset({"S", "N", "B"})
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
ALL_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
MAX_ITEM_SIZE = 400 * 1024
# ASCII digits only: without re.ASCII, \d also matches "١٢٣" (and Decimal() would accept it).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_SET_NAMES = {"SS": "string", "NS": "number"}


def canonical_number(text: str) -> str:
    """DynamoDB's text for a number: validated, zeros trimmed, plain notation (e.g. "1.50" -> "1.5")."""
    # Small plain integers are already canonical; they are most numbers and skip the cache entirely.
    if (
        type(text) is str
        and 0 < len(text) < 16
        and text.isascii()
        and text.isdigit()
        and (text[0] != "0" or text == "0")
    ):
        return text
    if type(text) is not str:  # not hashable for the cache, maybe; never a number
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    return _canonical_number(text)


@lru_cache(maxsize=8192)
def _canonical_number(text: str) -> str:
    if _NUMBER.fullmatch(text) is None:
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    sign, digit_tuple, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    assert isinstance(exponent, int)  # the regex admits no NaN or Infinity
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    if len(digits) > 38:
        raise ValidationException("Attempting to store more than 38 significant digits in a Number")
    magnitude = exponent + len(digits) - 1
    if magnitude > 125:
        raise ValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if magnitude < -130:
        raise ValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    if exponent >= 0:
        body = digits + "0" * exponent
    elif -exponent >= len(digits):
        body = "0." + "0" * (-exponent - len(digits)) + digits
    else:
        body = digits[:exponent] + "." + digits[exponent:]
    return "-" + body if sign else body


def _number_size(canonical: str) -> int:
    # DynamoDB: one byte per two significant digits, plus one.
    if canonical.isascii() and canonical.isdigit():
        return (len(canonical.rstrip("0")) + 1) // 2 + 1
    digits = canonical.lstrip("-").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def _text_size(text: str) -> int:
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        # A lone surrogate has no UTF-8 form, so DynamoDB cannot store the string: the request is
        # refused as invalid, never half applied (it was a UnicodeEncodeError out of the engine).
        raise ValidationException(
            "One or more parameter values were invalid: a string is not valid Unicode "
            f"(unpaired surrogate at position {error.start})"
        ) from error


def _decode_binary(raw: Any) -> bytes:
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, TypeError, ValueError) as error:
        raise ValidationException("Invalid Binary value: the value is not valid base64") from error


def convert(wire: Any) -> tuple[Value, int]:
    """Validate one wire-format value; return the internal value and its DynamoDB size in bytes."""
    if type(wire) is dict and len(wire) == 1:
        # Fast path for the overwhelmingly common scalars.
        if "S" in wire:
            text = wire["S"]
            if type(text) is str:
                return {"S": text}, _text_size(text)
        elif "N" in wire:
            number = canonical_number(wire["N"])
            return {"N": number}, _number_size(number)
    return _convert(wire)


def _convert(wire: Any) -> tuple[Value, int]:
    if not isinstance(wire, dict) or not wire:
        raise ValidationException(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(wire) != 1:
        raise ValidationException(
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes"
        )
    ((kind, raw),) = wire.items()
    if kind == "S":
        if not isinstance(raw, str):
            raise ValidationException("STRING_VALUE must be a string")
        return {"S": raw}, _text_size(raw)
    if kind == "N":
        number = canonical_number(raw)
        return {"N": number}, _number_size(number)
    if kind == "B":
        data = _decode_binary(raw)
        return {"B": data}, len(data)
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise ValidationException("BOOL must be a boolean")
        return {"BOOL": raw}, 1
    if kind == "NULL":
        if raw is not True:
            raise ValidationException("Null attribute value types must have the value of true")
        return {"NULL": True}, 1
    if kind == "M":
        if not isinstance(raw, dict):
            raise ValidationException("M must be a map")
        members: Item = {}
        size = 3
        for name, member in raw.items():
            members[name], member_size = convert(member)
            size += 1 + _text_size(name) + member_size
        return {"M": members}, size
    if kind == "L":
        if not isinstance(raw, list):
            raise ValidationException("L must be a list")
        elements: list[Value] = []
        size = 3
        for element in raw:
            converted, element_size = convert(element)
            elements.append(converted)
            size += 1 + element_size
        return {"L": tuple(elements)}, size
    if kind in SET_TYPES:
        return _convert_set(kind, raw)
    raise ValidationException(
        f"Supplied AttributeValue has an unsupported datatype: {kind}, "
        "must contain exactly one of the supported datatypes"
    )


def _convert_set(kind: str, raw: Any) -> tuple[Value, int]:
    if not isinstance(raw, list):
        raise ValidationException(f"{kind} must be a list")
    if not raw:
        if kind == "BS":
            raise ValidationException(
                "One or more parameter values were invalid: Binary sets should not be empty"
            )
        raise ValidationException(
            f"One or more parameter values were invalid: An {_SET_NAMES[kind]} set  may not be empty"
        )
    members: list[Any]
    if kind == "SS":
        if not all(isinstance(member, str) for member in raw):
            raise ValidationException("SS members must be strings")
        members = list(raw)
        size = sum(_text_size(member) for member in members)
    elif kind == "NS":
        members = [canonical_number(member) for member in raw]
        size = sum(_number_size(member) for member in members)
    else:
        members = [_decode_binary(member) for member in raw]
        size = sum(len(member) for member in members)
    if len(set(members)) != len(members):
        shown = ", ".join(str(member) for member in raw)
        raise ValidationException(
            f"One or more parameter values were invalid: Input collection [{shown}] contains duplicates."
        )
    return {kind: tuple(members)}, size


def convert_item(wire: Any) -> tuple[Item, int]:
    """Validate a whole item; return it and its size (attribute names count, as in DynamoDB)."""
    if not isinstance(wire, dict):
        raise ValidationException("Item must be a map of attribute names to values")
    item: Item = {}
    size = 0
    for name, raw in wire.items():
        # The common scalar shapes are inlined: PutItem converts every attribute of every item.
        if type(raw) is dict and len(raw) == 1:
            if "S" in raw and type(raw["S"]) is str:
                text = raw["S"]
                item[name] = {"S": text}
                size += _text_size(name) + _text_size(text)
                continue
            if "N" in raw:
                number = canonical_number(raw["N"])
                item[name] = {"N": number}
                size += _text_size(name) + _number_size(number)
                continue
        item[name], value_size = convert(raw)
        size += _text_size(name) + value_size
    return item, size


def convert_values(wire: dict[str, Any]) -> dict[str, Value]:
    return {placeholder: convert(value)[0] for placeholder, value in wire.items()}


def value_size(value: Value) -> int:
    """Size in bytes of an internal value, by DynamoDB's accounting."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return _text_size(raw)
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(1 + _text_size(name) + value_size(member) for name, member in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in raw)
    if kind == "SS":
        return sum(_text_size(member) for member in raw)
    if kind == "NS":
        return sum(_number_size(member) for member in raw)
    return sum(len(member) for member in raw)


def attribute_size(name: str, value: Value) -> int:
    return _text_size(name) + value_size(value)


def item_size(item: Item) -> int:
    return sum(_text_size(name) + value_size(value) for name, value in item.items())


def copy_value(value: Value) -> Value:
    """A copy a caller may mutate freely (strings, bytes and bools are immutable and shared)."""
    ((kind, raw),) = value.items()
    if kind == "M":
        return {"M": {name: copy_value(member) for name, member in raw.items()}}
    if kind == "L":
        return {"L": [copy_value(element) for element in raw]}
    if kind in SET_TYPES:
        return {kind: list(raw)}
    return {kind: raw}


def copy_item(item: Item) -> Item:
    # Every value has exactly one key, so a string or number copies with one shallow dict copy.
    return {
        name: value.copy() if "S" in value or "N" in value else copy_value(value)
        for name, value in item.items()
    }


def equal(left: Value, right: Value) -> bool:
    """DynamoDB equality: same type and value; sets compare as sets, numbers by canonical text."""
    if left == right:
        return True
    left_kind = next(iter(left))
    if left_kind != next(iter(right)):
        return False
    if left_kind in SET_TYPES:
        return set(left[left_kind]) == set(right[left_kind])
    if left_kind == "M":
        left_map, right_map = left["M"], right["M"]
        return left_map.keys() == right_map.keys() and all(
            equal(member, right_map[name]) for name, member in left_map.items()
        )
    if left_kind == "L":
        left_list, right_list = left["L"], right["L"]
        return len(left_list) == len(right_list) and all(map(equal, left_list, right_list))
    return False


def collation_key(value: Value) -> Any:
    """What key values sort by: str (code points sort as UTF-8 bytes do), Decimal, or bytes."""
    if "S" in value:
        return value["S"]
    if "N" in value:
        return Decimal(value["N"])
    return value["B"]


def compare(left: Value, right: Value) -> int | None:
    """-1/0/1 for two scalars of one type (S, N or B); None when DynamoDB cannot compare them."""
    left_kind = next(iter(left))
    if left_kind != next(iter(right)) or left_kind not in SCALAR_TYPES:
        return None
    if left_kind == "N":
        a: Any = Decimal(left["N"])
        b: Any = Decimal(right["N"])
    else:
        a, b = left[left_kind], right[left_kind]
    return int(a > b) - int(a < b)


def add_numbers(left: str, right: str, subtract: bool = False) -> str:
    """Exact decimal arithmetic on canonical numbers, validated like a stored number."""
    a, b = Decimal(left), Decimal(right)
    result = _EXACT.subtract(a, b) if subtract else _EXACT.add(a, b)
    return canonical_number(str(result))


# Wide enough that no sum of two numbers within DynamoDB's range is ever rounded; canonical_number
# then enforces the 38-digit limit on the result, as DynamoDB does.
_EXACT = Context(prec=300, Emax=999, Emin=-999)
