"""One notice per announcement: recorded, sent to the notices topic, announced.

The notice item (``pk=NOTICE#<eventId>``) is written PENDING before the message goes out and SENT after,
so a redelivered announcement never sends twice once SENT; a crash between send and record resends (a
person may, rarely, get the same message twice; never none).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from onboarding_notices.templates import TEMPLATES, Template
from onboarding_workflow import ONBOARDING_WORKFLOW
from onboarding_workflow.events import CustomerRegistered, OnboardingNoticeSent
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import DecisionRequested, WorkflowEscalated, WorkflowOutcome
from workflow_core.publisher import EventPublisher, OutgoingEvent

PRODUCER = "onboarding-notices"
CHANNEL = "sns"
PENDING = "PENDING"
SENT = "SENT"

logger = Logger(child=True)


def notice_pk(event_id: str) -> str:
    return f"NOTICE#{event_id}"


def notice_id_for(event_id: str) -> str:
    return f"ntc_{event_id}"


class OnboardingNotices:
    def __init__(self, *, table: Any, sns_client: Any, topic_arn: str, publisher: EventPublisher) -> None:
        self._table = table
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._publisher = publisher
        # What the service handles, in one place: one notice per announcement (see TEMPLATES).
        self.router: EventRouter[OutgoingEvent] = EventRouter()
        self.router.on(*TEMPLATES)(self._notify)

    def handle(self, event: DomainEvent) -> OutgoingEvent:
        return self.router.dispatch(event)

    def _notify(self, event: DomainEvent) -> OutgoingEvent:
        template = TEMPLATES[event.detail_type]
        data = event.data
        if not isinstance(data, WorkflowOutcome | WorkflowEscalated | DecisionRequested):
            raise InvalidEventError(f"{event.detail_type} carries {type(data).__name__}, not an announcement")
        customer = _customer_of(event)
        if self._record(event, template, customer.customer_id) != SENT:
            message_id = self._send(event, template, data, customer)
            self._mark_sent(event.event_id, message_id)
            logger.info("notice sent", extra={"template": template.name, "audience": template.audience})
        else:
            logger.info("notice already sent; announcing it again", extra={"template": template.name})
        sent = OnboardingNoticeSent(
            customer_id=customer.customer_id,
            notice_id=notice_id_for(event.event_id),
            template=template.name,
            audience=template.audience,
            channel=CHANNEL,
        )
        event_out = outcome_event(event, "OnboardingNoticeSent", sent, producer=PRODUCER)
        self._publisher.publish([event_out])
        return event_out

    def _record(self, event: DomainEvent, template: Template, customer_id: str) -> str:
        """Write the notice PENDING; returns the status it has after this call."""
        try:
            self._table.put_item(
                Item={
                    "pk": notice_pk(event.event_id),
                    "noticeId": notice_id_for(event.event_id),
                    "customerId": customer_id,
                    "template": template.name,
                    "audience": template.audience,
                    "channel": CHANNEL,
                    "status": PENDING,
                    "createdAt": clock.now().isoformat(),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._table.get_item(Key={"pk": notice_pk(event.event_id)}, ConsistentRead=True)["Item"]
            return str(item["status"])
        return PENDING

    def _send(
        self,
        event: DomainEvent,
        template: Template,
        data: WorkflowOutcome | WorkflowEscalated | DecisionRequested,
        customer: CustomerRegistered,
    ) -> str:
        message: dict[str, Any] = {
            "template": template.name,
            "audience": template.audience,
            "customerId": customer.customer_id,
            "workflowId": data.workflow_id,
            "noticeId": notice_id_for(event.event_id),
        }
        if template.audience == "customer":
            message["email"] = customer.email
            message["language"] = customer.preferences.language
        if isinstance(data, DecisionRequested):
            message.update(step=data.step, approvers=data.approvers, deadline=data.deadline.isoformat())
        elif isinstance(data, WorkflowEscalated):
            message.update(reason=data.reason, failedStep=data.failed_step)
        elif data.reason:
            message["reason"] = data.reason
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Message=json.dumps(message, separators=(",", ":")),
            MessageAttributes={
                "audience": {"DataType": "String", "StringValue": template.audience},
                "customerId": {"DataType": "String", "StringValue": customer.customer_id},
                "template": {"DataType": "String", "StringValue": template.name},
            },
        )
        return str(response["MessageId"])

    def _mark_sent(self, event_id: str, message_id: str) -> None:
        try:
            self._table.update_item(
                Key={"pk": notice_pk(event_id)},
                UpdateExpression="SET #status = :sent, messageId = :message_id, sentAt = :now",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sent": SENT,
                    ":pending": PENDING,
                    ":message_id": message_id,
                    ":now": clock.now().isoformat(),
                },
            )
        except ClientError as error:
            # A concurrent delivery of the same event marked it first: the notice is sent either way.
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


def _customer_of(event: DomainEvent) -> CustomerRegistered:
    """The customer an announcement is about: the subject in its workflow context."""
    if event.workflow is None or event.workflow.name != ONBOARDING_WORKFLOW.name:
        raise InvalidEventError(f"{event.detail_type} is not about an onboarding workflow")
    try:
        return CustomerRegistered.model_validate(event.workflow.subject)
    except ValueError as error:
        raise InvalidEventError(
            f"{event.detail_type}: the workflow subject is not an application: {error}"
        ) from None
