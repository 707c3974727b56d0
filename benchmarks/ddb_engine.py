"""µs per DynamoDB call: workflowkit.ddb's engine vs. moto 5.2.5, same requests, one run.

Run: .venv/bin/python benchmarks/ddb_engine.py

Columns: the engine called directly (``DynamoEngine.handle``, what the local cloud pays per call once
botocore has serialised the request), the same with the garbage collector off (the difference is
CPython's full collections, which traverse every live object of the process -- moto's and boto3's
included -- and are triggered by allocating long-lived objects such as stored items; a local cloud
can cut them with ``gc.freeze()`` after start-up), a boto3 client whose ``before-call`` event is
answered by the engine (adds botocore's own parameter validation and serialisation), and a plain
boto3 client on moto's ``mock_aws``.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from workflowkit.ddb import DynamoEngine

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

TABLE = "bench"
SCHEMA: dict[str, Any] = {
    "TableName": TABLE,
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def wire(client: Any, engine: DynamoEngine) -> None:
    def answer(model: Any, params: dict[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]] | None:
        if model.name not in engine.OPERATIONS:
            return None
        status, parsed = engine.handle(model.name, json.loads(params["body"]))
        return _Http(status), parsed

    client.meta.events.register("before-call.dynamodb", answer)


def order(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"ORDER#{n}"},
        "sk": {"S": "META"},
        "status": {"S": "PLACED"},
        "amount": {"N": "250.5"},
        "customer": {"M": {"tier": {"S": "gold"}, "country": {"S": "DE"}}},
        "lines": {"L": [{"M": {"sku": {"S": "a"}, "qty": {"N": "1"}}}]},
    }


def requests() -> dict[str, Callable[[int], tuple[str, dict[str, Any]]]]:
    """Operation name -> a request builder taking a counter (so puts and transactions never collide)."""
    return {
        "GetItem": lambda n: (
            "GetItem",
            {"TableName": TABLE, "Key": {"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}}},
        ),
        "PutItem (attribute_not_exists)": lambda n: (
            "PutItem",
            {
                "TableName": TABLE,
                "Item": order(1_000_000 + n),
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        ),
        "UpdateItem (SET + if_not_exists + condition)": lambda n: (
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": "ORDER#2"}, "sk": {"S": "META"}},
                "UpdateExpression": "SET #s = :s, version = if_not_exists(version, :zero) + :one",
                "ConditionExpression": "attribute_exists(pk) AND #s <> :cancelled",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":s": {"S": "PAID"},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":cancelled": {"S": "CANCELLED"},
                },
                "ReturnValues": "ALL_NEW",
            },
        ),
        "Query (50 items, one hash key)": lambda n: (
            "Query",
            {
                "TableName": TABLE,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": "HISTORY"}, ":prefix": {"S": "EVENT#"}},
            },
        ),
        "TransactWriteItems (3 puts)": lambda n: (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": TABLE, "Item": order(2_000_000 + 3 * n + i)}} for i in range(3)
                ]
            },
        ),
    }


def seed(call: Callable[[str, dict[str, Any]], Any]) -> None:
    for n in range(1, 101):
        call("PutItem", {"TableName": TABLE, "Item": order(n)})
    for n in range(50):
        call(
            "PutItem",
            {
                "TableName": TABLE,
                "Item": {"pk": {"S": "HISTORY"}, "sk": {"S": f"EVENT#{n:04d}"}, "n": {"N": str(n)}},
            },
        )


def per_call(
    call: Callable[[str, dict[str, Any]], Any],
    build: Callable[[int], tuple[str, dict[str, Any]]],
    seconds: float,
) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            call(*build(count))
            count += 1
    return elapsed / count * 1e6


def client_call(client: Any) -> Callable[[str, dict[str, Any]], Any]:
    names = {
        "GetItem": client.get_item,
        "PutItem": client.put_item,
        "UpdateItem": client.update_item,
        "Query": client.query,
        "TransactWriteItems": client.transact_write_items,
    }

    def call(operation: str, request: dict[str, Any]) -> Any:
        return names[operation](**request)

    return call


@contextmanager
def moto_table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**SCHEMA)
        yield client


def main() -> None:
    with moto_table() as moto_client:
        description = moto_client.describe_table(TableName=TABLE)["Table"]

        def engine_handle() -> Callable[[str, dict[str, Any]], Any]:
            engine = DynamoEngine(lambda name: description if name == TABLE else None)

            def call(operation: str, request: dict[str, Any]) -> Any:
                status, parsed = engine.handle(operation, request)
                assert status == 200, parsed
                return parsed

            return call

        direct = engine_handle()
        wired_engine = DynamoEngine(lambda name: description if name == TABLE else None)
        wired_client = boto3.client("dynamodb", region_name="us-east-1")
        wire(wired_client, wired_engine)
        wired = client_call(wired_client)
        on_moto = client_call(moto_client)
        for call in (direct, wired, on_moto):
            seed(call)

        quiet = engine_handle()
        seed(quiet)
        print(
            f"{'operation':<46}{'engine.handle':>14}{'(GC off)':>12}{'boto3+engine':>15}{'boto3+moto':>14}"
            f"{'moto/engine':>13}"
        )
        for label, build in requests().items():
            engine_us = per_call(direct, build, 0.5)
            gc.disable()
            try:
                quiet_us = per_call(quiet, build, 0.5)
            finally:
                gc.enable()
            wired_us = per_call(wired, build, 0.5)
            moto_us = per_call(on_moto, build, 0.5)
            print(
                f"{label:<46}{engine_us:>11.1f} µs{quiet_us:>9.1f} µs{wired_us:>12.1f} µs{moto_us:>11.1f} µs"
                f"{moto_us / engine_us:>12.0f}x"
            )


if __name__ == "__main__":
    main()
