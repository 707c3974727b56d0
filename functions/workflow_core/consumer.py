"""The shape every queue-fed consumer shares: SQS batch -> validated event -> routed handler.

A record whose event breaks the contract raises :class:`InvalidEventError`; it is reported as a batch
item failure, so SQS redelivers it up to the queue's ``maxReceiveCount`` and then moves it to the DLQ.
It never reaches a handler, so it changes no state. One bad record never fails its batch-mates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from workflow_core import lazy
from workflow_core.catalog import DomainEvent
from workflow_core.definition import Step, WorkflowDefinition
from workflow_core.envelope import ContractModel, WorkflowContext
from workflow_core.errors import InvalidEventError, MalformedEventError, TerminalError
from workflow_core.lifecycle import StepRequested, StepRetryRequested
from workflow_core.publisher import OutgoingEvent, derived_event_id, new_event
from workflow_core.registry import deployed, parse_event

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

Handler = Callable[[DomainEvent], None]
FailureHook = Callable[[str], None]
Result = TypeVar("Result")

# How far back the bus archive can replay (infra/constructs/defaults.py ARCHIVE_RETENTION; a unit test
# keeps the two equal). A replayed event keeps its metadata.eventId, so its idempotency record must
# outlive the archive: otherwise a replay of an event handled more than the expiry ago is applied again.
ARCHIVE_RETENTION = timedelta(days=30)
IDEMPOTENCY_EXPIRY = ARCHIVE_RETENTION + timedelta(days=5)  # the archive's replay window, plus a margin


class EventRouter[Result]:
    """Maps detail-types to handler functions: in one place, what a consumer handles and with what.

    ``Result`` is what the handlers return (``dispatch`` passes it through).
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[DomainEvent], Result]] = {}

    def on(
        self, *detail_types: str
    ) -> Callable[[Callable[[DomainEvent], Result]], Callable[[DomainEvent], Result]]:
        def register(handler: Callable[[DomainEvent], Result]) -> Callable[[DomainEvent], Result]:
            for detail_type in detail_types:
                if detail_type in self._handlers:
                    raise ValueError(f"{detail_type} already has a handler")
                self._handlers[detail_type] = handler
            return handler

        return register

    @property
    def detail_types(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    def dispatch(self, event: DomainEvent) -> Result:
        handler = self._handlers.get(event.detail_type)
        if handler is None:
            # The rule sent something this consumer does not handle: a wiring error, not a retryable one.
            raise InvalidEventError(f"this consumer does not handle {event.detail_type}")
        return handler(event)


def process_batch(
    event: dict[str, Any],
    context: Any,
    *,
    handle: Handler,
    logger: Logger,
    on_failure: FailureHook | None = None,
) -> dict[str, Any]:
    """Process an SQS batch of EventBridge events; returns the partial batch failure response.

    ``on_failure`` is called with the error's type name for every record that fails (an invalid event
    or a handler error), e.g. to emit a ``RecordsFailed`` metric; an error it raises is logged, never
    allowed to change the record's outcome.
    """
    # Report a wholly failed batch item by item too: the same redelivery as raising, without a
    # stack trace that hides which records were bad.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        try:
            handle_record(record)
        except Exception as error:
            if on_failure is not None:
                try:
                    on_failure(type(error).__name__)
                except Exception:  # observability must not turn one failure into another
                    logger.exception("on_failure hook raised", extra={"message_id": record.message_id})
            raise

    def handle_record(record: SQSRecord) -> None:
        try:
            domain_event = parse_event(record.body)
        except InvalidEventError as error:
            logger.error(
                "rejected event",
                extra={
                    "error_type": type(error).__name__,
                    "error": str(error),
                    "message_id": record.message_id,
                },
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
        except Exception as error:
            logger.warning(
                "record failed; SQS redelivers it",
                extra={"error_type": type(error).__name__, "error": str(error)},
            )
            raise
        finally:
            logger.remove_keys(["correlation_id", "event_id", "detail_type"])

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


class IdempotentHandler:
    """Runs a handler at most once per event id: Powertools idempotency keyed on ``metadata.eventId``.

    A redelivered event (same id) returns the stored result without calling the handler; a handler that
    raises leaves no record, so SQS redelivery retries it. ``key_prefix`` (the service name) keeps
    services that share one idempotency table, or one process in the local cloud, apart.

    ``persistence_store`` may be a function returning the store: it is then made, and Powertools'
    idempotency utility (which imports boto3) imported, on the first event, not at cold start.
    """

    def __init__(
        self,
        handle: Handler,
        *,
        persistence_store: BasePersistenceLayer | Callable[[], BasePersistenceLayer],
        key_prefix: str,
        expires_after: timedelta = IDEMPOTENCY_EXPIRY,
    ) -> None:
        self._handle = handle
        self._store = persistence_store
        self._key_prefix = key_prefix
        self._expires_after = expires_after
        self._config: IdempotencyConfig | None = None
        # Two threads may take their first event at once: one config, or one's Lambda context is lost.
        self._config_lock = threading.Lock()
        self._process_once: Callable[..., Any] = lazy.deferred(self._decorated)

    @property
    def config(self) -> IdempotencyConfig:
        if self._config is None:
            with self._config_lock:
                if self._config is None:
                    self._config = self._new_config()
        return self._config

    def _new_config(self) -> IdempotencyConfig:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: PLC0415

        return IdempotencyConfig(
            event_key_jmespath="metadata.eventId",
            # The same id on a different detail-type is a producer bug: fail it instead of skipping it.
            payload_validation_jmespath="detailType",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=int(self._expires_after.total_seconds()),
        )

    def register_lambda_context(self, context: Any) -> None:
        """Lets in-progress records expire with the invocation (call once per invocation)."""
        if context is not None:
            self.config.register_lambda_context(context)

    def __call__(self, event: DomainEvent) -> None:
        record = {"metadata": {"eventId": event.event_id}, "detailType": event.detail_type}
        self._process_once(record=record, event=event)

    def _decorated(self) -> Callable[..., Any]:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: PLC0415
        from aws_lambda_powertools.utilities.idempotency.persistence.base import (  # noqa: PLC0415
            BasePersistenceLayer,
        )

        store = self._store if isinstance(self._store, BasePersistenceLayer) else self._store()
        decorated: Callable[..., Any] = idempotent_function(
            self._process,
            data_keyword_argument="record",
            persistence_store=store,
            config=self.config,
            key_prefix=self._key_prefix,
        )
        return decorated

    def _process(self, *, record: dict[str, Any], event: DomainEvent) -> dict[str, Any]:
        self._handle(event)
        return record


def carried_context(event: DomainEvent) -> WorkflowContext | None:
    """The workflow context to carry into the events ``event`` causes.

    When ``event`` completes a step, its data joins the outputs: the next step reads it from there.
    """
    context = event.workflow
    if context is None:
        return None
    outcome = deployed().of_context(context).step_outcome_events().get(event.detail_type)
    if outcome is not None and outcome[1] == "completed":
        return context.with_output(outcome[0].name, event.data.to_wire())
    return context


def outcome_event(
    cause: DomainEvent, detail_type: str, data: ContractModel, *, producer: str
) -> OutgoingEvent:
    """The event a consumer publishes in answer to ``cause``, in the cause's workflow context.

    Its id is derived from the cause (``"<cause id>:<DetailType>"``), so handling a redelivered cause
    republishes the same id and downstream consumers deduplicate it; the correlation id is the cause's.
    """
    return new_event(
        detail_type,
        data,
        event_id=derived_event_id(cause.event_id, detail_type),
        correlation_id=cause.correlation_id,
        caused_by=cause,
        producer=producer,
        workflow=carried_context(cause),
    )


@dataclass(frozen=True)
class StepInput:
    """What a choreographed step runs on: the workflow's subject, the attempt, earlier steps' outputs."""

    definition: WorkflowDefinition
    step: Step
    subject: ContractModel  # typed by the declaration's start event model
    attempt: int
    context: WorkflowContext

    def output(self, step: str) -> dict[str, Any]:
        """The data that completed ``step`` (wire form); the step declared it ``needs`` it."""
        return self.context.outputs[step]


def step_trigger(event: DomainEvent, step_name: str) -> StepInput:
    """The input of step ``step_name`` that ``event`` starts, in the version of the workflow it belongs to.

    The step's ``started_by`` event starts attempt 1; a ``StepRequested`` (the controller starts the step:
    it waits on several steps or a condition) or ``StepRetryRequested`` for this step starts the attempt
    it names. Anything else, an event outside any workflow, or one lacking an output the step
    needs, is a wiring or contract error.
    """
    context = carried_context(event)
    if context is None:
        raise InvalidEventError(f"{event.detail_type} carries no workflow context")
    definition = deployed().of_context(context)
    try:
        step = definition.step(step_name)
    except KeyError:
        raise InvalidEventError(f"{definition.label} has no step {step_name!r}") from None
    data = event.data
    if isinstance(data, StepRetryRequested | StepRequested):
        if data.step != step.name:
            raise InvalidEventError(f"this consumer runs step {step.name!r}, not {data.step!r}")
        attempt = data.attempt
    elif event.detail_type == step.started_by:
        attempt = 1
    else:
        raise InvalidEventError(f"{event.detail_type} does not start step {step.name!r}")
    missing = [name for name in step.needs if name not in context.outputs]
    if missing:
        raise InvalidEventError(f"step {step.name!r} needs the outputs of {missing}; the event lacks them")
    try:
        subject = definition.subject_model.model_validate(context.subject)
    except ValidationError as error:
        raise MalformedEventError(
            f"{event.detail_type}: invalid workflow subject: {error.error_count()} errors"
        ) from None
    return StepInput(definition=definition, step=step, subject=subject, attempt=attempt, context=context)
