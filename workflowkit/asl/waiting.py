"""A ``.waitForTaskToken`` task between its service call and its answer, on virtual time.

After the service call the flow suspends: nothing sleeps and no thread waits. The token registry
calls :meth:`CallbackWait.answered` when SendTaskSuccess or SendTaskFailure arrives, and two timers may
end the wait first: ``TimeoutSeconds`` (States.Timeout, counted from the service call, however many
heartbeats come) and ``HeartbeatSeconds`` (States.HeartbeatTimeout, restarted by each
SendTaskHeartbeat). The timers are *background* continuations for the host: a task that waits on the
outside world does not keep the system busy, so the local cloud's ``run_until_quiescent`` returns with
the execution paused, and letting time run (``run_for``) fires them. A timer beyond
``MAX_DELAY_SECONDS`` is not scheduled: the execution's own one-year limit, which would end the wait
first, is not modelled.

An answer resumes the flow as a continuation at the current virtual time, so the rest of the execution
runs after the API call that brought the answer has returned, not inside its caller: ``on_success`` with
SendTaskSuccess's output, ``on_failure`` with SendTaskFailure's error (``timed_out=False``) or a timer's
(``timed_out=True``), each recording the task's event before it goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from workflowkit.asl.callbacks import Answer, TaskTokens
from workflowkit.asl.errors import HEARTBEAT_TIMEOUT, TIMEOUT, ExecutionError
from workflowkit.asl.runtime import MAX_DELAY_SECONDS, Runtime

Outcome = Any  # what a state handler returns (see workflowkit.asl.handlers)


class _Execution(Protocol):
    @property
    def runtime(self) -> Runtime: ...


class _Flow(Protocol):
    waiting: CallbackWait | None

    @property
    def execution(self) -> _Execution: ...

    def resume(self, action: Callable[[], Outcome]) -> None: ...

    def schedule(self, seconds: float, label: str, action: Callable[[], Outcome]) -> None: ...


class CallbackWait:
    """One attempt's wait; ``on_success`` turns the answer's output into the state's outcome,
    ``on_failure`` raises the error that failed the attempt."""

    __slots__ = (
        "_beats",
        "flow",
        "heartbeat_seconds",
        "on_failure",
        "on_success",
        "open",
        "state_name",
        "token",
        "tokens",
    )

    def __init__(
        self,
        flow: _Flow,
        tokens: TaskTokens,
        token: str,
        state_name: str,
        *,
        on_success: Callable[[Any], Outcome],
        on_failure: Callable[..., Outcome],
        heartbeat_seconds: int | None,
    ) -> None:
        self.flow = flow
        self.tokens = tokens
        self.token = token
        self.state_name = state_name
        self.on_success = on_success
        self.on_failure = on_failure  # (error, *, timed_out) -> raises
        self.heartbeat_seconds = heartbeat_seconds
        self.open = True
        self._beats = 0  # heartbeats so far: a heartbeat timer armed before the last one is void

    def start(self, timeout_seconds: int | None) -> None:
        """The flow suspends now: arm the timers; until an answer or a timer, the flow is waiting."""
        self.flow.waiting = self
        if timeout_seconds is not None:
            self._later(timeout_seconds, f"timeout {self.state_name}", self._timed_out)
        self._arm_heartbeat()

    # --- the registry's side ------------------------------------------------------------------------
    def answered(self, answer: Answer) -> None:
        if not self._end():
            return
        label = f"callback {self.state_name}"
        if answer.failed:
            # SendTaskFailure's error (none given: an empty name, which States.ALL still catches).
            failure = ExecutionError(answer.error or "", answer.cause)
            self.flow.schedule(0.0, label, partial(self.on_failure, failure, timed_out=False))
        else:
            self.flow.schedule(0.0, label, partial(self.on_success, answer.output))

    def heartbeat(self) -> None:
        if self.open:
            self._beats += 1
            self._arm_heartbeat()

    # --- the flow's side ----------------------------------------------------------------------------
    def cancel(self) -> None:
        """The flow is cancelled (StopExecution, a failed sibling): the token is invalid from now on."""
        if self._end():
            self.tokens.close(self.token)

    # --- timers -------------------------------------------------------------------------------------
    def _arm_heartbeat(self) -> None:
        if self.heartbeat_seconds is not None:
            label = f"heartbeat {self.state_name}"
            self._later(self.heartbeat_seconds, label, partial(self._missed, self._beats))

    def _missed(self, beats: int) -> None:
        if self.open and beats == self._beats:
            self._expire(ExecutionError(HEARTBEAT_TIMEOUT, None))

    def _timed_out(self) -> None:
        if self.open:
            self._expire(ExecutionError(TIMEOUT, None))

    def _expire(self, error: ExecutionError) -> None:
        self._end()
        self.tokens.close(self.token)
        self.flow.resume(partial(self.on_failure, error, timed_out=True))

    def _later(self, seconds: int, label: str, action: Callable[[], None]) -> None:
        if seconds <= MAX_DELAY_SECONDS:
            self.flow.execution.runtime.call_later(seconds, label, action, background=True)

    def _end(self) -> bool:
        """Close the wait; False when it had already ended."""
        if not self.open:
            return False
        self.open = False
        if self.flow.waiting is self:
            self.flow.waiting = None
        return True
