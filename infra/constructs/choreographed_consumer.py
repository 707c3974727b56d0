"""A choreographed service: subscribed to the events that start its steps and undos, nothing more."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from infra.constructs import defaults
from infra.constructs.event_queue_function import EventQueueFunction
from infra.constructs.service_function import FunctionRuntime
from infra.constructs.subscriptions import by_source, step_filtered


class ChoreographedConsumer(EventQueueFunction):
    """Rules -> queue -> Lambda for ``service``, derived from the detail-types it consumes.

    ``retry_event`` (the controller's retry request) is delivered only when ``detail.data.step`` names one of
    ``retried_steps``: a service never sees a retry meant for another.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        detail_types: Sequence[str],
        bus: events.IEventBus,
        runtime: FunctionRuntime,
        handler: str | None = None,
        retry_event: str | None = None,
        retried_steps: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
        timeout: Duration = defaults.FUNCTION_TIMEOUT,
    ) -> None:
        plain = [t for t in detail_types if t != retry_event]
        subscriptions = list(by_source(plain))
        if retry_event is not None and retry_event in detail_types:
            if not retried_steps:
                raise ValueError(f"{service} subscribes to {retry_event} but runs no step")
            subscriptions.append(step_filtered(retry_event, retried_steps))
        super().__init__(
            scope,
            construct_id,
            service=service,
            handler=handler or f"{service}.handler.lambda_handler",
            bus=bus,
            subscriptions=subscriptions,
            runtime=runtime,
            environment=environment,
            timeout=timeout,
        )
