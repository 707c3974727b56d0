"""Lambda entry point of the accounts service: SQS batch of EventBridge events -> AccountsService."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from accounts.deployment import ACCOUNTS_TABLE_NAME
from accounts.provisioning import AccountsService
from workflow_core import item_table, lazy, logs
from workflow_core.catalog import DomainEvent
from workflow_core.publisher import EventBridgePublisher
from workflow_core.queue_lambda import queue_lambda
from workflow_core.settings import EVENT_BUS_NAME, required

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()
metrics = Metrics()

service = AccountsService(
    table=item_table.table(required(ACCOUNTS_TABLE_NAME)),
    publisher=EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=lazy.client("events")),
)


@tracer.capture_method
def handle(event: DomainEvent) -> None:
    outcome = service.handle(event)
    metrics.add_metric(
        name=outcome.detail_type if outcome else "StaleTriggerIgnored", unit=MetricUnit.Count, value=1
    )


lambda_handler = queue_lambda(
    handle, logger=logger, tracer=tracer, metrics=metrics, idempotency_key_prefix="accounts"
)
