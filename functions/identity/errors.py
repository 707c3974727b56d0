"""Errors of the identity service. Their class names are the ASL's ``Retry``/``Catch`` error names."""

from __future__ import annotations

from workflow_core.errors import RetryableError, TerminalError


class IdentityProviderUnavailableError(RetryableError):
    """The provider timed out or answered 5xx: the state machine retries with backoff."""


class IdentityRejectedError(TerminalError):
    """The provider could not match the person to the document: the customer is refused."""


class ApplicantIneligibleError(TerminalError):
    """The application breaks a rule no provider needs to check (the applicant is under age)."""
