"""workflow_core.item_table.ItemTable answers each call as boto3's Table does, on a plain client."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from moto import mock_aws

from tests.factories import create_pk_sk_table
from workflow_core.item_table import ItemTable, transact_write_items

REGION = "eu-west-1"

ITEMS: list[dict[str, Any]] = [
    {"pk": "a", "sk": "1", "n": 3, "s": "text", "b": True, "none": None},
    {"pk": "a", "sk": "2", "nested": {"l": [1, "x", {"deep": False}], "m": {}}, "d": Decimal("2.50")},
    {"pk": "b", "sk": "1", "ss": {"x", "y"}, "ns": {1, 2}, "blob": b"\x00\x01", "big": 10**37},
]


@pytest.fixture
def tables() -> Iterator[tuple[Any, ItemTable, list[str]]]:
    """boto3's Table and an ItemTable of two identical tables; the list names the Tables ItemTable made."""
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name=REGION)
        for name in ("stock", "lean"):
            create_pk_sk_table(resource, name)
        made: list[str] = []

        def resource_table() -> Any:
            made.append("lean")
            return resource.Table("lean")

        lean = ItemTable(
            "lean", client=boto3.client("dynamodb", region_name=REGION), resource_table=resource_table
        )
        yield resource.Table("stock"), lean, made


def _both(tables: tuple[Any, ItemTable, list[str]], call: Callable[[Any], Any]) -> tuple[Any, Any]:
    stock, lean, _ = tables
    return _answer(call, stock), _answer(call, lean)


def _answer(call: Callable[[Any], Any], table: Any) -> Any:
    """The call's answer or its error (type, words, a transaction's cancellation reasons), the table's
    name written as "stock" so that both tables' answers compare."""
    try:
        response = call(table)
    except Exception as error:  # whichever boto3 raises, the same must be raised
        reasons = getattr(error, "response", {}).get("CancellationReasons")
        return type(error), str(error).replace("lean", "stock"), reasons
    response.pop("ResponseMetadata", None)
    capacity = response.get("ConsumedCapacity")
    for consumed in capacity if isinstance(capacity, list) else [capacity] if capacity else []:
        consumed["TableName"] = "stock"
    return response


def test_item_calls_answer_as_boto3_s_table_and_make_no_table(
    tables: tuple[Any, ItemTable, list[str]],
) -> None:
    calls: list[Callable[[Any], Any]] = [
        *[lambda t, item=item: t.put_item(Item=item) for item in ITEMS],
        *[lambda t, item=item: t.get_item(Key={"pk": item["pk"], "sk": item["sk"]}) for item in ITEMS],
        lambda t: t.get_item(
            Key={"pk": "a", "sk": "1"},
            ConsistentRead=True,
            ProjectionExpression="n, #s",
            ExpressionAttributeNames={"#s": "s"},
        ),
        lambda t: t.get_item(Key={"pk": "missing", "sk": "1"}),
        lambda t: t.put_item(Item={**ITEMS[0], "n": 4}, ReturnValues="ALL_OLD"),
        lambda t: t.update_item(
            Key={"pk": "a", "sk": "1"},
            UpdateExpression="SET #n = #n + :one, tags = :tags REMOVE #none",
            ConditionExpression="attribute_exists(pk) AND #n >= :zero",
            ExpressionAttributeNames={"#n": "n", "#none": "none"},
            ExpressionAttributeValues={":one": 1, ":zero": 0, ":tags": ["x", {"y": None}]},
            ReturnValues="ALL_NEW",
        ),
        lambda t: t.update_item(
            Key={"pk": "a", "sk": "2"},
            UpdateExpression="SET d = :d",
            ExpressionAttributeValues={":d": Decimal("0.1")},
            ReturnValues="UPDATED_OLD",
        ),
        # Refusals: a failed condition, an invalid expression, a float, a missing key.
        lambda t: t.put_item(Item=ITEMS[0], ConditionExpression="attribute_not_exists(pk)"),
        lambda t: t.update_item(
            Key={"pk": "a", "sk": "1"}, UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": 1.5}
        ),
        lambda t: t.update_item(
            Key={"pk": "a", "sk": "1"}, UpdateExpression="SET", ExpressionAttributeValues={}
        ),
        lambda t: t.get_item(Key={"pk": "a"}),
        lambda t: t.get_item(),
        # Queries: a page at a time, backwards, filtered, a bad expression.
        lambda t: t.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "a"}),
        lambda t: t.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": "a"},
            Limit=1,
            ConsistentRead=True,
        ),
        lambda t: t.query(
            KeyConditionExpression="pk = :pk AND sk > :sk",
            ExpressionAttributeValues={":pk": "a", ":sk": "1"},
            ScanIndexForward=False,
        ),
        lambda t: t.query(
            KeyConditionExpression="pk = :pk",
            ExclusiveStartKey={"pk": "a", "sk": "1"},
            FilterExpression="attribute_exists(d)",
            ExpressionAttributeValues={":pk": "a"},
        ),
        lambda t: t.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":nope": "a"}),
        lambda t: t.delete_item(Key={"pk": "b", "sk": "1"}, ReturnValues="ALL_OLD"),
        lambda t: t.delete_item(Key={"pk": "b", "sk": "1"}, ReturnValues="ALL_OLD"),
    ]
    for call in calls:
        stock_answer, lean_answer = _both(tables, call)
        assert lean_answer == stock_answer
    assert tables[2] == []  # every one answered on the plain client


