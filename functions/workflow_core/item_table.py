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

# What the four calls may carry that this class converts or passes on as it is; anything else goes
# to boto3's Table. The attribute-value parameters are converted; the rest are strings, names and flags.
_VALUE_PARAMETERS = frozenset(("Key", "Item", "ExpressionAttributeValues", "ExclusiveStartKey"))
_PLAIN_PARAMETERS = frozenset(
    (
        "ExpressionAttributeNames",
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
# As strings only: boto3's Table turns condition objects (Key("pk").eq(...)) into these.
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

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("get_item", kwargs)

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("put_item", kwargs)

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("update_item", kwargs)

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("delete_item", kwargs)

    def query(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("query", kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only attributes this class lacks arrive here: query, scan, batch_writer, meta, load...
        return getattr(self._resource(), name)

    def _resource(self) -> Any:
        if self._resource_table is None:
            self._resource_table = self._make_resource_table()
        return self._resource_table

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"TableName": self._name}
        for name, value in kwargs.items():
            if name in _VALUE_PARAMETERS and type(value) is dict:
                params[name] = attribute_values.serialize_item(value)
            elif name in _PLAIN_PARAMETERS or (name in _EXPRESSION_PARAMETERS and type(value) is str):
                params[name] = value
            else:  # a condition object, a legacy parameter, an odd type: boto3's Table says what it means
                result: dict[str, Any] = getattr(self._resource(), operation)(**kwargs)
                return result
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
