"""Fixtures of the front door tests: HTTP API v2 requests and a moto-backed bus and workflows table."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.factories import create_pk_sk_table

EVENTS = Path(__file__).resolve().parents[2] / "events" / "frontdoor"
REGION = "eu-west-1"
BUS_NAME = "workflow-bus-test"
WORKFLOW_TABLE = "workflows-test"
CALLBACKS_TABLE = "callbacks-test"


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


@pytest.fixture
def order_body() -> dict[str, Any]:
    return load("order_submitted_request")


@pytest.fixture
def http_request() -> Callable[..., dict[str, Any]]:
    """An HTTP API (payload v2) request as API Gateway hands it to Lambda, IAM-authorised."""

    def make(
        method: str,
        path: str,
        body: Any = None,
        *,
        request_id: str = "req-0001",
        iam: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event = copy.deepcopy(load("http_api_request"))
        event["rawPath"] = path
        event["requestContext"]["http"].update(method=method, path=path)
        event["requestContext"]["requestId"] = request_id
        if iam is not None:
            event["requestContext"]["authorizer"]["iam"] = iam
        event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
        return event

    return make


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "EVENT_BUS_NAME": BUS_NAME,
        "WORKFLOW_TABLE_NAME": WORKFLOW_TABLE,
        "CALLBACKS_TABLE_NAME": CALLBACKS_TABLE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "WorkflowKitTest",
        "POWERTOOLS_SERVICE_NAME": "frontdoor-test",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def workflows_table(aws: None) -> Any:
    return create_pk_sk_table(boto3.resource("dynamodb", region_name=REGION), WORKFLOW_TABLE)


@pytest.fixture
def callbacks_table(aws: None) -> Any:
    """The front door's callbacks table: claims of decisions and the task tokens state machines leave."""
    return boto3.resource("dynamodb", region_name=REGION).create_table(
        TableName=CALLBACKS_TABLE,
        KeySchema=[
            {"AttributeName": "workflowId", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "workflowId", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
