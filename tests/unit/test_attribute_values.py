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
