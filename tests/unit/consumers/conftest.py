"""Fixtures of the consumer tests: moto tables, a tap on the bus, events, SQS batches, a fixed clock."""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.unit.consumers.consumer_support import (
    ACCOUNT,
    BUS_NAME,
    EVENTS,
    NOW,
    REGION,
    TABLE_ENV,
    BusTap,
    LambdaContext,
    Tables,
    scan_all,
)
from workflow_core import clock


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "EVENT_BUS_NAME": BUS_NAME,
        "CUSTOMER_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:customer-notices-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "WorkflowKitTest",
        "POWERTOOLS_SERVICE_NAME": "consumer-test",
        **TABLE_ENV,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def fixed_clock() -> Iterator[Callable[[datetime], None]]:
    """The runtime clock, frozen at NOW; call the fixture's value to move it."""
    current = [NOW]
    previous = clock.install(lambda: current[0])

    def set_time(value: datetime) -> None:
        current[0] = value

    yield set_time
    clock.install(previous)


@pytest.fixture
def tables(aws: None) -> Tables:
    dynamodb = boto3.resource("dynamodb", region_name=REGION)

    def create(name: str, key: str) -> Any:
        return dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    return Tables(
        inventory=create(TABLE_ENV["INVENTORY_TABLE_NAME"], "pk"),
        shipments=create(TABLE_ENV["SHIPMENTS_TABLE_NAME"], "pk"),
        notifications=create(TABLE_ENV["NOTIFICATIONS_TABLE_NAME"], "pk"),
        idempotency=create(TABLE_ENV["IDEMPOTENCY_TABLE_NAME"], "id"),
    )


@pytest.fixture
def bus(aws: None) -> BusTap:
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS_NAME)
    queue_url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="tap-all", EventBusName=BUS_NAME, EventPattern=json.dumps({"account": [ACCOUNT]}))
    events.put_targets(Rule="tap-all", EventBusName=BUS_NAME, Targets=[{"Id": "tap", "Arn": queue_arn}])
    return BusTap(queue_url)


@pytest.fixture
def load_handler(tables: Tables, bus: BusTap) -> Callable[[str], ModuleType]:
    """Imports a handler module afresh inside the mock, as a cold start would, reading the test env."""

    def load(module: str) -> ModuleType:
        sys.modules.pop(module, None)
        return importlib.import_module(module)

    return load


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


# --- events -----------------------------------------------------------------------------------------
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


@pytest.fixture
def eventbridge_event() -> Callable[..., dict[str, Any]]:
    """An EventBridge event from tests/events/consumers/<name>.json, optionally with a new id or order.

    ``order_id`` rewrites the order id everywhere it appears (data, nested order, correlation id).
    """

    def make(
        name: str, *, event_id: str | None = None, order_id: str | None = None, **data: Any
    ) -> dict[str, Any]:
        event = copy.deepcopy(_load(name))
        if order_id is not None:
            event = json.loads(json.dumps(event).replace('"ord-1001"', json.dumps(order_id)))
        if event_id is not None:
            event["detail"]["metadata"]["eventId"] = event_id
        event["detail"]["data"].update(data)
        return event

    return make


@pytest.fixture
def sqs_batch() -> Callable[..., dict[str, Any]]:
    """An SQS event as Lambda receives it from a queue an EventBridge rule targets: body = the event JSON."""

    def make(*bodies: dict[str, Any] | str) -> dict[str, Any]:
        records = []
        for index, body in enumerate(bodies):
            text = body if isinstance(body, str) else json.dumps(body)
            records.append(
                {
                    "messageId": f"msg-{index}",
                    "receiptHandle": f"rh-{index}",
                    "body": text,
                    "attributes": {
                        "ApproximateReceiveCount": "1",
                        "SentTimestamp": "1740830400000",
                        "SenderId": "AIDAEXAMPLE",
                        "ApproximateFirstReceiveTimestamp": "1740830400000",
                    },
                    "messageAttributes": {},
                    "md5OfBody": "0" * 32,
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:consumer-test",
                    "awsRegion": REGION,
                }
            )
        return {"Records": records}

    return make


@pytest.fixture
def snapshot() -> Callable[[Any], list[dict[str, Any]]]:
    return scan_all
