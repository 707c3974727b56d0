"""Lambda entry point of the front controller: an SQS batch of workflow events."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from controller.effects import Effects, EffectTargets
from controller.service import Controller
from controller.store import WorkflowStore
from workflow_core import lazy, logs, settings
from workflow_core.catalog import DomainEvent
from workflow_core.queue_lambda import queue_lambda
from workflow_core.registry import deployed

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()
metrics = Metrics()


def build_controller(*, clients: dict[str, Any] | None = None) -> Controller:
    """Wire the controller from the environment; ``clients`` overrides boto3 clients (tests)."""
    clients = clients or {}

    def client(name: str) -> Any:
        return clients.get(name) or lazy.client(name)

    targets = EffectTargets(
        bus_name=settings.required(settings.EVENT_BUS_NAME),
        bus_arn=settings.required(settings.EVENT_BUS_ARN),
        state_machine_arns=settings.json_mapping(settings.STATE_MACHINE_ARNS),
        schedule_group=settings.required(settings.SCHEDULE_GROUP_NAME),
        scheduler_role_arn=settings.required(settings.SCHEDULER_ROLE_ARN),
        escalation_topic_arn=settings.required(settings.ESCALATION_TOPIC_ARN),
        schedule_dead_letter_arn=settings.required(settings.SCHEDULE_DEAD_LETTER_QUEUE_ARN),
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
        registry=deployed(),
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


# The controller deduplicates through its own history, so no idempotency layer.
lambda_handler = queue_lambda(
    handle_event, logger=logger, tracer=tracer, metrics=metrics, idempotency_key_prefix=None
)
