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
    """The request carries no IAM caller identity, so an operator command cannot be attributed."""

    status_code = 403
    code = "CallerUnknown"


class PublishUnavailableError(FrontDoorError):
    """The event bus refused the event; nothing was accepted and the client may retry."""

    status_code = 503
    code = "PublishFailed"
