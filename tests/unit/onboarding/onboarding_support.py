"""Helpers of the onboarding services' tests: applications, events in an onboarding context, moto tables.

Events are built as EventBridge delivers them (``detail-type``, ``source``, ``detail`` = the envelope
with the workflow context), then parsed with the app's catalog, so every test runs on the contracts as
deployed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.publisher import RecordingPublisher
from workflow_core.registry import parse_event

REGION = "us-east-1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

APPLICATION: dict[str, Any] = {
    "customerId": "cus-1",
    "givenName": "Ada",
    "familyName": "Lovelace",
    "dateOfBirth": "1990-12-10",
    "email": "ada@example.com",
    "phone": "+4915100000000",
    "country": "DE",
    "document": {"kind": "PASSPORT", "number": "PASS-0001", "issuingCountry": "DE"},
    "product": "CURRENT",
    "preferences": {"channels": ["EMAIL", "SMS"], "language": "de", "marketingOptIn": False},
}
VERIFIED = {
    "customerId": "cus-1",
    "verificationId": "idv_cus-1",
    "result": "PASS",
    "riskLevel": "LOW",
    "reasons": [],
    "provider": "sandbox",
}


def application(customer_id: str = "cus-1", **fields: Any) -> dict[str, Any]:
    """A CustomerRegistered data (wire form); ``fields`` override top-level fields."""
    subject = copy.deepcopy(APPLICATION)
    subject.update(customerId=customer_id, **fields)
    return subject


def event(
    detail_type: str,
    data: dict[str, Any],
    *,
    source: str,
    subject: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    event_id: str | None = None,
    schema_version: int = 1,
) -> DomainEvent:
    """An onboarding event as a consumer receives it, parsed with the deployed catalog."""
    subject = subject or application()
    customer_id = subject["customerId"]
    detail = {
        "metadata": {
            "eventId": event_id or f"evt-{customer_id}-{detail_type}",
            "correlationId": customer_id,
            "causationId": "evt-cause",
            "schemaVersion": schema_version,
            "occurredAt": NOW.isoformat(),
            "producer": "test",
        },
        "workflow": {
            "name": "onboarding",
            "version": 1,
            "subject": subject,
            "outputs": {"verify": {**VERIFIED, "customerId": customer_id}} if outputs is None else outputs,
        },
        "data": data,
    }
    return parse_event({"detail-type": detail_type, "source": source, "detail": detail})


def step_requested(
    step: str, *, attempt: int = 1, subject: dict[str, Any] | None = None, event_id: str | None = None
) -> DomainEvent:
    """The controller starting ``step``: ``StepRequested`` for attempt 1, ``StepRetryRequested`` after."""
    customer_id = (subject or APPLICATION)["customerId"]
    data = {"workflowId": customer_id, "step": step, "attempt": attempt}
    name, version = ("StepRequested", 1) if attempt == 1 else ("StepRetryRequested", 2)
    return event(
        name, data, source="workflow.controller", subject=subject, schema_version=version, event_id=event_id
    )


def undo_request(
    detail_type: str,
    customer_id: str = "cus-1",
    *,
    step_attempt: int = 1,
    compensation_attempt: int = 1,
    **kw: Any,
) -> DomainEvent:
    data = {
        "customerId": customer_id,
        "reason": "preferences failed",
        "stepAttempt": step_attempt,
        "compensationAttempt": compensation_attempt,
    }
    return event(detail_type, data, source="workflow.controller", subject=application(customer_id), **kw)


def create_table(name: str) -> Any:
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


# --- fixtures (imported by the conftest of each onboarding service's tests) ------------------------------
@pytest.fixture
def aws() -> Iterator[None]:
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
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture(autouse=True)
def onboarding_deployed() -> None:
    """The services read the app's registry; until it lists onboarding there is nothing to test."""
    from workflow_core.registry import deployed  # noqa: PLC0415 - read when the test runs

    if "onboarding" not in deployed().names:
        pytest.skip("the onboarding workflow is not in functions/workflow_registry.py yet")
