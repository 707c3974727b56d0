"""What an execution needs from its host, and what it reports back.

The host (the local cloud) provides a ``Runtime``: virtual time, a scheduler for continuations, a seeded
random source, the task runner and the registry of task tokens (which it answers SendTask* calls from).
The interpreter never sleeps and never starts a thread: a Wait state, a Retry back-off or a callback
task's timeout is a ``call_later`` continuation, and everything between two of them runs synchronously
on the caller's stack.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

if TYPE_CHECKING:
    from workflowkit.asl.callbacks import TaskTokens

# The longest a Standard execution can run (366 days): "If an execution runs for more than the 1-year
# limit, it will fail with a States.Timeout error". No continuation can usefully be scheduled further
# ahead than this, so the interpreter never asks ``call_later`` for more; that also keeps a host's
# ``now + timedelta(seconds=...)`` in range whatever a definition asks for (a Wait of 99,999,999 s, a
# Timestamp in the year 9999, a back-off growing geometrically over many attempts). The execution time
# limit itself is not modelled: a capped continuation simply runs one year later.
MAX_DELAY_SECONDS: Final = 31_622_400


class ExecutionStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """The execution's identity, as the context object (``$$.Execution``, ``$$.StateMachine``) shows it."""

    execution_arn: str
    execution_name: str
    start_time: datetime  # timezone-aware (UTC)
    state_machine_arn: str
    state_machine_name: str
    role_arn: str = ""
    # The execution's input as StartExecution got it: the history shows it verbatim (None: serialise it).
    input_text: str | None = None


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a task runner may want to know about the task it runs."""

    state_name: str
    execution_arn: str
    execution_name: str
    state_machine_arn: str
    retry_count: int  # how many times this state entry was already retried
    entered_time: datetime
    timeout_seconds: int | None  # TimeoutSeconds / TimeoutSecondsPath, resolved (None: not set)
    heartbeat_seconds: int | None
    random: random.Random  # the runtime's seeded source, e.g. for request ids
    task_token: str | None = None  # the token of a .waitForTaskToken task's attempt


class Runtime(Protocol):
    """Provided by the host. ``run_task`` raises ``TaskFailed(error, cause)`` for a task error.

    ``run_task`` receives parameters that share structure with the execution's data: it must treat them
    as read-only (copy before changing), and the result it returns belongs to the execution afterwards.
    """

    @property
    def random(self) -> random.Random: ...

    @property
    def task_tokens(self) -> TaskTokens: ...

    def now(self) -> datetime: ...

    def call_later(
        self, seconds: float, label: str, action: Callable[[], None], *, background: bool = False
    ) -> None:
        """Run ``action`` after ``seconds`` of (virtual) time: always from 0 to ``MAX_DELAY_SECONDS``.

        ``background``: the continuation does not by itself keep the host busy (a callback task's
        timeout: the task waits on the outside world, which may answer long before)."""

    def run_task(self, resource: str, parameters: Any, task: TaskContext) -> Any: ...


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """How an execution ended. The constructors let a host record an outcome that never ran (an
    execution stopped before it started, or failed by an injected fault)."""

    status: ExecutionStatus
    output: str | None  # JSON text, for SUCCEEDED
    error: str | None  # for FAILED, and ABORTED as given to stop
    cause: str | None
    start_time: datetime | None = None
    stop_time: datetime | None = None

    @classmethod
    def succeeded(cls, output: str) -> ExecutionResult:
        return cls(ExecutionStatus.SUCCEEDED, output, None, None)

    @classmethod
    def failed(cls, error: str | None, cause: str | None) -> ExecutionResult:
        return cls(ExecutionStatus.FAILED, None, error, cause)

    @classmethod
    def aborted(cls, error: str | None = None, cause: str | None = None) -> ExecutionResult:
        return cls(ExecutionStatus.ABORTED, None, error, cause)


TransitionKind = Literal["entered", "submitted", "exited", "failed", "retrying", "caught"]


@dataclass(frozen=True, slots=True)
class TransitionEvent:
    """One step of an execution's timeline.

    ``scope`` locates the flow of control: "" for the top level, "Fan/0" for branch 0 of the Parallel
    state "Fan", "Fan/0/Items/3" for item 3 of a Map state inside that branch. ``failed`` events carry the
    error and cause; ``retrying`` carries the back-off in ``delay_seconds``; ``caught`` names the catcher's
    next state in ``next_state``. ``submitted`` is a ``.waitForTaskToken`` task whose service call
    succeeded and which now waits for its token to be answered (Step Functions' TaskSubmitted); the answer
    then shows as ``exited`` (SendTaskSuccess) or ``failed`` (SendTaskFailure, a timeout).
    """

    kind: TransitionKind
    state_name: str
    state_type: str
    time: datetime
    scope: str = ""
    error: str | None = None
    cause: str | None = None
    delay_seconds: float | None = None
    next_state: str | None = None
