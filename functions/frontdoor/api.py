"""What the front door does, independent of HTTP: validate, publish, read status.

Nothing here starts a workflow directly: the API publishes the workflow's start event (its data is the
request body, validated against the start event's model) or ``OperatorCommandIssued``, and answers 202;
the controller does the rest. Event ids are derived from the workflow id plus the API request id, so
each client retry is a distinct, traceable event while the controller still deduplicates the start on
the workflow id. Any deployed workflow is served the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator

from frontdoor.errors import (
    InvalidRequestError,
    PublishUnavailableError,
    UnknownWorkflowTypeError,
    WorkflowIdTakenError,
    WorkflowNotFoundError,
)
from workflow_core.envelope import ContractModel, WorkflowContext
from workflow_core.errors import PublishError, UnknownWorkflowError
from workflow_core.lifecycle import OPERATOR_COMMAND_ISSUED, OperatorCommandIssued
from workflow_core.publisher import EventPublisher, OutgoingEvent, new_event
from workflow_core.registry import Registry

PRODUCER = "frontdoor"
SUBMITTED = "SUBMITTED"
ACCEPTED = "ACCEPTED"
# Workflow ids are subject ids: what a status path and a schedule name can carry.
_WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

M = TypeVar("M", bound=ContractModel)
StatusReader = Callable[[str], dict[str, Any] | None]
TypeReader = Callable[[str], str | None]


class CommandRequest(ContractModel):
    """Body of ``POST /workflows/{workflowId}/commands``."""

    command: Literal["resume", "retry-step", "cancel"]
    step: str | None = None
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _step_fits_command(self) -> CommandRequest:
        if self.command == "retry-step" and self.step is None:
            raise ValueError("retry-step needs the step to retry")
        return self


def status_path(workflow_id: str) -> str:
    return f"/workflows/{workflow_id}"


class FrontDoor:
    def __init__(
        self,
        *,
        publisher: EventPublisher,
        status_reader: StatusReader,
        registry: Registry,
        type_reader: TypeReader | None = None,
    ) -> None:
        """``type_reader``: the workflow type an id already names (None: unused), which a start checks;
        without it the start reads the whole status document for it."""
        self._publisher = publisher
        self._read_status = status_reader
        self._read_type = type_reader
        self._registry = registry

    def start(self, workflow_type: str, body: Any, *, request_id: str) -> dict[str, Any]:
        """Validate a subject and publish the workflow's start event; returns the 202 body.

        New instances run the newest deployed version of ``workflow_type``.
        """
        try:
            definition = self._registry.newest(workflow_type)
        except UnknownWorkflowError as error:
            raise UnknownWorkflowTypeError(str(error)) from None
        subject = validate(definition.subject_model, body, f"the {workflow_type} subject is invalid")
        workflow_id = str(getattr(subject, definition.subject_id))
        check_workflow_id(workflow_id)
        existing = self._workflow_type(workflow_id)
        if existing is not None and existing != definition.name:
            # Ids share one namespace; the controller would refuse the start (WorkflowIdTaken) while a
            # 202 sent the client to another workflow's status.
            raise WorkflowIdTakenError(
                f"{workflow_id!r} already names a {existing} workflow; "
                f"a {definition.name} workflow needs another id"
            )
        event = new_event(
            definition.start_event,
            subject,
            event_id=f"{workflow_id}:{request_id}",
            correlation_id=workflow_id,
            caused_by=None,
            producer=PRODUCER,
            catalog=definition.catalog,
        )
        self._publish(event)
        return {
            "workflowType": definition.name,
            "workflowId": workflow_id,
            "status": SUBMITTED,
            "statusPath": status_path(workflow_id),
            "eventId": event.metadata.event_id,
        }

    def _workflow_type(self, workflow_id: str) -> str | None:
        if self._read_type is not None:
            return self._read_type(workflow_id)
        status = self._read_status(workflow_id)
        return None if status is None else status.get("workflowType")

    def workflow_status(self, workflow_id: str) -> dict[str, Any]:
        check_workflow_id(workflow_id)
        status = self._read_status(workflow_id)
        if status is None:
            raise WorkflowNotFoundError(f"no workflow {workflow_id!r} is recorded")
        return status

    def issue_command(self, workflow_id: str, body: Any, *, operator: str, request_id: str) -> dict[str, Any]:
        """Validate an operator command and publish ``OperatorCommandIssued``; returns the 202 body."""
        check_workflow_id(workflow_id)
        request = validate(CommandRequest, body, "the command is invalid")
        status = self._read_status(workflow_id)
        if status is None:
            raise WorkflowNotFoundError(f"no workflow {workflow_id!r} is recorded")
        steps = list(status.get("steps", {}))
        if request.step is not None and request.step not in steps:
            raise InvalidRequestError(
                "the command is invalid: 1 problem(s)",
                fields=[{"field": "step", "message": f"step must be one of {steps}", "type": "value_error"}],
            )
        command = OperatorCommandIssued(
            workflow_id=workflow_id,
            command=request.command,
            step=request.step,
            operator=operator,
            reason=request.reason,
        )
        event = new_event(
            OPERATOR_COMMAND_ISSUED,
            command,
            event_id=f"{workflow_id}:command:{request_id}",
            correlation_id=workflow_id,
            caused_by=None,
            producer=PRODUCER,
            workflow=_context_of(status),
        )
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


def validate[M: ContractModel](model: type[M], body: Any, message: str) -> M:
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


def check_workflow_id(workflow_id: str) -> None:
    if not _WORKFLOW_ID.match(workflow_id):
        raise InvalidRequestError(f"{workflow_id!r} is not a workflow id")


def _context_of(status: dict[str, Any]) -> WorkflowContext:
    """The instance's workflow context, from its status document: commands reach its workflow's rules."""
    outputs = {
        name: step["output"]
        for name, step in status.get("steps", {}).items()
        if step.get("output") is not None
    }
    return WorkflowContext(
        name=status["workflowType"],
        version=status["definitionVersion"],
        subject=status["subject"],
        outputs=outputs,
    )
