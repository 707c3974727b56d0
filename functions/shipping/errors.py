"""Errors of the shipping service's operator/carrier entry points."""

from __future__ import annotations

from workflow_core.errors import TerminalError


class ShipmentNotFoundError(TerminalError):
    """No shipment is recorded for the order."""


class ShipmentNotPendingError(TerminalError):
    """The shipment is not awaiting the confirmation or transition asked for."""
