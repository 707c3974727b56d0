"""The Lambda entry point every queue-fed function shares: Powertools around ``process_batch``.

Each handler module keeps its own Logger, Tracer and Metrics (created at import, with its own
environment) and passes them in; this builds the decorated ``lambda_handler`` that counts records
received and failed (the stack alarms on ``RecordsFailed``: partial batch responses never reach
Lambda's ``Errors`` metric) and, for consumers, runs each event at most once per event id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from workflow_core import lazy
from workflow_core.consumer import Handler, IdempotentHandler, process_batch
from workflow_core.settings import IDEMPOTENCY_TABLE_NAME, required

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def queue_lambda(
    handle: Handler,
    *,
    logger: Logger,
    tracer: Tracer | lazy.DeferredTracer,
    metrics: Metrics,
    idempotency_key_prefix: str | None,
) -> LambdaHandler:
    """``idempotency_key_prefix``: the service name keying its idempotency records; None for a handler
    that deduplicates by itself (the controller's history does)."""
    once: IdempotentHandler | None = None
    if idempotency_key_prefix is not None:
        table_name = required(IDEMPOTENCY_TABLE_NAME)  # a missing name fails the cold start, not an event

        def persistence_store() -> DynamoDBPersistenceLayer:
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415

            # The function's shared session: the DynamoDB model is read once, not again for a session of
            # the persistence layer's own.
            client = lazy.session().client("dynamodb")
            return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

        once = IdempotentHandler(
            handle, persistence_store=persistence_store, key_prefix=idempotency_key_prefix
        )

    def record_failed(_error_type: str) -> None:
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=1)

    @metrics.log_metrics
    @tracer.capture_lambda_handler
    @logger.inject_lambda_context
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if once is not None:
            once.register_lambda_context(context)
        metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
        return process_batch(event, context, handle=once or handle, logger=logger, on_failure=record_failed)

    return lambda_handler
