"""Onboarding notices: officers hear what awaits them, customers how it ended; each notice sent once."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
import pytest

from onboarding_notices.notices import OnboardingNotices
from tests.unit.onboarding.onboarding_support import REGION, create_table, event
from workflow_core.errors import InvalidEventError
from workflow_core.publisher import RecordingPublisher


class Inbox:
    """An SQS queue subscribed to the notices topic: what officers and customers would receive."""

    def __init__(self) -> None:
        self.sns = boto3.client("sns", region_name=REGION)
        self._sqs = boto3.client("sqs", region_name=REGION)
        self.topic_arn = self.sns.create_topic(Name="notices-test")["TopicArn"]
        self._url = self._sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn["QueueArn"])

    def messages(self) -> list[dict[str, Any]]:
        received = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(json.loads(m["Body"])["Message"]) for m in received]


@pytest.fixture
def inbox(aws: None) -> Inbox:
    return Inbox()


@pytest.fixture
def service(inbox: Inbox, publisher: RecordingPublisher, fixed_clock: Any) -> OnboardingNotices:
    return OnboardingNotices(
        table=create_table("onboarding-notices-test"),
        sns_client=inbox.sns,
        topic_arn=inbox.topic_arn,
        publisher=publisher,
    )


DECISION = {
    "workflowId": "cus-1",
    "workflowType": "onboarding",
    "step": "review",
    "attempt": 1,
    "approvers": "compliance-officer",
    "deadline": "2026-03-04T09:00:00+00:00",
}


@pytest.mark.parametrize(
    ("detail_type", "data", "template", "audience"),
    [
        ("DecisionRequested", DECISION, "review-requested", "compliance-officer"),
        ("DecisionReminder", DECISION, "review-reminder", "compliance-officer"),
        (
            "WorkflowEscalated",
            {
                "workflowId": "cus-1",
                "workflowType": "onboarding",
                "reason": "review overdue",
                "failedStep": "review",
            },
            "onboarding-escalated",
            "compliance-officer",
        ),
        (
            "WorkflowCompleted",
            {"workflowId": "cus-1", "workflowType": "onboarding", "status": "COMPLETED"},
            "welcome",
            "customer",
        ),
        (
            "WorkflowFailed",
            {
                "workflowId": "cus-1",
                "workflowType": "onboarding",
                "status": "FAILED",
                "reason": "review failed",
            },
            "application-declined",
            "customer",
        ),
    ],
)
def test_each_announcement_reaches_its_audience(  # noqa: PLR0917 - fixtures and parameters
    service: OnboardingNotices,
    inbox: Inbox,
    publisher: RecordingPublisher,
    detail_type: str,
    data: dict[str, Any],
    template: str,
    audience: str,
) -> None:
    version = 1 if detail_type.startswith("Decision") else 2
    service.handle(event(detail_type, data, source="workflow.controller", schema_version=version))

    (message,) = inbox.messages()
    assert (message["template"], message["audience"], message["customerId"]) == (template, audience, "cus-1")
    assert ("email" in message) is (audience == "customer")  # officers are not sent the customer's address
    (sent,) = publisher.events
    assert sent.detail_type == "OnboardingNoticeSent"
    assert sent.data.to_wire()["audience"] == audience


def test_a_redelivered_announcement_is_not_sent_twice(
    service: OnboardingNotices, inbox: Inbox, publisher: RecordingPublisher
) -> None:
    requested = event("DecisionRequested", DECISION, source="workflow.controller")
    service.handle(requested)
    service.handle(requested)

    assert len(inbox.messages()) == 1
    assert publisher.detail_types() == ["OnboardingNoticeSent", "OnboardingNoticeSent"]


def test_an_announcement_of_another_workflow_is_refused(service: OnboardingNotices) -> None:
    other = event("DecisionRequested", DECISION, source="workflow.controller")
    assert other.workflow is not None
    foreign = dataclasses.replace(other, workflow=other.workflow.model_copy(update={"name": "order"}))
    with pytest.raises(InvalidEventError, match="not about an onboarding"):
        service.handle(foreign)
