"""The shape every queue-fed consumer shares: SQS batch -> validated event -> routed handler.

A record whose event breaks the contract raises :class:`InvalidEventError`; it is reported as a batch
item failure, so SQS redelivers it up to the queue's ``maxReceiveCount`` and then moves it to the DLQ.
It never reaches a handler, so it changes no state. One bad record never fails its batch-mates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from workflow_core.catalog import DomainEvent, parse_event
from workflow_core.errors import InvalidEventError, TerminalError

Handler = Callable[[DomainEvent], None]


class EventRouter:
    """Maps detail-types to handler functions."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def on(self, *detail_types: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for detail_type in detail_types:
                if detail_type in self._handlers:
                    raise ValueError(f"{detail_type} already has a handler")
                self._handlers[detail_type] = handler
            return handler

        return register

    @property
    def detail_types(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    def dispatch(self, event: DomainEvent) -> None:
        handler = self._handlers.get(event.detail_type)
        if handler is None:
            # The rule sent something this consumer does not handle: a wiring error, not a retryable one.
            raise InvalidEventError(f"this consumer does not handle {event.detail_type}")
        handler(event)


def process_batch(
    event: dict[str, Any],
    context: Any,
    *,
    handle: Handler,
    logger: Logger,
) -> dict[str, Any]:
    """Process an SQS batch of EventBridge events; returns the partial batch failure response."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        try:
            domain_event = parse_event(record.body)
        except InvalidEventError as error:
            logger.error(
                "rejected event",
                extra={"error_type": type(error).__name__, "error": str(error), "message_id": record.message_id},
            )
            raise
        logger.append_keys(
            correlation_id=domain_event.correlation_id,
            event_id=domain_event.event_id,
            detail_type=domain_event.detail_type,
        )
        try:
            handle(domain_event)
        except TerminalError as error:
            logger.error("terminal failure", extra={"error_type": type(error).__name__, "error": str(error)})
            raise
        finally:
            logger.remove_keys(["correlation_id", "event_id", "detail_type"])

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
