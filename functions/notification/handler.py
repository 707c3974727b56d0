"""Lambda entry point of the notification service: SQS batch of outcome events and notify steps ->
NotificationService."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from notification.deployment import CUSTOMER_TOPIC_ARN, NOTIFICATIONS_TABLE_NAME
from notification.notices import NotificationService
from workflow_core import item_table, lazy, logs
from workflow_core.catalog import DomainEvent
from workflow_core.publisher import EventBridgePublisher
from workflow_core.queue_lambda import queue_lambda
from workflow_core.settings import EVENT_BUS_NAME, required

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()
metrics = Metrics()

service = NotificationService(
    table=item_table.table(required(NOTIFICATIONS_TABLE_NAME)),
    sns_client=lazy.client("sns"),
    topic_arn=required(CUSTOMER_TOPIC_ARN),
    publisher=EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=lazy.client("events")),
)


@tracer.capture_method
def handle(event: DomainEvent) -> None:
    announced = service.handle(event)
    # One metric per template (a dimension would apply to the whole batch's flush); a notice the topic
    # refused counts under the failure's name.
    template = getattr(announced.data, "template", None)
    name = f"Notified-{template}" if template else announced.detail_type
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


lambda_handler = queue_lambda(
    handle, logger=logger, tracer=tracer, metrics=metrics, idempotency_key_prefix="notification"
)
