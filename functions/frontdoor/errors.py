"""Errors the front door answers with; each carries its HTTP status and a stable error code."""

from __future__ import annotations

from typing import Any


class FrontDoorError(Exception):
    """Base of every error the API turns into a typed JSON error body."""

    status_code = 500
    code = "InternalError"

    def __init__(self, message: str, *, fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class InvalidRequestError(FrontDoorError):
    """The request body or path does not satisfy the contract."""

    status_code = 400
    code = "InvalidRequest"


class WorkflowNotFoundError(FrontDoorError):
    """No workflow is recorded under that id (yet: the controller records it moments after submission)."""

    status_code = 404
    code = "WorkflowNotFound"


class UnknownWorkflowTypeError(FrontDoorError):
    """No workflow of that type is deployed."""

    status_code = 404
    code = "UnknownWorkflowType"


class WorkflowIdTakenError(FrontDoorError):
    """The subject's id already names an instance of another workflow type."""

    status_code = 409
    code = "WorkflowIdTaken"


class CallerUnknownError(FrontDoorError):
    """The request carries no IAM caller identity, so a command or a decision cannot be attributed."""

    status_code = 403
    code = "CallerUnknown"


class PublishUnavailableError(FrontDoorError):
    """The event bus refused the event; nothing was accepted and the client may retry."""

    status_code = 503
    code = "PublishFailed"


# --- callbacks (docs/decisions/0029) ---------------------------------------------------------------------
class StepNotFoundError(FrontDoorError):
    """The instance's declaration has no such step, or the step takes no callbacks."""

    status_code = 404
    code = "StepNotFound"


class WorkflowEndedError(FrontDoorError):
    """The workflow is no longer running: a decision would change nothing."""

    status_code = 409
    code = "WorkflowNotRunning"


class StepNotWaitingError(FrontDoorError):
    """The step is not waiting for a decision (not started yet, or already settled)."""

    status_code = 409
    code = "StepNotWaiting"


class AlreadyDecidedError(FrontDoorError):
    """Someone else already decided this attempt of the step (or the same caller decided otherwise)."""

    status_code = 409
    code = "AlreadyDecided"


class ExecutionNotWaitingError(FrontDoorError):
    """The state machine running the step holds no task token for this attempt (not yet, or no more)."""

    status_code = 409
    code = "ExecutionNotWaiting"


class DeliveryUnavailableError(FrontDoorError):
    """The decision is claimed but could not be delivered now; the same caller's retry delivers it."""

    status_code = 503
    code = "DeliveryFailed"
