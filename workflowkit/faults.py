"""Where faults enter the local cloud: one hook per hop.

The default :class:`Faults` injects nothing. A subclass raises from a hook to make that hop fail:
a delivery that throws is retried and dead-lettered as EventBridge would; an execution that throws
fails before its first state; a handler hook that throws is a crashed invocation (SQS redelivers,
Step Functions retries or catches); a service-call hook that throws is the AWS API failing under the
handler. That is how reliability tests inject crashes, throttling and timeouts.
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

    def before_handler(self, function_name: str, event: Any) -> None:
        """Called inside each Lambda invocation, before the handler: raising is a handler crash."""

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        """Called before each AWS API call a handler makes (e.g. raise a ThrottlingException ClientError)."""
