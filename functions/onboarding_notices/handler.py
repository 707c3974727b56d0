"""Lambda entry point of the onboarding notices service: SQS batch of announcements -> OnboardingNotices."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from onboarding_notices.deployment import NOTICES_TOPIC_ARN, ONBOARDING_NOTICES_TABLE_NAME
from onboarding_notices.notices import OnboardingNotices
from onboarding_notices.templates import TEMPLATES
from workflow_core import item_table, lazy, logs
from workflow_core.catalog import DomainEvent
from workflow_core.publisher import EventBridgePublisher
from workflow_core.queue_lambda import queue_lambda
from workflow_core.settings import EVENT_BUS_NAME, required

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()
metrics = Metrics()

service = OnboardingNotices(
    table=item_table.table(required(ONBOARDING_NOTICES_TABLE_NAME)),
    sns_client=lazy.client("sns"),
    topic_arn=required(NOTICES_TOPIC_ARN),
    publisher=EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=lazy.client("events")),
)


@tracer.capture_method
def handle(event: DomainEvent) -> None:
    service.handle(event)
    # One metric per template (a dimension would apply to the whole batch's flush).
    metrics.add_metric(name=f"Noticed-{TEMPLATES[event.detail_type].name}", unit=MetricUnit.Count, value=1)


lambda_handler = queue_lambda(
    handle, logger=logger, tracer=tracer, metrics=metrics, idempotency_key_prefix="onboarding-notices"
)
