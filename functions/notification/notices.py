"""One customer notice per outcome event, and the order workflow's ``notify`` step: recorded, sent to the
customer topic, announced.

The notice item (``pk=NOTICE#<eventId>``) is written PENDING before the message goes out and SENT after,
so a redelivered outcome never sends twice once SENT; a crash between send and record resends (the
customer may, rarely, get the same message twice; never none).

The ``notify`` step (``StepRequested``, or ``StepRetryRequested`` for a new attempt) tells the customer the
order is confirmed once it is paid, and reports OrderConfirmationSent. A message the topic refuses for
good (``REFUSED_FOR_GOOD``) is the step's failure, OrderConfirmationFailed: the step gates nothing, so
the order goes on. A transient refusal is retried by SQS (and, past the step's deadline, recorded).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from order_workflow import NOTIFY, ORDER_WORKFLOW
from order_workflow.events import (
    CustomerNotified,
    Order,
    OrderConfirmationFailed,
    OrderConfirmationSent,
    OrderSubmitted,
)
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event, step_trigger
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import STEP_RETRY_REQUESTED, WorkflowEscalated, WorkflowOutcome
from workflow_core.notice_ledger import SENT, NoticeLedger
from workflow_core.publisher import EventPublisher, OutgoingEvent
from workflow_core.registry import deployed

PRODUCER = "notification"
CHANNEL = "sns"
# What the notify step sends: the order is paid and on its way through the warehouse.
ORDER_PAID_TEMPLATE = "payment-confirmed"
# SNS errors no retry of the same message fixes (a bad message, a missing or disabled topic or key, a
# grant missing): the notify step fails at once instead of waiting out its deadline.
REFUSED_FOR_GOOD = frozenset(
    {
        "AuthorizationError",
        "EndpointDisabled",
        "InvalidParameter",
        "InvalidParameterValue",
        "KMSAccessDenied",
        "KMSDisabled",
        "KMSInvalidState",
        "KMSNotFound",
        "NotFound",
        "ValidationException",
    }
)

# Outcome detail-type -> the customer message template.
TEMPLATES: Mapping[str, str] = {
    "WorkflowCompleted": "order-confirmed",
    "WorkflowCompensated": "order-cancelled-refunded",
    "WorkflowFailed": "order-failed",
    "WorkflowEscalated": "order-under-review",
}
_HEARD = ORDER_WORKFLOW.listeners["notification"]
if set(TEMPLATES) != set(_HEARD):  # the declaration decides what is notified
    raise RuntimeError(f"templates {sorted(TEMPLATES)} do not match what notification hears: {_HEARD}")

logger = Logger(child=True)


def notification_id_for(event_id: str) -> str:
    return f"ntf_{event_id}"


class NotificationService:
    def __init__(self, *, table: Any, sns_client: Any, topic_arn: str, publisher: EventPublisher) -> None:
        self._ledger = NoticeLedger(table)
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._publisher = publisher
        # What notification handles, in one place: one notice per workflow outcome (see TEMPLATES), and
        # the notify step of every live version that has it.
        self.router: EventRouter[OutgoingEvent] = EventRouter()
        self.router.on(*TEMPLATES)(self._notify)
        self.router.on(*deployed().step_triggers(NOTIFY.name), STEP_RETRY_REQUESTED)(self._confirm_order)

    def handle(self, event: DomainEvent) -> OutgoingEvent:
        return self.router.dispatch(event)

    def _confirm_order(self, event: DomainEvent) -> OutgoingEvent:
        trigger = step_trigger(event, NOTIFY.name)
        order = cast(Order, trigger.subject)
        notification_id = notification_id_for(event.event_id)
        status = self._ledger.record(event.event_id, self._fields(event, ORDER_PAID_TEMPLATE, order))
        if status != SENT:
            try:
                message_id = self._send(event, ORDER_PAID_TEMPLATE, order, workflow_id=order.order_id)
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                if code not in REFUSED_FOR_GOOD:
                    raise  # throttled, or SNS's own trouble: SQS redelivers
                self._ledger.mark_failed(event.event_id, code)
                logger.warning("order confirmation refused", extra={"sns_error": code})
                failed = OrderConfirmationFailed(
                    order_id=order.order_id, reason="SEND_REJECTED", message=f"{code}: {_message(error)}"
                )
                return self._announce(
                    outcome_event(event, "OrderConfirmationFailed", failed, producer=PRODUCER)
                )
            self._ledger.mark_sent(event.event_id, message_id)
            logger.info("customer told the order is confirmed", extra={"sns_message_id": message_id})
        sent = OrderConfirmationSent(
            order_id=order.order_id,
            customer_id=order.customer_id,
            notification_id=notification_id,
            template=ORDER_PAID_TEMPLATE,
            channel=CHANNEL,
        )
        return self._announce(outcome_event(event, "OrderConfirmationSent", sent, producer=PRODUCER))

    @staticmethod
    def _fields(event: DomainEvent, template: str, order: Order) -> dict[str, str]:
        return {
            "notificationId": notification_id_for(event.event_id),
            "orderId": order.order_id,
            "customerId": order.customer_id,
            "template": template,
            "channel": CHANNEL,
        }

    def _announce(self, event: OutgoingEvent) -> OutgoingEvent:
        self._publisher.publish([event])
        return event

    def _notify(self, event: DomainEvent) -> OutgoingEvent:
        template = TEMPLATES[event.detail_type]
        data = event.data
        if not isinstance(data, WorkflowOutcome | WorkflowEscalated):
            raise InvalidEventError(f"{event.detail_type} carries {type(data).__name__}, not an outcome")
        order = _order_of(event)
        notification_id = notification_id_for(event.event_id)
        status = self._ledger.record(event.event_id, self._fields(event, template, order))
        if status != SENT:
            reason = data.reason if isinstance(data, WorkflowOutcome) else None
            message_id = self._send(event, template, order, workflow_id=data.workflow_id, reason=reason)
            self._ledger.mark_sent(event.event_id, message_id)
            logger.info("customer notified", extra={"template": template, "sns_message_id": message_id})
        else:
            logger.info("notice already sent; announcing it again", extra={"template": template})
        notified = CustomerNotified(
            order_id=order.order_id,
            customer_id=order.customer_id,
            notification_id=notification_id,
            template=template,
            channel=CHANNEL,
        )
        return self._announce(outcome_event(event, "CustomerNotified", notified, producer=PRODUCER))

    def _send(
        self, event: DomainEvent, template: str, order: Order, *, workflow_id: str, reason: str | None = None
    ) -> str:
        message: dict[str, Any] = {
            "template": template,
            "orderId": order.order_id,
            "customerId": order.customer_id,
            "workflowId": workflow_id,
            "notificationId": notification_id_for(event.event_id),
        }
        if reason:
            message["reason"] = reason
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Message=json.dumps(message, separators=(",", ":")),
            MessageAttributes={
                "customerId": {"DataType": "String", "StringValue": order.customer_id},
                "template": {"DataType": "String", "StringValue": template},
                # Every notice on the shared topic names its audience, so one filter policy selects it.
                "audience": {"DataType": "String", "StringValue": "customer"},
            },
        )
        return str(response["MessageId"])


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))[:300]


def _order_of(event: DomainEvent) -> Order:
    """The order an announcement is about: the subject in its workflow context."""
    if event.workflow is None or event.workflow.name != ORDER_WORKFLOW.name:
        raise InvalidEventError(f"{event.detail_type} is not about an order workflow")
    try:
        return OrderSubmitted.model_validate(event.workflow.subject)
    except ValueError as error:
        raise InvalidEventError(
            f"{event.detail_type}: the workflow subject is not an order: {error}"
        ) from None