def test_anything_else_goes_to_boto3_s_table(tables: tuple[Any, ItemTable, list[str]]) -> None:
    stock, lean, made = tables
    for table in (stock, lean):
        table.put_item(Item=ITEMS[0])
    # A condition object, a legacy parameter, a table name given twice: boto3's Table says what they mean.
    calls: list[Callable[[Any], Any]] = [
        lambda t: t.put_item(Item=ITEMS[0], ConditionExpression=Attr("pk").not_exists()),
        lambda t: t.put_item(Item=ITEMS[0], Expected={"n": {"Value": 3}}),
        lambda t: t.get_item(TableName="other", Key={"pk": "a", "sk": "1"}),
        lambda t: t.query(KeyConditionExpression=Key("pk").eq("a")),
        lambda t: t.query(KeyConditions={"pk": {"AttributeValueList": ["a"], "ComparisonOperator": "EQ"}}),
        lambda t: t.scan(FilterExpression=Attr("n").eq(3)),
        # Calls boto3's Table refuses in words of its own, before or instead of converting values.
        lambda t: t.put_item(Item={"pk": "a", "sk": "1"}, ExpressionAttributeNames=None),
        lambda t: t.put_item(Item={"pk": "a", "sk": "1"}, ExpressionAttributeNames=["x"]),
        lambda t: t.get_item(Key={"pk": "a", "sk": "1"}, ExpressionAttributeValues={":x": 0.5}),
        lambda t: t.put_item(Item={"pk": "a", "sk": "1"}, Key={"pk": 0.5}),
        lambda t: t.query(ExclusiveStartKey={"pk": 0.5}, KeyConditionExpression=Attr("pk").eq("a")),
        lambda t: t.get_item({"pk": "a", "sk": "1"}),
    ]
    for call in calls:
        stock_answer, lean_answer = _both(tables, call)
        assert lean_answer == stock_answer
    assert made == ["lean"]  # made once, on the first call that needed it
    assert lean.name == "lean"
    assert lean.meta.client.meta.service_model.service_name == "dynamodb"


def test_a_refused_value_is_refused_with_boto3_s_words(tables: tuple[Any, ItemTable, list[str]]) -> None:
    _, lean, _ = tables
    with pytest.raises(
        TypeError, match=re.escape("Float types are not supported. Use Decimal types instead.")
    ):
        lean.put_item(Item={"pk": "a", "sk": "1", "f": 0.5})


def _transaction(table: Any, **kwargs: Any) -> Any:
    """``TransactWriteItems`` through ``table``; an action's table named "T" is ``table``'s own."""

    def named(value: Any) -> Any:
        if type(value) is dict:
            return {k: table.name if (k, v) == ("TableName", "T") else named(v) for k, v in value.items()}
        if type(value) in (list, tuple):
            return type(value)(named(v) for v in value)
        return value

    return transact_write_items(
        table, **{k: named(v) if k == "TransactItems" else v for k, v in kwargs.items()}
    )


def _transaction_answer(table: Any, **kwargs: Any) -> Any:
    return _answer(lambda t: _transaction(t, **kwargs), table)


