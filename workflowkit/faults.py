"""Where faults enter the local cloud: one hook per hop.

The default :class:`Faults` injects nothing. A subclass raises from a hook to make that hop fail
(a delivery that throws is retried and dead-lettered as EventBridge would; an execution that throws
fails before its first state), which is how reliability tests inject crashes and throttling.
"""

from __future__ import annotations

from typing import Any


class InjectedFaultError(Exception):
    """A failure the test asked for."""


class Faults:
    def before_delivery(self, event: dict[str, Any], target: str) -> None:
        """Called before an EventBridge target receives ``event``."""

    def before_execution(self, execution_name: str) -> None:
        """Called before a Step Functions execution runs."""
