"""Notification: one customer message per outcome event, with the template the outcome calls for."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from notification.notices import NotificationService
from tests.unit.consumers.consumer_support import REGION, BusTap, LambdaContext, Tables, scan_all
from workflow_core.publisher import RecordingPublisher, derived_event_id
from workflow_core.registry import parse_event

MakeEvent = Callable[..., dict[str, Any]]


class CustomerInbox:
    """An SQS queue subscribed to the customer topic: what customers would receive."""

    def __init__(self) -> None:
        self.sns = boto3.client("sns", region_name=REGION)
        self._sqs = boto3.client("sqs", region_name=REGION)
        self.topic_arn = self.sns.create_topic(Name=os.environ["CUSTOMER_TOPIC_ARN"].rsplit(":", 1)[1])[
            "TopicArn"
        ]
        self._url = self._sqs.create_queue(QueueName="customer-inbox")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn["QueueArn"])

    def messages(self) -> list[dict[str, Any]]:
        received = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in received]


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


@pytest.mark.parametrize(
    ("fixture", "template"),
    [
        ("workflow_completed", "order-confirmed"),
        ("workflow_compensated", "order-cancelled-refunded"),
        ("workflow_failed", "order-failed"),
        ("workflow_escalated", "order-under-review"),
    ],
)
def test_each_outcome_sends_its_template_to_the_customer(
    service: NotificationService,
    *,
    inbox: CustomerInbox,
    publisher: RecordingPublisher,
    tables: Tables,
    eventbridge_event: MakeEvent,
    fixture: str,
    template: str,
) -> None:
    # GIVEN an outcome event of the order workflow
    event = parse_event(eventbridge_event(fixture))
    # WHEN notification handles it
    service.handle(event)
    # THEN the customer topic gets one message, with the template and customer as attributes
    (message,) = inbox.messages()
    assert message["MessageAttributes"]["template"]["Value"] == template
    assert message["MessageAttributes"]["customerId"]["Value"] == "cus-42"
    assert message["MessageAttributes"]["audience"]["Value"] == "customer"  # one filter policy selects it
    assert json.loads(message["Message"])["orderId"] == "ord-1001"
    # AND CustomerNotified is announced, and the notice is recorded as SENT
    (notified,) = publisher.events
    assert notified.detail_type == "CustomerNotified"
    assert notified.metadata.event_id == derived_event_id(event.event_id, "CustomerNotified")
    assert notified.detail()["data"]["template"] == template
    (notice,) = scan_all(tables.notifications)
    assert notice["pk"] == f"NOTICE#{event.event_id}"
    assert notice["status"] == "SENT"


def test_the_same_outcome_twice_sends_once(
    service: NotificationService,
    inbox: CustomerInbox,
    publisher: RecordingPublisher,
    eventbridge_event: MakeEvent,
) -> None:
    # GIVEN an outcome already notified (the idempotency record expired, or was bypassed)
    event = parse_event(eventbridge_event("workflow_completed"))
    service.handle(event)
    # WHEN it is handled again
    service.handle(event)
    # THEN the customer got one message, and CustomerNotified was re-announced under the same id
    assert len(inbox.messages()) == 1
    assert [e.metadata.event_id for e in publisher.events] == [
        derived_event_id("evt-workflow-completed", "CustomerNotified")
    ] * 2


def test_a_notice_left_pending_by_a_crash_is_sent_on_redelivery(
    service: NotificationService, inbox: CustomerInbox, tables: Tables, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a notice recorded PENDING by an invocation that died before sending
    event = parse_event(eventbridge_event("workflow_failed"))
    tables.notifications.put_item(Item={"pk": f"NOTICE#{event.event_id}", "status": "PENDING"})
    # WHEN the outcome is redelivered
    service.handle(event)
    # THEN the message goes out (never none) and the notice is SENT
    assert len(inbox.messages()) == 1
    assert scan_all(tables.notifications)[0]["status"] == "SENT"


@pytest.mark.usefixtures("fixed_clock")
def test_handler_notifies_once_per_event_and_dead_letters_bad_events(
    load_handler: Callable[[str], Any],
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
) -> None:
    # GIVEN the customer topic, an outcome delivered twice, a malformed one and an unknown version
    inbox = CustomerInbox()
    handler = load_handler("notification.handler")
    good = eventbridge_event("workflow_completed")
    malformed = eventbridge_event("workflow_failed", event_id="evt-bad", customerId=None)
    future = eventbridge_event("workflow_escalated", event_id="evt-v9")
    future["detail"]["metadata"]["schemaVersion"] = 9
    # WHEN the handler processes the batch
    response = handler.lambda_handler(sqs_batch(good, malformed, future, good), LambdaContext())
    # THEN the bad records fail without a notice; the good one is sent once and announced once
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}, {"itemIdentifier": "msg-2"}]}
    assert [n["pk"] for n in scan_all(tables.notifications)] == ["NOTICE#evt-workflow-completed"]
    assert len(inbox.messages()) == 1
    published = bus.events()
    assert [e["detail-type"] for e in published] == ["CustomerNotified"]
    assert published[0]["source"] == "commerce.notifications"