TRANSACTIONS: list[dict[str, Any]] = [
    {
        "TransactItems": [
            {"Put": {"TableName": "T", "Item": ITEMS[0], "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": "T", "Item": ITEMS[1]}},
        ]
    },
    {
        "TransactItems": [
            {
                "Update": {
                    "TableName": "T",
                    "Key": {"pk": "a", "sk": "1"},
                    "UpdateExpression": "SET #n = #n - :q, tags = :tags",
                    "ConditionExpression": "#n >= :q",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":q": 2, ":tags": ["x", {"y": None}]},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "ConditionCheck": {
                    "TableName": "T",
                    "Key": {"pk": "a", "sk": "2"},
                    "ConditionExpression": "d = :d",
                    "ExpressionAttributeValues": {":d": Decimal("2.50")},
                }
            },
        ],
        "ReturnConsumedCapacity": "TOTAL",
    },
    # Refused by a condition: the reasons, the old item in wire form (as the resource client leaves it).
    {
        "TransactItems": [
            {
                "Update": {
                    "TableName": "T",
                    "Key": {"pk": "a", "sk": "1"},
                    "UpdateExpression": "SET n = n - :q",
                    "ConditionExpression": "n >= :q",
                    "ExpressionAttributeValues": {":q": 100},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Delete": {"TableName": "T", "Key": {"pk": "a", "sk": "2"}}},
        ],
        "ClientRequestToken": "token-1",
    },
    {"TransactItems": [{"Delete": {"TableName": "T", "Key": {"pk": "a", "sk": "2"}}}]},
    # Refused before any write: a float, a missing key attribute, an unknown parameter, no items at all.
    {"TransactItems": [{"Put": {"TableName": "T", "Item": {"pk": "a", "sk": "9", "f": 0.5}}}]},
    {"TransactItems": [{"Delete": {"TableName": "T", "Key": {"pk": "a"}}}]},
    {"TransactItems": []},
]


def test_a_transaction_answers_as_boto3_s_resource_client(tables: tuple[Any, ItemTable, list[str]]) -> None:
    stock, lean, made = tables
    for transaction in TRANSACTIONS:
        assert _transaction_answer(lean, **transaction) == _transaction_answer(stock, **transaction)
    assert made == []  # every one answered on the plain client
    # The same writes landed: both tables hold the same items.
    assert _items(lean.name) == _items(stock.name)


def _items(name: str) -> list[dict[str, Any]]:
    scanned = boto3.client("dynamodb", region_name=REGION).scan(TableName=name)["Items"]
    return sorted(scanned, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def test_a_transaction_it_does_not_model_goes_to_boto3_s_resource_client(
    tables: tuple[Any, ItemTable, list[str]],
) -> None:
    stock, lean, made = tables
    odd: list[dict[str, Any]] = [
        {
            "TransactItems": [
                {"Put": {"TableName": "T", "Item": ITEMS[0], "ConditionExpression": Attr("pk").exists()}}
            ]
        },
        {
            "TransactItems": [{"Put": {"TableName": "T", "Item": ITEMS[0]}}],
            "ReturnItemCollectionMetrics": "SIZE",
        },
        {"TransactItems": [{"Put": {"TableName": "T", "Item": ITEMS[0]}, "Delete": {"TableName": "T"}}]},
        {"TransactItems": [{"Upsert": {"TableName": "T", "Item": ITEMS[0]}}]},
        {"TransactItems": [{"Put": {"TableName": "T", "Item": ITEMS[0], "Bogus": 1}}]},
        {"TransactItems": [{"Put": {"Item": ITEMS[0]}}]},
        {"TransactItems": ({"Put": {"TableName": "T", "Item": ITEMS[0]}},)},
        {"TransactItems": [{"Put": {"TableName": "T", "Item": ITEMS[0], "ExpressionAttributeValues": None}}]},
        {},
    ]
    for transaction in odd:
        assert _transaction_answer(lean, **transaction) == _transaction_answer(stock, **transaction)
    assert made == ["lean"]


def test_a_copy_is_the_same_table_and_makes_no_boto3_table(tables: tuple[Any, ItemTable, list[str]]) -> None:
    _, lean, made = tables
    copied = copy.copy(lean)  # recursed without end before
    copied.put_item(Item=ITEMS[0])
    assert lean.get_item(Key={"pk": "a", "sk": "1"})["Item"] == ITEMS[0]
    assert made == []
    with pytest.raises(AttributeError):
        lean._private  # noqa: B018  # its own private names are never the Table's
