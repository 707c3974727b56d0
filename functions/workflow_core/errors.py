"""One error hierarchy for the runtime.

Class names double as the names Step Functions matches in ``Retry`` and ``Catch`` (a Lambda task that
raises ``RetryableError`` surfaces as that ``errorType``), so whether an error is
retryable or terminal is decided here, once.
"""

from __future__ import annotations


class WorkflowKitError(Exception):
    """Base of every error this runtime raises on purpose."""


class RetryableError(WorkflowKitError):
    """A transient failure: the same input may succeed later (SQS redelivers, Step Functions retries)."""


class TerminalError(WorkflowKitError):
    """A failure that no retry can fix: the input or the business state rules it out."""


# --- the event contract -------------------------------------------------------------------------
class InvalidEventError(TerminalError):
    """An event that does not satisfy the contract; it is dead-lettered without changing any state."""


class MalformedEventError(InvalidEventError):
    """The event is not valid JSON, lacks the envelope, or its data fails its schema."""


class UnknownEventTypeError(InvalidEventError):
    """No schema is registered for the event's detail-type."""


class UnsupportedSchemaVersionError(InvalidEventError):
    """The detail-type is known but its schema version is not."""


class UnexpectedEventSourceError(InvalidEventError):
    """The event claims a source other than the one that owns its detail-type."""


# --- task functions -----------------------------------------------------------------------------
class InvalidTaskInputError(TerminalError):
    """A task function's input is not what it documents (a state machine passing it wrongly)."""


# --- publishing ---------------------------------------------------------------------------------
class PublishError(RetryableError):
    """EventBridge refused some entries of a PutEvents call."""


# --- workflow control ---------------------------------------------------------------------------
class WorkflowNotFoundError(RetryableError):
    """An event refers to a workflow the controller has not recorded (yet): redelivery may find it."""


class ConcurrentUpdateError(RetryableError):
    """Another writer changed the workflow between read and conditional write."""


class InvalidOperatorCommandError(TerminalError):
    """An operator command that the workflow's current state does not allow."""


class UnknownWorkflowError(InvalidEventError):
    """The event names a workflow, or a version of it, that this stack does not run."""
