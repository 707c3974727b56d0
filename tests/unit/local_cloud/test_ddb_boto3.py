"""The engine behind real boto3: clients, the Table resource, error classes, Powertools idempotency.

Every test here goes through a real boto3 client whose ``before-call`` event is answered by the engine
(the way the local cloud wires it), so what is asserted is what a handler would see. The helpers at
the top are shared by the other test_ddb_* modules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from moto import mock_aws

from workflowkit.ddb import DynamoEngine

REGION = "us-east-1"


class FakeHttp:
    """What botocore needs of an HTTP response when ``before-call`` answers for it."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""


def wire(client: Any, engine: DynamoEngine) -> Any:
    """Answer the client's data-plane calls from ``engine``; control-plane calls go on to moto."""

    def answer(model: Any, params: dict[str, Any], **_: Any) -> tuple[FakeHttp, dict[str, Any]] | None:
        if model.name not in engine.OPERATIONS:
            return None
        status, parsed = engine.handle(model.name, json.loads(params["body"]))
        return FakeHttp(status), parsed

    client.meta.events.register("before-call.dynamodb", answer)
    return client


def describer(control: Any) -> Any:
    """describe_table for the engine, answered by moto's control plane."""

    def describe(name: str) -> dict[str, Any] | None:
        try:
            return control.describe_table(TableName=name)["Table"]  # type: ignore[no-any-return]
        except control.exceptions.ResourceNotFoundException:
            return None

    return describe


