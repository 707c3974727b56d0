"""Running a program: the execution, its flows of control, Retry and Catch.

A *flow* runs one machine (the top level, a Parallel branch or a Map item) with an iterative loop, so a
long Pass/Choice cycle never deepens the Python stack. A state handler returns ``(next state, output)``
or suspends: a Wait state and a Retry back-off schedule a continuation with ``Runtime.call_later`` and
return; a ``.waitForTaskToken`` task waits for its token's answer (``Flow.waiting``); a Parallel or Map
state starts its child flows and returns once they are all done, or suspends until the last one
reports. Everything between two continuations runs synchronously, so an execution with no Wait, no
back-off and no callback task finishes inside ``StateMachineProgram.start``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from workflowkit.asl.errors import ExecutionError, runtime_error
from workflowkit.asl.handlers import HANDLERS, SUSPEND, Outcome
from workflowkit.asl.runtime import (
    MAX_DELAY_SECONDS,
    ExecutionContext,
    ExecutionResult,
    ExecutionStatus,
    Runtime,
    TransitionEvent,
    TransitionKind,
)
from workflowkit.asl.states import Machine, Retrier, State
from workflowkit.asl.values import format_timestamp, to_json_text

if TYPE_CHECKING:
    from workflowkit.asl.handlers import Join
    from workflowkit.asl.waiting import CallbackWait

FinishCallback = Callable[[ExecutionResult], None]
TransitionCallback = Callable[[TransitionEvent], None]


class Execution:
    """One execution of a program. Created and started by ``StateMachineProgram.start``.

    ``on_finish`` is called exactly once, with SUCCEEDED, FAILED or ABORTED. When nothing in the
    execution waits, that happens before ``start`` returns.
    """

    def __init__(
        self,
        machine: Machine,
        execution_input: Any,
        *,
        context: ExecutionContext,
        runtime: Runtime,
        on_finish: FinishCallback,
        on_transition: TransitionCallback | None,
    ) -> None:
        if context.start_time.tzinfo is None:
            raise ValueError("ExecutionContext.start_time must be timezone-aware (UTC)")
        self.context = context
        self.runtime = runtime
        self.status = ExecutionStatus.RUNNING
        self.result: ExecutionResult | None = None
        self._on_finish = on_finish
        self.on_transition = on_transition
        self.execution_object = {
            "Id": context.execution_arn,
            "Input": execution_input,
            "Name": context.execution_name,
            "RoleArn": context.role_arn,
            "StartTime": format_timestamp(context.start_time),
            "RedriveCount": 0,
        }
        self.machine_object = {"Id": context.state_machine_arn, "Name": context.state_machine_name}
        self._root = Flow(self, machine, execution_input, "", on_done=self._succeeded, on_fail=self._failed)

    def run(self) -> None:
        self._root.start()

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """Abort: no further state runs, pending continuations do nothing. A finished execution stays."""
        if self.status is not ExecutionStatus.RUNNING:
            return
        self._root.cancel()
        self._finish(ExecutionStatus.ABORTED, None, error, cause)

    @property
    def output(self) -> str | None:
        return self.result.output if self.result else None

    def _succeeded(self, output: Any) -> None:
        if self.status is not ExecutionStatus.RUNNING:
            return
        try:
            text = to_json_text(output)
        except (TypeError, ValueError) as error:
            self._failed(runtime_error(f"the execution's output is not JSON: {error}"))
            return
        self._finish(ExecutionStatus.SUCCEEDED, text, None, None)

    def _failed(self, error: ExecutionError) -> None:
        if self.status is not ExecutionStatus.RUNNING:
            return
        self._finish(ExecutionStatus.FAILED, None, error.error or None, error.cause)

    def _finish(
        self, status: ExecutionStatus, output: str | None, error: str | None, cause: str | None
    ) -> None:
        self.status = status
        self.result = ExecutionResult(
            status, output, error, cause, self.context.start_time, self.runtime.now()
        )
        self._on_finish(self.result)

    def emit(
        self,
        kind: TransitionKind,
        state: State,
        scope: str,
        error: ExecutionError | None = None,
        **extra: Any,
    ) -> None:
        assert self.on_transition is not None
        self.on_transition(
            TransitionEvent(
                kind,
                state.name,
                state.type_name,
                self.runtime.now(),
                scope,
                error.error if error else None,
                error.cause if error else None,
                **extra,
            )
        )


class Flow:
    """One flow of control through a machine. Implements ``Scope`` for the evaluators."""

    __slots__ = (
        "attempts",
        "cancelled",
        "entered",
        "entered_text",
        "execution",
        "input",
        "join",
        "machine",
        "on_done",
        "on_fail",
        "pending",
        "retry_count",
        "scope",
        "state",
        "task_token",
        "waiting",
    )

    def __init__(
        self,
        execution: Execution,
        machine: Machine,
        flow_input: Any,
        scope: str,
        *,
        on_done: Callable[[Any], None],
        on_fail: Callable[[ExecutionError], None],
    ) -> None:
        self.execution = execution
        self.machine = machine
        self.scope = scope
        self.on_done = on_done
        self.on_fail = on_fail
        self.input = flow_input
        self.state: State = machine.states[machine.start_at]
        self.entered: datetime = execution.context.start_time  # set again when the first state is entered
        self.entered_text: str | None = None
        self.retry_count = 0
        self.attempts: list[int] | None = None
        self.cancelled = False
        self.pending: Callable[[], Outcome] | None = None
        self.join: Join | None = None
        # A .waitForTaskToken attempt's token, while its Parameters are evaluated ($$.Task.Token), and
        # its wait once the service call returned (cancelling the flow invalidates the token).
        self.task_token: str | None = None
        self.waiting: CallbackWait | None = None

    # --- Scope --------------------------------------------------------------------------------------
    @property
    def random(self) -> random.Random:
        return self.execution.runtime.random

    def context_object(self) -> dict[str, Any]:
        if self.entered_text is None:
            self.entered_text = format_timestamp(self.entered)
        context: dict[str, Any] = {
            "Execution": self.execution.execution_object,
            "State": {
                "EnteredTime": self.entered_text,
                "Name": self.state.name,
                "RetryCount": self.retry_count,
            },
            "StateMachine": self.execution.machine_object,
        }
        if self.task_token is not None:
            context["Task"] = {"Token": self.task_token}
        return context

    # --- driving ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._enter(self.machine.start_at, self.input)
        self._loop()

    def cancel(self) -> None:
        self.cancelled = True
        if self.join is not None:
            self.join.cancel()
        if self.waiting is not None:
            self.waiting.cancel()

    def resume(self, action: Callable[[], Outcome]) -> None:
        if self.cancelled or self.execution.status is not ExecutionStatus.RUNNING:
            return  # stopped, or a branch of a state that already failed: the continuation is void
        self.pending = action
        self._loop()

    def spawn(
        self,
        machine: Machine,
        flow_input: Any,
        scope: str,
        *,
        on_done: Callable[[Any], None],
        on_fail: Callable[[ExecutionError], None],
    ) -> Flow:
        """A child flow (a Parallel branch, a Map iteration) of the same execution; start it with start()."""
        return Flow(self.execution, machine, flow_input, scope, on_done=on_done, on_fail=on_fail)

    def schedule(self, seconds: float, label: str, action: Callable[[], Outcome]) -> None:
        # Never more than a Standard execution's one-year lifetime (see MAX_DELAY_SECONDS): the host
        # turns the delay into a datetime, which a Wait until the year 9999 would overflow.
        if not 0.0 <= seconds <= MAX_DELAY_SECONDS:  # also catches NaN
            seconds = 0.0 if seconds < 0.0 else float(MAX_DELAY_SECONDS)
        self.execution.runtime.call_later(seconds, label, lambda: self.resume(action))

    def _enter(self, name: str, state_input: Any) -> None:
        state = self.machine.states[name]
        self.state = state
        self.input = state_input
        self.entered = self.execution.runtime.now()
        self.entered_text = None
        self.retry_count = 0
        self.attempts = None  # retriers count per state entry
        if self.execution.on_transition is not None:
            self.execution.emit("entered", state, self.scope)

    def _loop(self) -> None:
        execution = self.execution
        while not self.cancelled and execution.status is ExecutionStatus.RUNNING:
            state = self.state
            try:
                action = self.pending
                if action is not None:
                    self.pending = None
                    outcome = action()
                else:
                    outcome = HANDLERS[type(state)](self, state)
            except ExecutionError as error:
                outcome = self._handle_error(state, error)
            if outcome is SUSPEND or self.cancelled:
                return  # suspended, or stopped from within the state (a task runner that stops it)
            following, output = outcome
            if execution.on_transition is not None:
                execution.emit("exited", state, self.scope)
            if following is None:
                self.cancelled = True  # done: nothing may resume this flow again
                self.on_done(output)
                return
            self._enter(following, output)

    def _handle_error(self, state: State, error: ExecutionError) -> Outcome:
        execution = self.execution
        if self.cancelled or execution.status is not ExecutionStatus.RUNNING:
            return SUSPEND  # stopped while the state ran: the error changes nothing
        if execution.on_transition is not None:
            execution.emit("failed", state, self.scope, error)
        if error.catchable:
            retriers = getattr(state, "retriers", ())
            for index, retrier in enumerate(retriers):
                if not retrier.errors.matches(error.error):
                    continue
                # The first retrier that names the error decides; once it is exhausted, Catch applies.
                attempts = self.attempts if self.attempts is not None else [0] * len(retriers)
                self.attempts = attempts
                if attempts[index] >= retrier.max_attempts:
                    break
                delay = backoff_delay(retrier, attempts[index])
                if retrier.full_jitter:
                    delay = execution.runtime.random.uniform(0, delay)
                attempts[index] += 1
                self.retry_count += 1
                if execution.on_transition is not None:
                    execution.emit("retrying", state, self.scope, error, delay_seconds=delay)
                self.schedule(delay, f"retry {state.name}", partial(HANDLERS[type(state)], self, state))
                return SUSPEND
            for catcher in getattr(state, "catchers", ()):
                if catcher.errors.matches(error.error):
                    error_output = {"Error": error.error}
                    if error.cause is not None:
                        error_output["Cause"] = error.cause
                    try:
                        output = catcher.placement(self.input, error_output)
                    except ExecutionError as placement_error:
                        error = placement_error
                        break
                    if execution.on_transition is not None:
                        execution.emit("caught", state, self.scope, error, next_state=catcher.next)
                    return catcher.next, output
        self.cancelled = True
        self.on_fail(error)
        return SUSPEND


def backoff_delay(retrier: Retrier, attempt: int) -> float:
    """IntervalSeconds x BackoffRate^attempt, capped by MaxDelaySeconds and by MAX_DELAY_SECONDS.

    99,999,999 attempts at any rate above 1 leave a double's range long before they end (2.0^1024 is
    already too large), and ``**`` raises OverflowError then: such a delay is just "as long as allowed".
    """
    limit = float(MAX_DELAY_SECONDS)
    if retrier.max_delay_seconds is not None:
        limit = min(limit, retrier.max_delay_seconds)
    try:
        delay = retrier.interval_seconds * retrier.backoff_rate**attempt
    except OverflowError:
        return limit
    return min(delay, limit)
