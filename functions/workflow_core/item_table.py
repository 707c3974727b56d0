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
:mod:`workflow_core.attribute_values`, whose answers and errors are boto3's. ``transact_write_items`` takes
a transaction as boto3's resource client (``Table.meta.client``) does, its actions' ``Item``, ``Key`` and
``ExpressionAttributeValues`` as Python values (docs/decisions/0047). A call with anything else (a
condition object instead of an expression string, the legacy ``Expected``/``AttributeUpdates``/
``KeyConditions`` parameters, item collection metrics) and every other attribute (``scan``,
``batch_writer``, ``meta``...) go to boto3's own ``Table``, made the first time one is needed.

One difference is kept: boto3 deep-copies the parameters before converting them, so a value it would
convert but cannot copy (a ``types.MappingProxyType``, a dict's keys view) fails there with a ``TypeError``
from ``copy``, and is written here. Finding such values would mean walking every value of every call.
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
# TransactWriteItems: each action's parameters holding attribute values, and those passed on as they are
# (its TableName among them: a transaction's action names its own table).
_ACTION_VALUE_PARAMETERS: dict[str, frozenset[str]] = {
    "Put": frozenset(("Item", "ExpressionAttributeValues")),
    "Update": frozenset(("Key", "ExpressionAttributeValues")),
    "Delete": frozenset(("Key", "ExpressionAttributeValues")),
    "ConditionCheck": frozenset(("Key", "ExpressionAttributeValues")),
}
_ACTION_PLAIN_PARAMETERS = frozenset(("TableName", "ReturnValuesOnConditionCheckFailure"))
# The call's own parameters besides TransactItems (none holds attribute values; item collection metrics,
# whose answer would, are left to boto3).
_TRANSACTION_PLAIN_PARAMETERS = frozenset(("ReturnConsumedCapacity", "ClientRequestToken"))


class ItemTable:
    """``get_item``/``put_item``/``update_item``/``delete_item``/``query`` of a boto3 ``Table``, and
    ``transact_write_items`` of its resource client, on a plain client.

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

    def transact_write_items(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``TransactWriteItems`` of Python values, answered as by boto3's resource client
        (``Table.meta.client``), on the plain client. Its actions name their tables (any table)."""
        if args or not _transaction_modelled(kwargs):
            result: dict[str, Any] = self._resource().meta.client.transact_write_items(*args, **kwargs)
            return result
        actions = [
            {kind: _serialized(action, _ACTION_VALUE_PARAMETERS[kind])}
            for entry in kwargs["TransactItems"]
            for kind, action in entry.items()
        ]
        # Its answer holds no attribute values (item collection metrics went to boto3 above).
        response: dict[str, Any] = self._client.transact_write_items(**{**kwargs, "TransactItems": actions})
        return response

    def __getattr__(self, name: str) -> Any:
        # Only attributes this class lacks arrive here: scan, batch_writer, meta, load... Its own private
        # names are not the Table's: unset, they are an instance copy.copy is rebuilding (forwarding them
        # would recurse through _resource).
        if name.startswith("_"):
            raise AttributeError(name)
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
        params = {"TableName": self._name, **_serialized(kwargs, _VALUE_PARAMETERS[operation])}
        response: dict[str, Any] = getattr(self._client, operation)(**params)
        for name in ("Item", "Attributes", "LastEvaluatedKey"):
            found = response.get(name)
            if found is not None:
                response[name] = attribute_values.deserialize_item(found)
        items = response.get("Items")
        if items is not None:
            response["Items"] = [attribute_values.deserialize_item(item) for item in items]
        return response


def transact_write_items(table: Any, **kwargs: Any) -> dict[str, Any]:
    """A transaction of Python values through ``table``: an :class:`ItemTable`'s own, on its plain client,
    or a boto3 ``Table``'s resource client's."""
    if isinstance(table, ItemTable):
        return table.transact_write_items(**kwargs)
    result: dict[str, Any] = table.meta.client.transact_write_items(**kwargs)
    return result


def table(name: str) -> ItemTable:
    """The table ``name``, its clients made on first use: item calls on the function's shared DynamoDB
    client (``workflow_core.lazy``), boto3's own ``Table`` made only for the rest (queries, ``meta``...)."""
    return ItemTable(
        name,
        client=lazy.shared_client("dynamodb"),
        resource_table=lambda: lazy.session().resource("dynamodb").Table(name),
    )


def _serialized(params: dict[str, Any], values: frozenset[str]) -> dict[str, Any]:
    """``params`` with the attribute values of the parameters named in ``values`` serialized."""
    return {
        name: attribute_values.serialize_item(value) if name in values else value
        for name, value in params.items()
    }


def _modelled(operation: str, kwargs: dict[str, Any]) -> bool:
    """True when every parameter is one this class converts or passes on as boto3's Table would."""
    return _parameters_modelled(kwargs, _VALUE_PARAMETERS[operation], _PLAIN_PARAMETERS)


def _transaction_modelled(kwargs: dict[str, Any]) -> bool:
    """True for a transaction of actions this class converts (each a one-key dict of a known action, its
    table named by a string, its parameters as for :func:`_modelled`), with no other parameters."""
    if any(name != "TransactItems" and name not in _TRANSACTION_PLAIN_PARAMETERS for name in kwargs):
        return False
    entries = kwargs.get("TransactItems")
    if type(entries) is not list:
        return False
    for entry in entries:
        if type(entry) is not dict or len(entry) != 1:
            return False
        ((kind, action),) = entry.items()
        values = _ACTION_VALUE_PARAMETERS.get(kind)
        if values is None or type(action) is not dict or type(action.get("TableName")) is not str:
            return False
        if not _parameters_modelled(action, values, _ACTION_PLAIN_PARAMETERS):
            return False
    return True


def _parameters_modelled(params: dict[str, Any], values: frozenset[str], plain: frozenset[str]) -> bool:
    for name, value in params.items():
        if name in values or name == "ExpressionAttributeNames":
            if type(value) is not dict:
                return False
        elif name in _EXPRESSION_PARAMETERS:
            if type(value) is not str:
                return False
        elif name not in plain:
            return False
    return True
