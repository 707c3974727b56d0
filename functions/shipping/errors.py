"""Errors of the shipping service's operator and carrier entry points (and carrier decisions)."""

from __future__ import annotations

from workflow_core.errors import RetryableError, TerminalError


class ShipmentNotFoundError(TerminalError):
    """No shipment is recorded for the order."""


class ShipmentNotPendingError(TerminalError):
    """The shipment is not awaiting the confirmation or transition asked for."""


class InvalidDecisionError(TerminalError):
    """A carrier desk's confirmation whose details shipping cannot use (an unknown field, a bad date)."""


class BookingNotRecordedError(RetryableError):
    """A decision arrived before the booking it decides (its trigger is still in flight): redeliver."""
