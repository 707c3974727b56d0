"""workflow_core.attribute_values gives boto3's TypeSerializer/TypeDeserializer answers, errors included."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from workflow_core import attribute_values


class Colour(StrEnum):
    RED = "RED"


VALUES: list[Any] = [
    "",
    "text",
    "ünïcode ✓",
    True,
    False,
    0,
    -1,
    7,
    10**37,
    -(10**37),
    10**38 - 1,
    None,
    {},
    [],
    {"a": 1, "b": [True, None, "x", {"c": -5}], "d": {"e": {}}},
    [[1, 2], {"k": "v"}, [], None],
    Decimal("1.5"),
    Decimal(3),
    {1, 2},
    {"x"},
    b"bytes",
    Binary(b"binary"),
    Colour.RED,
    {"nested": Colour.RED, "n": Decimal("2.25")},
    (1, "tuple"),
    set(),
]

BAD: list[Any] = [1.5, 10**38, 10**40, -(10**39), object(), {"inner": 2.5}, [float("nan")]]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_serialize_is_boto3s(value: Any) -> None:
    expected = TypeSerializer().serialize(value)
    got = attribute_values.serialize(value)
    assert got == expected
    assert type(next(iter(got.values()))) is type(next(iter(expected.values())))
    assert attribute_values.serialize_item({"v": value}) == {"v": expected}


@pytest.mark.parametrize("value", BAD)
def test_serialize_refuses_what_boto3_refuses(value: Any) -> None:
    with pytest.raises((TypeError, ArithmeticError)) as boto3s:
        TypeSerializer().serialize(value)
    with pytest.raises(type(boto3s.value), match=re.escape(str(boto3s.value))):
        attribute_values.serialize(value)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_deserialize_is_boto3s(value: Any) -> None:
    wire = TypeSerializer().serialize(value)
    expected = TypeDeserializer().deserialize(wire)
    got = attribute_values.deserialize(wire)
    assert got == expected
    assert type(got) is type(expected)
    assert attribute_values.deserialize_item({"v": wire, "w": {"S": "x"}}) == {"v": expected, "w": "x"}


@pytest.mark.parametrize("wire", [{}, {"X": "1"}], ids=repr)
def test_deserialize_refuses_what_boto3_refuses(wire: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ArithmeticError)) as boto3s:
        TypeDeserializer().deserialize(wire)
    with pytest.raises(type(boto3s.value), match=re.escape(str(boto3s.value))):
        attribute_values.deserialize(wire)


@pytest.mark.parametrize(
    "wire", [{"S": "a", "N": "1"}, {"N": "12.50"}, {"NULL": True}, {"SS": ["a"]}], ids=repr
)
def test_deserialize_answers_odd_and_other_types_as_boto3(wire: dict[str, Any]) -> None:
    expected = TypeDeserializer().deserialize(wire)
    got = attribute_values.deserialize(wire)
    assert got == expected
    assert type(got) is type(expected)


def test_the_number_context_is_boto3_s() -> None:
    from boto3.dynamodb.types import DYNAMODB_CONTEXT  # noqa: PLC0415

    ours = attribute_values.NUMBER_CONTEXT
    assert (ours.prec, ours.Emin, ours.Emax, ours.rounding, ours.capitals, ours.clamp) == (
        DYNAMODB_CONTEXT.prec,
        DYNAMODB_CONTEXT.Emin,
        DYNAMODB_CONTEXT.Emax,
        DYNAMODB_CONTEXT.rounding,
        DYNAMODB_CONTEXT.capitals,
        DYNAMODB_CONTEXT.clamp,
    )
    assert ours.traps == DYNAMODB_CONTEXT.traps


NUMBERS_AND_NULLS: list[dict[str, Any]] = [
    {"N": "0"},
    {"N": "-0"},
    {"N": "1.50"},
    {"N": "1e5"},
    {"N": "-12345678901234567890123456789012345678"},
    {"N": "123456789012345678901234567890123456789"},  # 39 digits: rounding refused
    {"N": "1E+200"},  # beyond DynamoDB's exponent range
    {"N": "not a number"},
    {"NULL": True},
    {"NULL": False},
]


@pytest.mark.parametrize("wire", NUMBERS_AND_NULLS, ids=repr)
def test_numbers_and_nulls_read_as_boto3_reads_them(wire: dict[str, Any]) -> None:
    try:
        expected: Any = TypeDeserializer().deserialize(wire)
    except Exception as error:  # whatever boto3 raises, the same must be raised
        with pytest.raises(type(error)):
            attribute_values.deserialize(wire)
        return
    got = attribute_values.deserialize(wire)
    assert type(got) is type(expected)
    # The text too: Decimal("1.50") keeps its trailing zero, and a word reads as NaN, as boto3's do.
    assert str(got) == str(expected)
