"""One notice per announcement: recorded, sent to the notices topic, announced.

The notice item (``pk=NOTICE#<eventId>``) is written PENDING before the message goes out and SENT after,
so a redelivered announcement never sends twice once SENT; a crash between send and record resends (a
person may, rarely, get the same message twice; never none).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from onboarding_notices.templates import TEMPLATES, Template
from onboarding_workflow import ONBOARDING_WORKFLOW
from onboarding_workflow.events import CustomerRegistered, OnboardingNoticeSent
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import DecisionRequested, WorkflowEscalated, WorkflowOutcome
from workflow_core.notice_ledger import SENT, NoticeLedger
from workflow_core.publisher import EventPublisher, OutgoingEvent

PRODUCER = "onboarding-notices"
CHANNEL = "sns"

logger = Logger(child=True)


def notice_id_for(event_id: str) -> str:
    return f"ntc_{event_id}"


class OnboardingNotices:
    def __init__(self, *, table: Any, sns_client: Any, topic_arn: str, publisher: EventPublisher) -> None:
        self._ledger = NoticeLedger(table)
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
        fields = {
            "noticeId": notice_id_for(event.event_id),
            "customerId": customer.customer_id,
            "template": template.name,
            "audience": template.audience,
            "channel": CHANNEL,
        }
        if self._ledger.record(event.event_id, fields) != SENT:
            message_id = self._send(event, template, data, customer)
            self._ledger.mark_sent(event.event_id, message_id)
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
