"""Lambda entry point of the front controller: an SQS batch of workflow events."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from controller.decide import Decider
from controller.effects import Effects, EffectTargets
from controller.service import Controller
from controller.store import WorkflowStore
from workflow_core import settings
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import process_batch
from workflow_core.order_workflow import ORDER_WORKFLOW

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def build_controller(*, clients: dict[str, Any] | None = None) -> Controller:
    """Wire the controller from the environment; ``clients`` overrides boto3 clients (tests)."""
    clients = clients or {}

    def client(name: str) -> Any:
        return clients.get(name) or boto3.client(name)

    targets = EffectTargets(
        bus_name=settings.required(settings.EVENT_BUS_NAME),
        bus_arn=settings.required(settings.EVENT_BUS_ARN),
        state_machine_arns={"payment": settings.required(settings.PAYMENT_STATE_MACHINE_ARN)},
        schedule_group=settings.required(settings.SCHEDULE_GROUP_NAME),
        scheduler_role_arn=settings.required(settings.SCHEDULER_ROLE_ARN),
        escalation_topic_arn=settings.required(settings.ESCALATION_TOPIC_ARN),
    )
    return Controller(
        store=WorkflowStore(
            table_name=settings.required(settings.WORKFLOW_TABLE_NAME), client=client("dynamodb")
        ),
        effects=Effects(
            targets=targets,
            events=client("events"),
            stepfunctions=client("stepfunctions"),
            scheduler=client("scheduler"),
            sns=client("sns"),
        ),
        decider=Decider(ORDER_WORKFLOW),
        start_event=ORDER_WORKFLOW.start_event,
    )


controller = build_controller() if os.environ.get(settings.WORKFLOW_TABLE_NAME) else None


def handle_event(event: DomainEvent) -> None:
    if controller is None:
        raise RuntimeError(f"{settings.WORKFLOW_TABLE_NAME} is not set: the controller is not configured")
    outcome = controller.handle(event)
    logger.info(
        "handled",
        extra={"workflow_id": outcome.workflow_id, "status": outcome.status, "duplicate": outcome.duplicate},
    )
    metrics.add_metric(
        name="DuplicateEvents" if outcome.duplicate else "EventsHandled", unit=MetricUnit.Count, value=1
    )
    for name in outcome.metrics:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return process_batch(event, context, handle=handle_event, logger=logger, on_failure=_count_failure)


def _count_failure(_error_type: str) -> None:
    # Per-record failures never reach Lambda's Errors metric (partial batch responses): alarm on this.
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=1)
