"""Running a program: the execution, its flows of control, Retry and Catch.

A *flow* runs one machine (the top level, a Parallel branch or a Map item) with an iterative loop, so a
long Pass/Choice cycle never deepens the Python stack. A state handler returns ``(next state, output)``
or suspends: a Wait state and a Retry back-off schedule a continuation with ``Runtime.call_later`` and
return; a ``.waitForTaskToken`` task waits for its token's answer (``Flow.waiting``); a Parallel or Map
state starts its child flows and returns once they are all done, or suspends until the last one
reports. Everything between two continuations runs synchronously, so an execution with no Wait, no
back-off and no callback task finishes inside ``StateMachineProgram.start``.

Every step is also an event of the execution's ``history`` (see ``history``): each flow keeps the id its
next event points at (``Flow.previous``), and the id of the event that entered its current state, which a
States.Runtime cause names as AWS does. Nothing a definition or its data makes a lower layer raise
escapes an execution: an unexpected exception fails the execution with States.Runtime, as a bug of the
local interpreter rather than of the host that runs it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from workflowkit.asl.errors import ExecutionError, runtime_error
from workflowkit.asl.handlers import HANDLERS, SUSPEND, Outcome
from workflowkit.asl.history import (
    EXECUTION_ABORTED,
    EXECUTION_FAILED,
    EXECUTION_STARTED,
    EXECUTION_SUCCEEDED,
    MAP_FAILED,
    PARALLEL_FAILED,
    STATE_EVENTS,
    TASK_STATE_ABORTED,
    Details,
    History,
    Text,
)
from workflowkit.asl.payload_limit import exceeds_limit, state_output_too_large
from workflowkit.asl.runtime import (
    MAX_DELAY_SECONDS,
    ExecutionContext,
    ExecutionResult,
    ExecutionStatus,
    Runtime,
    TransitionEvent,
    TransitionKind,
)
from workflowkit.asl.states import Machine, MapState, ParallelState, Retrier, State, TaskState
from workflowkit.asl.values import format_timestamp, to_json_text

if TYPE_CHECKING:
    from workflowkit.asl.handlers import Join
    from workflowkit.asl.waiting import CallbackWait

FinishCallback = Callable[[ExecutionResult], None]
TransitionCallback = Callable[[TransitionEvent], None]

_log = logging.getLogger(__name__)
# The states whose context object carries $$.State.RetryCount (those with Retry fields), and the event a
# failure of each that no Retry takes records.
_RETRYING: Final = (TaskState, ParallelState, MapState)
_STATE_FAILED: Final[dict[type[State], str]] = {ParallelState: PARALLEL_FAILED, MapState: MAP_FAILED}
# (entered, exited) event type per state class.
_EVENTS: Final = {kind: STATE_EVENTS[kind.__name__.removesuffix("State")] for kind in HANDLERS}


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
        self.region = context.execution_arn.split(":")[3] if context.execution_arn.count(":") >= 3 else ""
        self.history = History()
        # AWS shows StartExecution's input as it was given; the first state's input too.
        started_input = execution_input if context.input_text is None else Text(context.input_text)
        self.history.add(EXECUTION_STARTED, 0, context.start_time, (started_input, context.role_arn))
        # The context object's keys in the sequence Step Functions gives them.
        self.execution_object = {
            "Id": context.execution_arn,
            "Input": execution_input,
            "StartTime": format_timestamp(context.start_time),
            "Name": context.execution_name,
            "RoleArn": context.role_arn,
            "RedriveCount": 0,
        }
        self.machine_object = {"Id": context.state_machine_arn, "Name": context.state_machine_name}
        self._root = Flow(self, machine, execution_input, "", on_done=self._succeeded, on_fail=self._failed)
        self._started_input = started_input

    def run(self) -> None:
        self._root.start(shown_input=self._started_input)

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """Abort: no further state runs, pending continuations do nothing. A finished execution stays."""
        if self.status is not ExecutionStatus.RUNNING:
            return
        self._root.cancel()
        self._finish(ExecutionStatus.ABORTED, None, error, cause)

    @property
    def output(self) -> str | None:
        return self.result.output if self.result else None

    def record(self, kind: str, previous: int, details: Details = None) -> int:
        """Add an event to the history, now; its id."""
        return self.history.add(kind, previous, self.runtime.now(), details)

    def _succeeded(self, output: Any) -> None:
        if self.status is not ExecutionStatus.RUNNING:
            return
        try:
            text = to_json_text(output)
        except (TypeError, ValueError, RecursionError) as error:
            self._failed(runtime_error(f"the execution's output is not JSON: {error}"))
            return
        self.record(EXECUTION_SUCCEEDED, self._root.previous, (Text(text),))
        self._finish(ExecutionStatus.SUCCEEDED, text, None, None)

    def _failed(self, error: ExecutionError) -> None:
        if self.status is not ExecutionStatus.RUNNING:
            return
        self.record(EXECUTION_FAILED, self._root.previous, (error.error or None, error.cause))
        self._finish(ExecutionStatus.FAILED, None, error.error or None, error.cause)

    def _finish(
        self, status: ExecutionStatus, output: str | None, error: str | None, cause: str | None
    ) -> None:
        if status is ExecutionStatus.ABORTED:
            self.record(EXECUTION_ABORTED, len(self.history), (error, cause))
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
    """One flow of control through a machine. Implements ``Scope`` for the evaluators.

    ``previous``: the id of the history event this flow's next event follows (0 before the first state of
    the execution, the ParallelStateStarted or MapIterationStarted event that began a branch or an
    iteration); ``entered_id``: the id of the event that entered the current state.
    """

    __slots__ = (
        "attempts",
        "cancelled",
        "entered",
        "entered_id",
        "entered_text",
        "execution",
        "input",
        "join",
        "machine",
        "on_done",
        "on_fail",
        "pending",
        "previous",
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
        previous: int = 0,
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
        self.previous = previous
        self.entered_id = 0
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
        state: dict[str, Any] = {"Name": self.state.name, "EnteredTime": self.entered_text}
        # Only the states that can retry count their retries (a Pass state's $$.State has no RetryCount).
        if isinstance(self.state, _RETRYING):
            state["RetryCount"] = self.retry_count
        context: dict[str, Any] = {
            "Execution": self.execution.execution_object,
            "StateMachine": self.execution.machine_object,
            "State": state,
        }
        if self.task_token is not None:
            context["Task"] = {"Token": self.task_token}
        return context

    # --- history ------------------------------------------------------------------------------------
    def record(self, kind: str, details: Details = None, *, passed_by: bool = False) -> int:
        """Add an event following this flow's last one. A ``passed_by`` event (ParallelStateSucceeded,
        MapIterationSucceeded, TaskStateAborted...) is not followed: the next event points past it."""
        event_id = self.execution.record(kind, self.previous, details)
        if not passed_by:
            self.previous = event_id
        return event_id

    # --- driving ------------------------------------------------------------------------------------
    def start(self, *, shown_input: Any = None) -> None:
        """Enter the first state (``shown_input``: its input as the history shows it, when not the
        value itself) and run."""
        self._enter(self.machine.start_at, self.input, self.input if shown_input is None else shown_input)
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
        previous: int,
    ) -> Flow:
        """A child flow (a Parallel branch, a Map iteration) of the same execution, whose first event
        follows event ``previous``; start it with start()."""
        return Flow(
            self.execution, machine, flow_input, scope, on_done=on_done, on_fail=on_fail, previous=previous
        )

    def schedule(self, seconds: float, label: str, action: Callable[[], Outcome]) -> None:
        # Never more than a Standard execution's one-year lifetime (see MAX_DELAY_SECONDS): the host
        # turns the delay into a datetime, which a Wait until the year 9999 would overflow.
        if not 0.0 <= seconds <= MAX_DELAY_SECONDS:  # also catches NaN
            seconds = 0.0 if seconds < 0.0 else float(MAX_DELAY_SECONDS)
        self.execution.runtime.call_later(seconds, label, lambda: self.resume(action))

    def _enter(self, name: str, state_input: Any, shown_input: Any = None) -> None:
        state = self.machine.states[name]
        execution = self.execution
        self.state = state
        self.input = state_input
        now = self.entered = execution.runtime.now()
        self.entered_text = None
        self.retry_count = 0
        self.attempts = None  # retriers count per state entry
        events = execution.history.events
        entered = _EVENTS[type(state)][0]
        shown = state_input if shown_input is None else shown_input
        events.append((entered, self.previous, now, (name, shown)))
        self.previous = self.entered_id = len(events)
        if execution.on_transition is not None:
            execution.emit("entered", state, self.scope)

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
                if outcome is not SUSPEND and not self.cancelled:
                    outcome = self._checked(state, outcome)
            except ExecutionError as error:
                outcome = self._handle_error(state, error)
            except Exception as error:
                # Nothing in a definition or its data may stop the host's loop or leave the execution
                # running forever: whatever a lower layer raised fails this execution, as a bug would in
                # Step Functions (States.Runtime).
                _log.warning(
                    "the interpreter raised in state %s of %s", state.name, self.scope, exc_info=True
                )
                failure = runtime_error(
                    f"Internal error of the local interpreter: {type(error).__name__}: {error}"
                )
                outcome = self._handle_error(state, failure)
            if outcome is SUSPEND or self.cancelled:
                return  # suspended, or stopped from within the state (a task runner that stops it)
            following, output = outcome
            execution.history.events.append(
                (_EVENTS[type(state)][1], self.previous, execution.runtime.now(), (state.name, output))
            )
            self.previous = len(execution.history.events)
            if execution.on_transition is not None:
                execution.emit("exited", state, self.scope)
            if following is None:
                self.cancelled = True  # done: nothing may resume this flow again
                self.on_done(output)
                return
            self._enter(following, output)

    def _checked(self, state: State, outcome: Outcome) -> Outcome:
        """The state's output within the payload limit (an output that is its input passed already)."""
        output = outcome[1]
        if output is not self.input:
            try:
                too_large = exceeds_limit(output)
            except (TypeError, ValueError) as error:
                raise runtime_error(f"The output of state {state.name!r} is not JSON: {error}") from None
            if too_large:
                raise state_output_too_large(state.name)
        return outcome

    def _handle_error(self, state: State, error: ExecutionError) -> Outcome:
        execution = self.execution
        if self.cancelled or execution.status is not ExecutionStatus.RUNNING:
            return SUSPEND  # stopped while the state ran: the error changes nothing
        error = error.at_state(state.name, self.entered_id)
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
            failed = _STATE_FAILED.get(type(state))
            if failed is not None:  # a Parallel or Map state that no Retry takes again
                self.record(failed)
            for catcher in getattr(state, "catchers", ()):
                if catcher.errors.matches(error.error):
                    error_output = {"Error": error.error}
                    if error.cause is not None:
                        error_output["Cause"] = error.cause
                    try:
                        output = catcher.placement(self.input, error_output)
                    except ExecutionError as placement_error:
                        error = placement_error.at_state(state.name, self.entered_id)
                        break
                    if execution.on_transition is not None:
                        execution.emit("caught", state, self.scope, error, next_state=catcher.next)
                    return catcher.next, output
            if self.scope and type(state) is TaskState:
                # A task failure that ends a Parallel branch or a Map iteration aborts its state.
                self.record(TASK_STATE_ABORTED, passed_by=True)
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
