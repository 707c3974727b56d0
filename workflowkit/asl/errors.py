"""The one error hierarchy of the interpreter, and the error names of the Amazon States Language.

``AslError`` is the root. ``AslDefinitionError`` is raised while parsing (a definition the interpreter
rejects, naming the state and the field). ``ExecutionError`` is a failure *inside* an execution: it carries
the ASL error name and cause that Retry and Catch match on; ``TaskFailed`` is the one a ``run_task``
implementation raises for a task error. ``TaskTokenError`` is the answer to a callback (SendTask*) that
the token registry refuses.
"""

from __future__ import annotations

from typing import Final

ALL: Final = "States.ALL"
TASK_FAILED: Final = "States.TaskFailed"
TIMEOUT: Final = "States.Timeout"
HEARTBEAT_TIMEOUT: Final = "States.HeartbeatTimeout"
RUNTIME: Final = "States.Runtime"
NO_CHOICE_MATCHED: Final = "States.NoChoiceMatched"
RESULT_PATH_MATCH_FAILURE: Final = "States.ResultPathMatchFailure"
DATA_LIMIT_EXCEEDED: Final = "States.DataLimitExceeded"

# A States.Runtime error "isn't retriable, and will always cause the execution to fail". The documentation
# says the same of States.DataLimitExceeded ("a terminal error that can't be caught by States.ALL"), but
# executions recorded against AWS catch and retry a *task result* over the limit like any task failure
# (TaskFailed, then the catcher's state): only a state's own output over the limit is terminal, and that
# is an error raised with ``terminal=True`` (see ``payload_limit``), not a name no catcher may match.
UNCATCHABLE: Final = frozenset({RUNTIME})

# How Step Functions introduces the cause of every States.Runtime error (N is the id of the history event
# that entered the state): "An error occurred while executing the state 'S' (entered at the event id #N). ".
RUNTIME_CAUSE_PREFIX: Final = (
    "An error occurred while executing the state '{state}' (entered at the event id #{event}). "
)


class AslError(Exception):
    """Root of every error the interpreter raises."""


class AslDefinitionError(AslError):
    """The definition is not valid ASL, or uses a feature this interpreter does not run.

    ``state`` and ``field`` locate the problem (either may be None for a machine-level problem).
    """

    def __init__(self, message: str, *, state: str | None = None, field: str | None = None) -> None:
        self.state = state
        self.field = field
        self.reason = message
        where = []
        if state is not None:
            where.append(f"state {state!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class InvalidDefinitionError(AslDefinitionError):
    """A definition Step Functions itself refuses at CreateStateMachine, as opposed to one this
    interpreter merely cannot run: the local cloud answers CreateStateMachine with InvalidDefinition."""


class PathSyntaxError(AslError):
    """A path or intrinsic-function expression that does not parse (wrapped into AslDefinitionError)."""


class ExecutionError(AslError):
    """A failure within an execution, with its ASL error name and cause.

    ``terminal``: no Retry or Catch applies, whatever its name (a state's output over the payload limit).
    ``located``: the cause already names the state it happened in (a States.Runtime error carries AWS's
    prefix once, from the innermost state, however many Parallel or Map states it then fails).
    """

    def __init__(self, error: str, cause: str | None = None, *, terminal: bool = False) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        self.terminal = terminal
        self.located = False

    @property
    def catchable(self) -> bool:
        return not self.terminal and self.error not in UNCATCHABLE

    def at_state(self, state: str, entered_event_id: int) -> ExecutionError:
        """This error as it fails the state ``state``: a States.Runtime cause gets AWS's prefix."""
        if self.located or self.error != RUNTIME:
            return self
        prefix = RUNTIME_CAUSE_PREFIX.format(state=state, event=entered_event_id)
        located = ExecutionError(self.error, prefix + (self.cause or ""), terminal=self.terminal)
        located.located = True
        return located


class TaskFailed(ExecutionError):  # noqa: N818 - the name the task runners know
    """Raised by ``Runtime.run_task`` when the task reports an error (a Lambda error, a service error)."""


class TaskTokenError(AslError):
    """A SendTaskSuccess/Failure/Heartbeat the token registry refuses; ``code`` is the API's error
    (``InvalidToken``, ``TaskDoesNotExist``, ``TaskTimedOut``, ``InvalidOutput``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PathNotFoundError(AslError):
    """A path matched nothing in the document it was applied to (internal: callers add the context)."""


def runtime_error(cause: str) -> ExecutionError:
    return ExecutionError(RUNTIME, cause)
