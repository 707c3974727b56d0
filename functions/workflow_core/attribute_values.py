"""DynamoDB attribute values built directly: boto3's ``TypeSerializer``/``TypeDeserializer`` answers, cheaper.

boto3's serializer asks up to eleven ``isinstance`` questions and a ``getattr`` per value, nested values
included; a handler writing a few items per event pays that on every call (docs/decisions/0042). Here
the exact built-in types the functions write (``str``, ``bool``, ``int``, ``None``, ``dict``, ``list``) are
converted directly, to the same attribute values; anything else (``Decimal``, ``float``, sets, bytes,
subclasses such as ``StrEnum`` members, integers too long for DynamoDB's 38 digits) goes to boto3's own
converters, so every answer, error included, is boto3's.
"""

from __future__ import annotations

from decimal import Clamped, Context, Inexact, Overflow, Rounded, Underflow
from typing import Any

from workflow_core import lazy

_serializer = lazy.type_serializer()
_deserializer = lazy.type_deserializer()
_LARGEST_EXACT = 10**38  # DynamoDB's number context: 38 significant digits (boto3 checks longer ones)
# boto3.dynamodb.types.DYNAMODB_CONTEXT, the context boto3 reads numbers with (a unit test keeps the two
# equal); a copy, so that reading an item does not import boto3.
NUMBER_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def serialize(value: Any) -> dict[str, Any]:
    """``TypeSerializer().serialize(value)``."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_LARGEST_EXACT < value < _LARGEST_EXACT:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {name: serialize(inner) for name, inner in value.items()}}
    if kind is list:
        return {"L": [serialize(inner) for inner in value]}
    result: dict[str, Any] = _serializer.serialize(value)
    return result


def serialize_item(item: dict[str, Any]) -> dict[str, Any]:
    """Each value of ``item`` (or of expression attribute values) serialized."""
    return {name: serialize(value) for name, value in item.items()}


def deserialize(value: dict[str, Any]) -> Any:
    """``TypeDeserializer().deserialize(value)``."""
    if len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind == "S" and type(inner) is str:
            return inner
        if kind == "N" and type(inner) is str:
            return NUMBER_CONTEXT.create_decimal(inner)
        if kind == "BOOL" and type(inner) is bool:
            return inner
        if kind == "NULL":
            return None
        if kind == "M" and type(inner) is dict:
            return {name: deserialize(nested) for name, nested in inner.items()}
        if kind == "L" and type(inner) is list:
            return [deserialize(nested) for nested in inner]
    return _deserializer.deserialize(value)


def deserialize_item(item: dict[str, Any]) -> dict[str, Any]:
    """Each attribute of ``item`` deserialized."""
    return {name: deserialize(value) for name, value in item.items()}
