"""What the front door does, independent of HTTP: validate, publish, read status.

Nothing here starts a workflow directly: the API publishes ``OrderSubmitted`` and
``OperatorCommandIssued`` and answers 202; the controller does the rest. Event ids are derived from the
order or workflow id plus the API request id, so each client retry is a distinct, traceable event
while the controller still deduplicates the order on its id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator

from frontdoor.errors import (
    InvalidRequestError,
    PublishUnavailableError,
    WorkflowNotFoundError,
)
from workflow_core.catalog import SOURCE_OPERATOR, SOURCE_ORDERS
from workflow_core.envelope import ContractModel
from workflow_core.errors import PublishError
from workflow_core.events import OperatorCommandIssued, OrderSubmitted
from workflow_core.order_workflow import ORDER_WORKFLOW
from workflow_core.publisher import EventPublisher, OutgoingEvent, new_event

PRODUCER = "frontdoor"
SUBMITTED = "SUBMITTED"
ACCEPTED = "ACCEPTED"
_WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # the order id's pattern: workflow id = order id

M = TypeVar("M", bound=ContractModel)
StatusReader = Callable[[str], dict[str, Any] | None]


class CommandRequest(ContractModel):
    """Body of ``POST /workflows/{workflowId}/commands``."""

    command: Literal["resume", "retry-step", "cancel"]
    step: str | None = None
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _step_fits_command(self) -> CommandRequest:
        steps = [s.name for s in ORDER_WORKFLOW.steps]
        if self.command == "retry-step" and self.step is None:
            raise ValueError("retry-step needs the step to retry")
        if self.step is not None and self.step not in steps:
            raise ValueError(f"step must be one of {steps}")
        return self


def status_path(workflow_id: str) -> str:
    return f"/workflows/{workflow_id}"


class FrontDoor:
    def __init__(self, *, publisher: EventPublisher, status_reader: StatusReader) -> None:
        self._publisher = publisher
        self._read_status = status_reader

    def submit_order(self, body: Any, *, request_id: str) -> dict[str, Any]:
        """Validate an order and publish ``OrderSubmitted``; returns the 202 body."""
        order = _validate(OrderSubmitted, body, "the order is invalid")
        event = new_event(
            "OrderSubmitted",
            order,
            event_id=f"{order.order_id}:{request_id}",
            correlation_id=order.order_id,
            caused_by=None,
            producer=PRODUCER,
        )
        assert event.source == SOURCE_ORDERS
        self._publish(event)
        return {
            "orderId": order.order_id,
            "workflowId": order.order_id,
            "status": SUBMITTED,
            "statusPath": status_path(order.order_id),
            "eventId": event.metadata.event_id,
        }

    def workflow_status(self, workflow_id: str) -> dict[str, Any]:
        _check_workflow_id(workflow_id)
        status = self._read_status(workflow_id)
        if status is None:
            raise WorkflowNotFoundError(f"no workflow {workflow_id!r} is recorded")
        return status

    def issue_command(self, workflow_id: str, body: Any, *, operator: str, request_id: str) -> dict[str, Any]:
        """Validate an operator command and publish ``OperatorCommandIssued``; returns the 202 body."""
        _check_workflow_id(workflow_id)
        request = _validate(CommandRequest, body, "the command is invalid")
        if self._read_status(workflow_id) is None:
            raise WorkflowNotFoundError(f"no workflow {workflow_id!r} is recorded")
        command = OperatorCommandIssued(
            workflow_id=workflow_id,
            command=request.command,
            step=request.step,
            operator=operator,
            reason=request.reason,
        )
        event = new_event(
            "OperatorCommandIssued",
            command,
            event_id=f"{workflow_id}:command:{request_id}",
            correlation_id=workflow_id,
            caused_by=None,
            producer=PRODUCER,
        )
        assert event.source == SOURCE_OPERATOR
        self._publish(event)
        return {
            "workflowId": workflow_id,
            "command": request.command,
            "status": ACCEPTED,
            "statusPath": status_path(workflow_id),
            "eventId": event.metadata.event_id,
        }

    def _publish(self, event: OutgoingEvent) -> None:
        try:
            self._publisher.publish([event])
        except PublishError as error:
            raise PublishUnavailableError(
                f"the event bus did not accept the request; retry: {error}"
            ) from None


def _validate[M: ContractModel](model: type[M], body: Any, message: str) -> M:
    if not isinstance(body, dict):
        raise InvalidRequestError(f"{message}: the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "<body>", "message": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False)
        ]
        raise InvalidRequestError(f"{message}: {len(fields)} problem(s)", fields=fields) from None


def _check_workflow_id(workflow_id: str) -> None:
    if not _WORKFLOW_ID.match(workflow_id):
        raise InvalidRequestError(f"{workflow_id!r} is not a workflow id")
