"""Helpers of the consumer tests (importable by test modules; conftest.py holds the fixtures)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

EVENTS = Path(__file__).resolve().parents[2] / "events" / "consumers"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUS_NAME = "workflow-bus-test"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

TABLE_ENV = {
    "INVENTORY_TABLE_NAME": "inventory-test",
    "SHIPMENTS_TABLE_NAME": "shipments-test",
    "NOTIFICATIONS_TABLE_NAME": "notifications-test",
    "IDEMPOTENCY_TABLE_NAME": "idempotency-test",
}


@dataclass
class Tables:
    inventory: Any
    shipments: Any
    notifications: Any
    idempotency: Any


@dataclass
class LambdaContext:
    """What Powertools reads from the Lambda context."""

    function_name: str = "consumer-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:consumer-test"
    aws_request_id: str = "req-test-0001"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class BusTap:
    """Every event published on the bus, delivered by a catch-all rule to an SQS queue (moto does this)."""

    def __init__(self, queue_url: str) -> None:
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._queue_url = queue_url
        self._seen: list[dict[str, Any]] = []

    def events(self) -> list[dict[str, Any]]:
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return self._seen
            for message in messages:
                self._seen.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def detail_types(self) -> list[str]:
        return [e["detail-type"] for e in self.events()]


def scan_all(table: Any) -> list[dict[str, Any]]:
    """Every item of a table, sorted by key, to compare states before and after."""
    items: list[dict[str, Any]] = table.scan(ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: str(i.get("pk", i.get("id"))))


def emitted_metrics(stdout: str) -> dict[str, float]:
    """Metric name -> total value, from the EMF documents (``_aws`` JSON lines) a handler printed."""
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


def never_made_table() -> Any:
    """An ItemTable's ``resource_table`` for tests where every call must stay on the plain client."""
    raise AssertionError("boto3's Table was made: a call fell back from the plain client")
