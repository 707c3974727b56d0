"""Errors of the payment service. Their class names are the ASL's ``Retry``/``Catch`` error names."""

from __future__ import annotations

from workflow_core.errors import RetryableError, TerminalError


class PaymentGatewayUnavailableError(RetryableError):
    """The payment gateway timed out or returned a 5xx: retry with backoff."""


class PaymentDeclinedError(TerminalError):
    """The issuer declined the charge."""


class FraudSuspectedError(TerminalError):
    """The fraud screen rejected the order."""


class InvalidOrderError(TerminalError):
    """The order fails business validation (totals, currency, quantities)."""


class RefundRejectedError(TerminalError):
    """The gateway refused the refund: a human must settle it."""
