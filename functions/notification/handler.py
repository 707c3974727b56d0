"""Lambda entry point of the notification service: SQS batch of outcome events -> NotificationService."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from notification.notices import TEMPLATES, NotificationService
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import IdempotentHandler, process_batch
from workflow_core.publisher import EventBridgePublisher
from workflow_core.settings import (
    CUSTOMER_TOPIC_ARN,
    EVENT_BUS_NAME,
    IDEMPOTENCY_TABLE_NAME,
    NOTIFICATIONS_TABLE_NAME,
    required,
)

logger = Logger()
tracer = Tracer()
metrics = Metrics()

service = NotificationService(
    table=boto3.resource("dynamodb").Table(required(NOTIFICATIONS_TABLE_NAME)),
    sns_client=boto3.client("sns"),
    topic_arn=required(CUSTOMER_TOPIC_ARN),
    publisher=EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=boto3.client("events")),
)


@tracer.capture_method
def handle(event: DomainEvent) -> None:
    service.handle(event)
    # One metric per template (a dimension would apply to the whole batch's flush).
    metrics.add_metric(name=f"Notified-{TEMPLATES[event.detail_type]}", unit=MetricUnit.Count, value=1)


handle_once = IdempotentHandler(
    handle,
    persistence_store=DynamoDBPersistenceLayer(table_name=required(IDEMPOTENCY_TABLE_NAME)),
    key_prefix="notification",
)


def record_failed(error_type: str) -> None:
    """Every record that fails (invalid, or its handler raised): the stack alarms on RecordsFailed."""
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    handle_once.register_lambda_context(context)
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return process_batch(event, context, handle=handle_once, logger=logger, on_failure=record_failed)
