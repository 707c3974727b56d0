"""A DynamoDB table of Python values, like boto3's ``Table``, for a quarter of its CPU on the common calls.

boto3's resource layer answers ``Table.put_item(Item={...})`` by deep-copying the parameters, walking the
operation's whole input shape in botocore's ``before-parameter-build`` event to find attribute values
and condition objects, serialising each value with ``TypeSerializer``, then walking the output shape the
same way to deserialise: in a simulation, a fifth of the functions' client-side CPU
(docs/decisions/0046).

:class:`ItemTable` makes the four item calls (``get_item``, ``put_item``, ``update_item``,
``delete_item``) and ``query`` on the low-level client itself: it knows where their attribute values
are (``Key``, ``Item``, ``ExpressionAttributeValues``, ``ExclusiveStartKey``; ``Item``, ``Attributes``,
``Items`` and ``LastEvaluatedKey`` in the answer) and converts them with
:mod:`workflow_core.attribute_values`, whose answers and errors are boto3's. A call with anything else (a
condition object instead of an expression string, the legacy ``Expected``/``AttributeUpdates``/
``KeyConditions`` parameters, item collection metrics) and every other attribute (``scan``,
``batch_writer``, ``meta``...) go to boto3's own ``Table``, made the first time one is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflow_core import attribute_values, lazy

# The parameters of each call that hold attribute values (boto3 converts only what the operation's input
# has: another one is botocore's "Unknown parameter", not a conversion error).
_VALUE_PARAMETERS: dict[str, frozenset[str]] = {
    "get_item": frozenset(("Key",)),
    "put_item": frozenset(("Item", "ExpressionAttributeValues")),
    "update_item": frozenset(("Key", "ExpressionAttributeValues")),
    "delete_item": frozenset(("Key", "ExpressionAttributeValues")),
    "query": frozenset(("ExpressionAttributeValues", "ExclusiveStartKey")),
}
# Passed on as they are: botocore validates them alike on either path.
_PLAIN_PARAMETERS = frozenset(
    (
        "ProjectionExpression",
        "ConsistentRead",
        "ReturnValues",
        "ReturnConsumedCapacity",
        "ReturnValuesOnConditionCheckFailure",
        "IndexName",
        "Limit",
        "ScanIndexForward",
        "Select",
    )
)
# As strings only: boto3's Table turns condition objects (Key("pk").eq(...)) into these, and adds to the
# names and values it builds them with (a names map of another type is its error to raise).
_EXPRESSION_PARAMETERS = frozenset(
    ("ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression")
)


class ItemTable:
    """``get_item``/``put_item``/``update_item``/``delete_item``/``query`` of a boto3 ``Table``, on a plain
    client.

    ``client``: a low-level DynamoDB client (made on first use is fine). ``resource_table``: makes boto3's
    ``Table`` of the same name, for everything else.
    """

    def __init__(self, name: str, *, client: Any, resource_table: Callable[[], Any]) -> None:
        self._name = name
        self._client = client
        self._make_resource_table = resource_table
        self._resource_table: Any = None

    @property
    def name(self) -> str:
        return self._name

    def get_item(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("get_item", args, kwargs)

    def put_item(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("put_item", args, kwargs)

    def update_item(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("update_item", args, kwargs)

    def delete_item(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("delete_item", args, kwargs)

    def query(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("query", args, kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only attributes this class lacks arrive here: scan, batch_writer, meta, load...
        return getattr(self._resource(), name)

    def _resource(self) -> Any:
        if self._resource_table is None:
            self._resource_table = self._make_resource_table()
        return self._resource_table

    def _call(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args or not _modelled(operation, kwargs):
            # Positional arguments, a condition object, a legacy parameter, an odd type: boto3's Table
            # says what it means (or what is wrong), in its words.
            result: dict[str, Any] = getattr(self._resource(), operation)(*args, **kwargs)
            return result
        values = _VALUE_PARAMETERS[operation]
        params: dict[str, Any] = {"TableName": self._name}
        for name, value in kwargs.items():
            params[name] = attribute_values.serialize_item(value) if name in values else value
        response: dict[str, Any] = getattr(self._client, operation)(**params)
        for name in ("Item", "Attributes", "LastEvaluatedKey"):
            found = response.get(name)
            if found is not None:
                response[name] = attribute_values.deserialize_item(found)
        items = response.get("Items")
        if items is not None:
            response["Items"] = [attribute_values.deserialize_item(item) for item in items]
        return response


def table(name: str) -> ItemTable:
    """The table ``name``, its clients made on first use: item calls on the function's shared DynamoDB
    client (``workflow_core.lazy``), boto3's own ``Table`` made only for the rest (queries, ``meta``...)."""
    return ItemTable(
        name,
        client=lazy.shared_client("dynamodb"),
        resource_table=lambda: lazy.session().resource("dynamodb").Table(name),
    )


def _modelled(operation: str, kwargs: dict[str, Any]) -> bool:
    """True when every parameter is one this class converts or passes on as boto3's Table would."""
    values = _VALUE_PARAMETERS[operation]
    for name, value in kwargs.items():
        if name in values or name == "ExpressionAttributeNames":
            if type(value) is not dict:
                return False
        elif name in _EXPRESSION_PARAMETERS:
            if type(value) is not str:
                return False
        elif name not in _PLAIN_PARAMETERS:
            return False
    return True
