"""The order workflow's notify step (v2): once paid, the customer is told the order is confirmed.

The controller starts the step with ``StepRequested`` (``StepRetryRequested`` for a new attempt); the
notification service sends one message per attempt and reports OrderConfirmationSent, or
OrderConfirmationFailed when the topic refuses the message for good. A transient refusal is retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from notification.notices import NotificationService
from tests.unit.consumers.consumer_support import BusTap, LambdaContext, Tables, scan_all
from tests.unit.consumers.test_notification import CustomerInbox
from workflow_core.catalog import DomainEvent
from workflow_core.errors import InvalidEventError
from workflow_core.publisher import RecordingPublisher, derived_event_id
from workflow_core.registry import parse_event

MakeEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def inbox(tables: Tables) -> CustomerInbox:
    return CustomerInbox()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def service(
    tables: Tables, inbox: CustomerInbox, publisher: RecordingPublisher, fixed_clock: Any
) -> NotificationService:
    return NotificationService(
        table=tables.notifications, sns_client=inbox.sns, topic_arn=inbox.topic_arn, publisher=publisher
    )


def requested(
    make: MakeEvent, *, step: str = "notify", attempt: int = 1, retry: bool = False
) -> dict[str, Any]:
    """The controller's StepRequested (or StepRetryRequested) for the notify step of an order v2."""
    event = make("step_retry_requested_shipping", event_id=f"evt-notify-{attempt}")
    event["detail"]["workflow"]["version"] = 2
    if not retry:
        event["detail-type"] = "StepRequested"
        event["detail"]["metadata"]["schemaVersion"] = 1
    event["detail"]["data"].update(step=step, attempt=attempt)
    return event


def step_event(make: MakeEvent, **kwargs: Any) -> DomainEvent:
    return parse_event(requested(make, **kwargs))


def test_the_customer_is_told_the_order_is_confirmed_and_the_step_completes(
    service: NotificationService,
    *,
    inbox: CustomerInbox,
    publisher: RecordingPublisher,
    tables: Tables,
    eventbridge_event: MakeEvent,
) -> None:
    # GIVEN the controller starts the notify step of a paid order
    event = step_event(eventbridge_event)
    # WHEN notification handles it
    service.handle(event)
    # THEN one message with the payment-confirmed template reaches the customer
    (message,) = inbox.messages()
    assert message["MessageAttributes"]["template"]["Value"] == "payment-confirmed"
    assert json.loads(message["Message"])["orderId"] == "ord-1001"
    # AND the step's completion is announced, in the workflow, with an id derived from the request
    (sent,) = publisher.events
    assert sent.detail_type == "OrderConfirmationSent"
    assert sent.metadata.event_id == derived_event_id(event.event_id, "OrderConfirmationSent")
    assert sent.workflow is not None
    assert (sent.workflow.name, sent.workflow.version) == ("order", 2)
    assert sent.detail()["data"]["template"] == "payment-confirmed"
    assert [n["status"] for n in scan_all(tables.notifications)] == ["SENT"]


def test_a_retry_of_the_step_sends_for_its_attempt(
    service: NotificationService,
    inbox: CustomerInbox,
    publisher: RecordingPublisher,
    eventbridge_event: MakeEvent,
) -> None:
    service.handle(step_event(eventbridge_event, attempt=2, retry=True))
    assert len(inbox.messages()) == 1
    assert publisher.detail_types() == ["OrderConfirmationSent"]


def test_the_same_request_twice_sends_once(
    service: NotificationService,
    inbox: CustomerInbox,
    publisher: RecordingPublisher,
    eventbridge_event: MakeEvent,
) -> None:
    event = step_event(eventbridge_event)
    service.handle(event)
    service.handle(event)
    assert len(inbox.messages()) == 1
    assert publisher.detail_types() == ["OrderConfirmationSent"] * 2
    assert len({e.metadata.event_id for e in publisher.events}) == 1


class RefusingSns:
    """An SNS client whose Publish fails with ``code``."""

    def __init__(self, code: str) -> None:
        self.code = code

    def publish(self, **_: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": self.code, "Message": "refused by the test"}}, "Publish")


def test_a_message_the_topic_refuses_for_good_fails_the_step_explicitly(
    tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent, fixed_clock: Any
) -> None:
    # GIVEN a topic whose key is disabled (no retry can send this message)
    service = NotificationService(
        table=tables.notifications,
        sns_client=RefusingSns("KMSDisabled"),
        topic_arn="arn:aws:sns:eu-west-1:123456789012:t",
        publisher=publisher,
    )
    # WHEN the step is requested
    service.handle(step_event(eventbridge_event))
    # THEN the step fails with the reason, and the notice records the refusal
    (failed,) = publisher.events
    assert failed.detail_type == "OrderConfirmationFailed"
    assert failed.detail()["data"] == {
        "orderId": "ord-1001",
        "reason": "SEND_REJECTED",
        "message": "KMSDisabled: refused by the test",
    }
    (notice,) = scan_all(tables.notifications)
    assert (notice["status"], notice["errorCode"]) == ("FAILED", "KMSDisabled")


def test_a_transient_refusal_is_retried_by_sqs_not_reported(
    tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent, fixed_clock: Any
) -> None:
    service = NotificationService(
        table=tables.notifications,
        sns_client=RefusingSns("Throttled"),
        topic_arn="arn:aws:sns:eu-west-1:123456789012:t",
        publisher=publisher,
    )
    with pytest.raises(ClientError):
        service.handle(step_event(eventbridge_event))
    assert publisher.events == []


def test_a_request_for_another_step_is_a_wiring_error(
    service: NotificationService, inbox: CustomerInbox, eventbridge_event: MakeEvent
) -> None:
    with pytest.raises(InvalidEventError, match="runs step 'notify'"):
        service.handle(step_event(eventbridge_event, step="shipping"))
    assert inbox.messages() == []


@pytest.mark.usefixtures("fixed_clock")
def test_handler_counts_the_step_under_its_template(
    load_handler: Callable[[str], Any],
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
) -> None:
    inbox = CustomerInbox()
    handler = load_handler("notification.handler")
    response = handler.lambda_handler(sqs_batch(requested(eventbridge_event)), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert len(inbox.messages()) == 1
    assert bus.detail_types() == ["OrderConfirmationSent"]