ORDERS_SCHEMA: dict[str, Any] = {
    "TableName": "orders",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "status", "AttributeType": "S"},
        {"AttributeName": "amount", "AttributeType": "N"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_status",
            "KeySchema": [
                {"AttributeName": "status", "KeyType": "HASH"},
                {"AttributeName": "amount", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "by_amount",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "amount", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
SIMPLE_SCHEMA: dict[str, Any] = {
    "TableName": "simple",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
NUMBERS_SCHEMA: dict[str, Any] = {
    "TableName": "numbers",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "N"},
        {"AttributeName": "n", "AttributeType": "N"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
BINARY_SCHEMA: dict[str, Any] = {
    "TableName": "binary",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "B"},
        {"AttributeName": "b", "AttributeType": "B"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
ALL_SCHEMAS = (ORDERS_SCHEMA, SIMPLE_SCHEMA, NUMBERS_SCHEMA, BINARY_SCHEMA)


class Clouds:
    """Two boto3 clients on one moto control plane: ``moto`` keeps items in moto, ``engine`` in the engine."""

    def __init__(self) -> None:
        self.moto = boto3.client("dynamodb", region_name=REGION)
        for schema in ALL_SCHEMAS:
            self.moto.create_table(**schema)
        self.engine_impl = DynamoEngine(describer(self.moto))
        self.engine = wire(boto3.client("dynamodb", region_name=REGION), self.engine_impl)
        self.resource = boto3.resource("dynamodb", region_name=REGION)
        wire(self.resource.meta.client, self.engine_impl)


@pytest.fixture
def clouds() -> Iterator[Clouds]:
    with mock_aws():
        yield Clouds()


# --- the client ------------------------------------------------------------------------------------


def test_a_client_reads_back_what_it_wrote_with_binary_as_bytes_and_numbers_as_text(clouds: Clouds) -> None:
    # GIVEN an item with every attribute type, written through a boto3 client
    item = {
        "id": {"S": "a"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\xff"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"p", b"q"]},
        "m": {"M": {"inner": {"L": [{"NULL": True}, {"BOOL": False}]}}},
    }
    clouds.engine.put_item(TableName="simple", Item=item)

    # WHEN it is read back
    got = clouds.engine.get_item(TableName="simple", Key={"id": {"S": "a"}})

    # THEN binary is bytes, numbers are DynamoDB's canonical text, and the response metadata is there
    assert got["Item"] == {**item, "n": {"N": "1.5"}}
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_errors_raise_the_modeled_exception_class_with_botocores_response(clouds: Clouds) -> None:
    # GIVEN an existing item
    clouds.engine.put_item(TableName="simple", Item={"id": {"S": "a"}, "v": {"N": "1"}})

    # WHEN a conditional put fails and asks for the old item
    with pytest.raises(clouds.engine.exceptions.ConditionalCheckFailedException) as failed:
        clouds.engine.put_item(
            TableName="simple",
            Item={"id": {"S": "a"}},
            ConditionExpression="attribute_not_exists(id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    # THEN the exception carries the code, message and item exactly where botocore puts them
    response = failed.value.response
    assert response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert response["Item"] == {"id": {"S": "a"}, "v": {"N": "1"}}
    assert response["message"] == "The conditional request failed"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_tables_and_bad_keys_raise_resource_not_found_and_validation(clouds: Clouds) -> None:
    with pytest.raises(clouds.engine.exceptions.ResourceNotFoundException):
        clouds.engine.get_item(TableName="missing", Key={"id": {"S": "a"}})
    with pytest.raises(ClientError) as invalid:
        clouds.engine.get_item(TableName="simple", Key={"id": {"N": "1"}})
    assert invalid.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "The provided key element does not match the schema",
    }


def test_a_query_resumed_from_another_partitions_key_raises_validation_through_boto3(clouds: Clouds) -> None:
    # GIVEN items in two partitions of a binary-keyed table (binary travels as base64 on the wire)
    for pk in (b"p1", b"p2"):
        for b in (b"\x01", b"\x02"):
            clouds.engine.put_item(TableName="binary", Item={"pk": {"B": pk}, "b": {"B": b}})
    # WHEN a Query of p1 is resumed from a key of p2
    with pytest.raises(ClientError) as invalid:
        clouds.engine.query(
            TableName="binary",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"B": b"p1"}},
            ExclusiveStartKey={"pk": {"B": b"p2"}, "b": {"B": b"\x01"}},
        )
    # THEN DynamoDB's ValidationException (it used to page p1 from b=\x01)
    assert invalid.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "The provided starting key is outside query boundaries based on provided conditions",
    }


def test_a_cancelled_transaction_raises_with_reasons_in_order_and_writes_nothing(clouds: Clouds) -> None:
    # GIVEN an existing item
    clouds.engine.put_item(TableName="simple", Item={"id": {"S": "taken"}})

    # WHEN a transaction puts a new item but its condition check on the existing one fails
    with pytest.raises(clouds.engine.exceptions.TransactionCanceledException) as cancelled:
        clouds.engine.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "simple", "Item": {"id": {"S": "new"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "simple",
                        "Key": {"id": {"S": "taken"}},
                        "ConditionExpression": "attribute_not_exists(id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )

    # THEN the reasons line up with the actions, and the put did not happen
    assert cancelled.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"id": {"S": "taken"}},
        },
    ]
    assert "Item" not in clouds.engine.get_item(TableName="simple", Key={"id": {"S": "new"}})


def test_a_paginator_walks_every_page_of_a_query(clouds: Clouds) -> None:
    # GIVEN 25 items under one hash key
    for n in range(25):
        clouds.engine.put_item(TableName="orders", Item={"pk": {"S": "o"}, "sk": {"S": f"{n:03d}"}})

    # WHEN boto3's paginator pages through them 10 at a time
    pages = clouds.engine.get_paginator("query").paginate(
        TableName="orders",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "o"}},
        PaginationConfig={"PageSize": 10},
    )

    # THEN every item comes exactly once, in range-key order
    keys = [item["sk"]["S"] for page in pages for item in page["Items"]]
    assert keys == [f"{n:03d}" for n in range(25)]


# --- the resource (TypeSerializer/TypeDeserializer) -----------------------------------------------------


def test_the_table_resource_round_trips_python_values(clouds: Clouds) -> None:
    # GIVEN the boto3 Table resource on the engine
    table = clouds.resource.Table("simple")
    table.put_item(
        Item={"id": "a", "amount": Decimal("12.50"), "tags": {"x"}, "raw": b"\x01", "doc": {"l": [1, None]}}
    )

    # WHEN it updates and reads the item back
    updated = table.update_item(
        Key={"id": "a"},
        UpdateExpression="ADD amount :d SET doc.l[2] = :t",
        ExpressionAttributeValues={":d": Decimal("0.5"), ":t": True},
        ReturnValues="UPDATED_NEW",
    )
    item = table.get_item(Key={"id": "a"})["Item"]

    # THEN the deserializer sees Decimals, sets, Binary and nested documents
    assert updated["Attributes"] == {"amount": Decimal("13"), "doc": {"l": [True]}}
    assert item["amount"] == Decimal("13")
    assert item["tags"] == {"x"}
    assert item["raw"].value == b"\x01"
    assert item["doc"] == {"l": [Decimal(1), None, True]}


def test_the_table_resource_queries_with_key_conditions(clouds: Clouds) -> None:
    table = clouds.resource.Table("orders")
    for n in range(5):
        table.put_item(Item={"pk": "o", "sk": f"e#{n}", "amount": n})

    result = table.query(
        KeyConditionExpression=Key("pk").eq("o") & Key("sk").begins_with("e#"),
        FilterExpression=Attr("amount").gte(2),
        ScanIndexForward=False,
    )

    assert [item["sk"] for item in result["Items"]] == ["e#4", "e#3", "e#2"]
    assert (result["Count"], result["ScannedCount"]) == (3, 5)


def test_a_batch_writer_and_batch_get_work_through_the_resource(clouds: Clouds) -> None:
    table = clouds.resource.Table("simple")
    with table.batch_writer() as batch:
        for n in range(30):  # more than one BatchWriteItem call
            batch.put_item(Item={"id": f"i{n}"})

    got = clouds.resource.batch_get_item(
        RequestItems={"simple": {"Keys": [{"id": "i0"}, {"id": "i29"}, {"id": "x"}]}}
    )

    assert sorted(item["id"] for item in got["Responses"]["simple"]) == ["i0", "i29"]
    assert table.scan(Select="COUNT")["Count"] == 30


# --- Powertools idempotency -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
def test_powertools_idempotent_function_runs_once_against_the_engine(clouds: Clouds) -> None:
    # GIVEN Powertools' DynamoDB persistence layer on a client wired to the engine
    clouds.moto.create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=clouds.engine)
    calls: list[str] = []

    @idempotent_function(
        data_keyword_argument="order",
        persistence_store=store,
        config=IdempotencyConfig(event_key_jmespath="id", use_local_cache=False),
    )
    def charge(order: dict[str, Any]) -> dict[str, Any]:
        calls.append(order["id"])
        return {"charged": order["amount"]}

    # WHEN the same order is charged twice (and a different one once)
    first = charge(order={"id": "o-1", "amount": 5})
    second = charge(order={"id": "o-1", "amount": 5})
    other = charge(order={"id": "o-2", "amount": 7})

    # THEN the duplicate returns the saved result without running the function again
    assert first == second == {"charged": 5}
    assert other == {"charged": 7}
    assert calls == ["o-1", "o-2"]
    records = clouds.engine.scan(TableName="idempotency")["Items"]
    assert sorted(record["status"]["S"] for record in records) == ["COMPLETED", "COMPLETED"]
    # and moto never saw an item: the engine answered every data-plane call
    assert clouds.moto.scan(TableName="idempotency")["Count"] == 0


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
def test_powertools_deletes_the_record_of_a_failed_call_so_a_retry_runs_again(clouds: Clouds) -> None:
    # GIVEN Powertools idempotency on the engine and a function that fails the first time
    clouds.moto.create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=clouds.engine)
    attempts: list[int] = []

    @idempotent_function(
        data_keyword_argument="order",
        persistence_store=store,
        config=IdempotencyConfig(event_key_jmespath="id", use_local_cache=False),
    )
    def charge(order: dict[str, Any]) -> dict[str, Any]:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise RuntimeError("gateway down")
        return {"charged": order["amount"]}

    # WHEN the first call fails and the caller retries twice
    with pytest.raises(RuntimeError):
        charge(order={"id": "o-1", "amount": 5})
    retried = charge(order={"id": "o-1", "amount": 5})
    again = charge(order={"id": "o-1", "amount": 5})

    # THEN the failed attempt left no record (delete_item), the retry ran, and the third call was deduplicated
    assert retried == again == {"charged": 5}
    assert attempts == [0, 1]
