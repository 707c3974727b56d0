"""What each state type does, and how Parallel and Map states join their child flows.

A handler takes the flow and the state and returns ``(next state or None at the end, output)``, raises
``ExecutionError``, or returns ``SUSPEND`` after arranging to resume the flow later (a Wait state's
continuation, a ``.waitForTaskToken`` task's answer, or the last child of a Parallel/Map state). Input
and output processing follows the documented sequence: InputPath, Parameters, the work,
ResultSelector, ResultPath, OutputPath.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Final, Protocol

from workflowkit.asl.errors import NO_CHOICE_MATCHED, ExecutionError, PathNotFoundError, runtime_error
from workflowkit.asl.fields import MAX_SECONDS
from workflowkit.asl.history import (
    MAP_ITERATION_FAILED,
    MAP_ITERATION_STARTED,
    MAP_ITERATION_SUCCEEDED,
    MAP_STARTED,
    MAP_SUCCEEDED,
    PARALLEL_STARTED,
    PARALLEL_SUCCEEDED,
    Details,
)
from workflowkit.asl.integration_patterns import WAIT_FOR_TASK_TOKEN
from workflowkit.asl.paths import JsonPath
from workflowkit.asl.runtime import ExecutionContext, Runtime, TaskContext, TransitionEvent, TransitionKind
from workflowkit.asl.states import (
    ChoiceState,
    FailState,
    Machine,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from workflowkit.asl.task_events import TaskEvents
from workflowkit.asl.values import as_integer, parse_timestamp
from workflowkit.asl.waiting import CallbackWait

Outcome = Any  # tuple[str | None, Any] (next state or None at the end, output) or SUSPEND
SUSPEND: Final = object()


class _Execution(Protocol):
    on_transition: Callable[[TransitionEvent], None] | None

    @property
    def context(self) -> ExecutionContext: ...

    @property
    def runtime(self) -> Runtime: ...

    @property
    def region(self) -> str: ...

    def emit(self, kind: TransitionKind, state: State, scope: str) -> None: ...

    def record(self, kind: str, previous: int, details: Details = None) -> int: ...


class Flow(Protocol):
    """What a handler needs of the flow that runs the state: :class:`workflowkit.asl.execution.Flow`.

    Declared here, by the side that uses it, so that this module does not import the one calling it.
    """

    join: Join | None
    cancelled: bool
    task_token: str | None
    waiting: CallbackWait | None
    previous: int  # the history event this flow's next event follows

    @property
    def execution(self) -> _Execution: ...

    @property
    def input(self) -> Any: ...

    @property
    def scope(self) -> str: ...

    @property
    def entered(self) -> datetime: ...

    @property
    def retry_count(self) -> int: ...

    @property
    def random(self) -> random.Random: ...

    def context_object(self) -> dict[str, Any]: ...

    def start(self) -> None: ...

    def cancel(self) -> None: ...

    def resume(self, action: Callable[[], Outcome]) -> None: ...

    def schedule(self, seconds: float, label: str, action: Callable[[], Outcome]) -> None: ...

    def record(self, kind: str, details: Details = None, *, passed_by: bool = False) -> int: ...

    def spawn(
        self,
        machine: Machine,
        flow_input: Any,
        scope: str,
        *,
        on_done: Callable[[Any], None],
        on_fail: Callable[[ExecutionError], None],
        previous: int,
    ) -> Flow: ...


_log = logging.getLogger(__name__)


def _effective_input(flow: Flow, state: State) -> Any:
    selector = state.input_path
    return flow.input if selector is None else selector(flow.input, flow)


def _finish_output(flow: Flow, state: State, output: Any) -> tuple[str | None, Any]:
    selector = state.output_path
    return state.next, output if selector is None else selector(output, flow)


def _run_pass(flow: Flow, state: PassState) -> Outcome:
    effective = _effective_input(flow, state)
    if state.parameters is not None:
        effective = state.parameters(effective, flow)
    result = effective if state.result is None else state.result(effective, flow)
    return _finish_output(flow, state, state.placement(flow.input, result))


def _run_task(flow: Flow, state: TaskState) -> Outcome:
    if state.pattern and state.pattern != WAIT_FOR_TASK_TOKEN:
        # Checked first: nothing of the state runs.
        raise runtime_error(
            f"The {state.pattern} integration pattern ({state.resource}{state.pattern}) is not supported"
            " by the local interpreter: only request-response and .waitForTaskToken tasks run"
        )
    effective = _effective_input(flow, state)
    execution = flow.execution
    context = execution.context
    runtime = execution.runtime
    token = None
    if state.pattern:
        # One token per attempt: a retried task answers to a new token, and the old one is closed.
        token = runtime.task_tokens.issue(context.execution_arn, runtime.random)
    try:
        flow.task_token = token  # $$.Task.Token: in the context object for the Parameters only
        try:
            parameters = effective if state.parameters is None else state.parameters(effective, flow)
        finally:
            flow.task_token = None
        task = TaskContext(
            state.name,
            context.execution_arn,
            context.execution_name,
            context.state_machine_arn,
            flow.retry_count,
            flow.entered,
            _resolve_seconds(
                flow, effective, state.timeout_seconds, state.timeout_seconds_path, "TimeoutSecondsPath"
            ),
            _resolve_seconds(
                flow, effective, state.heartbeat_seconds, state.heartbeat_seconds_path, "HeartbeatSecondsPath"
            ),
            runtime.random,
            token,
        )
        events = TaskEvents(flow, state.resource, state.pattern)
        events.scheduled(parameters, task)
        try:
            result = _call_service(flow, state, parameters, task)
        except ExecutionError as error:
            events.failed(error)
            raise
    except ExecutionError:
        if token is not None:
            runtime.task_tokens.close(token)  # the attempt failed: its token can no longer be answered
        raise
    if token is None:
        events.succeeded(result)
        return _task_result(flow, state, result)
    # The service call's own response is not the task's result: the token's answer is.
    return _wait_for_callback(flow, state, task, token, events=events, response=result)


def _call_service(flow: Flow, state: TaskState, parameters: Any, task: TaskContext) -> Any:
    try:
        return flow.execution.runtime.run_task(state.resource, parameters, task)
    except ExecutionError:
        raise
    except Exception as error:
        # A bug in the task runner: fail this execution loudly instead of the whole host loop.
        _log.warning("run_task raised for %s in %s", state.name, task.execution_arn, exc_info=True)
        raise runtime_error(f"The task runner raised {type(error).__name__}: {error}") from error


def _wait_for_callback(
    flow: Flow, state: TaskState, task: TaskContext, token: str, *, events: TaskEvents, response: Any
) -> Outcome:
    """Suspend until the token is answered or a timer ends the wait (see ``workflowkit.asl.waiting``)."""
    execution = flow.execution
    tokens = execution.runtime.task_tokens
    if flow.cancelled:  # stopped while the service call ran: nothing will wait for the answer
        tokens.close(token)
        return SUSPEND
    wait = CallbackWait(
        flow,
        tokens,
        token,
        state.name,
        on_success=partial(_callback_succeeded, flow, state, events),
        on_failure=partial(_callback_failed, events),
        heartbeat_seconds=task.heartbeat_seconds,
    )
    events.submitted(response)
    if execution.on_transition is not None:
        execution.emit("submitted", state, flow.scope)
    early = tokens.attach(token, wait)
    if early is not None:  # answered while the service call ran (the callee answered at once)
        if early.failed:
            return _callback_failed(events, ExecutionError(early.error or "", early.cause), timed_out=False)
        return _callback_succeeded(flow, state, events, early.output)
    wait.start(task.timeout_seconds)
    return SUSPEND


def _callback_succeeded(flow: Flow, state: TaskState, events: TaskEvents, output: Any) -> Outcome:
    events.succeeded(output)
    return _task_result(flow, state, output)


def _callback_failed(events: TaskEvents, error: ExecutionError, *, timed_out: bool) -> Outcome:
    if timed_out:
        events.timed_out(error)
    else:
        events.failed(error)
    raise error


def _task_result(flow: Flow, state: TaskState, result: Any) -> Outcome:
    if state.result_selector is not None:
        result = state.result_selector(result, flow)
    return _finish_output(flow, state, state.placement(flow.input, result))


def _resolve_seconds(
    flow: Flow, effective: Any, fixed: int | None, path: JsonPath | None, field: str
) -> int | None:
    if path is None:
        return fixed
    value = _read(flow, effective, path, field)
    seconds = as_integer(value)
    if seconds is None or not 0 < seconds <= MAX_SECONDS:
        raise runtime_error(
            f"{field} {path.text!r} must select an integer from 1 to {MAX_SECONDS}, got {value!r}"
        )
    return seconds


def _read(flow: Flow, effective: Any, path: JsonPath, field: str) -> Any:
    try:
        return path.select(effective, flow)
    except PathNotFoundError:
        raise runtime_error(
            f"Invalid path {path.text!r} for {field}: no results in the state's input"
        ) from None


def _run_choice(flow: Flow, state: ChoiceState) -> Outcome:
    effective = _effective_input(flow, state)
    following = None
    for condition, target in state.choices:
        if condition(effective, flow):
            following = target
            break
    else:
        following = state.default
        if following is None:
            raise ExecutionError(
                NO_CHOICE_MATCHED, f"No Choice Rule matched and there is no Default in {state.name!r}"
            )
    selector = state.output_path
    return following, effective if selector is None else selector(effective, flow)


def _run_wait(flow: Flow, state: WaitState) -> Outcome:
    effective = _effective_input(flow, state)
    now = flow.execution.runtime.now()
    if state.seconds is not None:
        delay = float(state.seconds)
    elif state.seconds_path is not None:
        value = _read(flow, effective, state.seconds_path, "SecondsPath")
        seconds = as_integer(value)
        if seconds is None or not 0 <= seconds <= MAX_SECONDS:  # the bounds of Seconds
            raise runtime_error(
                f"SecondsPath {state.seconds_path.text!r} must select an integer from 0 to {MAX_SECONDS},"
                f" got {value!r}"
            )
        delay = float(seconds)
    else:
        moment = state.timestamp
        if state.timestamp_path is not None:
            value = _read(flow, effective, state.timestamp_path, "TimestampPath")
            moment = parse_timestamp(value)
            if moment is None:
                raise runtime_error(
                    f"TimestampPath {state.timestamp_path.text!r} must select an RFC 3339 timestamp,"
                    f" got {value!r}"
                )
        assert moment is not None
        # A moment in the year 9999 is a valid timestamp; schedule() caps the delay at one year.
        delay = max(0.0, (moment - now).total_seconds())
    outcome = _finish_output(flow, state, effective)
    flow.schedule(delay, f"wait {state.name}", lambda: outcome)
    return SUSPEND


def _run_succeed(flow: Flow, state: SucceedState) -> Outcome:
    return _finish_output(flow, state, _effective_input(flow, state))


def _run_fail(flow: Flow, state: FailState) -> Outcome:
    error = state.error
    if state.error_path is not None:
        error = state.error_path(flow.input, flow)
    cause = state.cause
    if state.cause_path is not None:
        cause = state.cause_path(flow.input, flow)
    for field, value in (("ErrorPath", error), ("CausePath", cause)):
        if value is not None and not isinstance(value, str):
            raise runtime_error(f"The {field} of {state.name!r} must select a string, got {value!r}")
    raise ExecutionError(error or "", cause)


def _run_parallel(flow: Flow, state: ParallelState) -> Outcome:
    effective = _effective_input(flow, state)
    if state.parameters is not None:
        effective = state.parameters(effective, flow)
    started = flow.record(PARALLEL_STARTED)
    join = Join(flow, state, len(state.branches))
    prefix = f"{flow.scope}/{state.name}" if flow.scope else state.name
    for index, branch in enumerate(state.branches):
        if join.error is not None:
            break  # a branch already failed: the others are not started
        child = flow.spawn(
            branch,
            effective,
            f"{prefix}/{index}",
            on_done=partial(join.done, index),
            on_fail=partial(join.failed, index),
            previous=started,
        )
        join.children.append(child)
        child.start()
    return join.settle()


def _run_map(flow: Flow, state: MapState) -> Outcome:
    effective = _effective_input(flow, state)
    items = effective if state.items_path is None else _read(flow, effective, state.items_path, "ItemsPath")
    if not isinstance(items, list):
        raise runtime_error(
            f"The Map state {state.name!r} needs an array of items, got {type(items).__name__}"
        )
    limit = state.max_concurrency
    if state.max_concurrency_path is not None:
        value = _read(flow, effective, state.max_concurrency_path, "MaxConcurrencyPath")
        resolved = as_integer(value)
        if resolved is None or resolved < 0:
            raise runtime_error(f"MaxConcurrencyPath must select a non-negative integer, got {value!r}")
        limit = resolved
    started = flow.record(MAP_STARTED, (len(items),))
    join = MapJoin(flow, state, effective, items, limit=limit, started=started)
    join.pump()
    return join.settle()


HANDLERS: Final[dict[type[State], Callable[[Flow, Any], Outcome]]] = {
    PassState: _run_pass,
    TaskState: _run_task,
    ChoiceState: _run_choice,
    WaitState: _run_wait,
    SucceedState: _run_succeed,
    FailState: _run_fail,
    ParallelState: _run_parallel,
    MapState: _run_map,
}


# --- Parallel and Map: child flows and their join -------------------------------------------------------


class Join:
    """The children of one Parallel (or Map) state entry, and how their results come back.

    ``latest`` is the latest event the children published that the state continues from (its Succeeded
    or Failed event follows it): the children's own chains, not the events each passed by.
    """

    succeeded_event = PARALLEL_SUCCEEDED

    def __init__(self, flow: Flow, state: ParallelState | MapState, count: int) -> None:
        self.flow = flow
        self.state = state
        self.results: list[Any] = [None] * count
        self.remaining = count
        self.children: list[Flow] = []
        self.error: ExecutionError | None = None
        self.waiting = False  # the parent flow suspended and must be resumed by the last child
        self.latest = flow.previous
        flow.join = self

    def done(self, index: int, output: Any) -> None:
        self.results[index] = output
        self.remaining -= 1
        self.latest = max(self.latest, self.children[index].previous)
        if self.remaining == 0 and self.waiting:
            self.waiting = False
            self.flow.resume(self._outcome)

    def failed(self, index: int, error: ExecutionError) -> None:
        """Child ``index`` failed with ``error``."""
        self.latest = max(self.latest, self.children[index].previous)
        self.fail(error)

    def fail(self, error: ExecutionError) -> None:
        if self.error is not None:
            return
        # "If any iteration fails, entire Map state fails, and all iterations are terminated" (and a
        # failing Parallel branch stops the others): the state fails with the branch's own error.
        self.error = error
        self.cancel()
        if self.waiting:
            self.waiting = False
            self.flow.resume(self._outcome)

    def cancel(self) -> None:
        for child in self.children:
            child.cancel()

    def settle(self) -> Outcome:
        if self.error is None and self.remaining > 0:
            self.waiting = True
            return SUSPEND
        return self._outcome()

    def _outcome(self) -> Outcome:
        flow, state = self.flow, self.state
        flow.join = None
        flow.previous = max(flow.previous, self.latest)
        if self.error is not None:
            raise self.error
        flow.record(self.succeeded_event, passed_by=True)
        result: Any = self.results
        if state.result_selector is not None:
            result = state.result_selector(result, flow)
        return _finish_output(flow, state, state.placement(flow.input, result))


class _ItemScope:
    """The scope of a Map state's ItemSelector: the flow's, plus ``$$.Map.Item``."""

    __slots__ = ("flow", "index", "value")

    def __init__(self, flow: Flow, index: int, value: Any) -> None:
        self.flow = flow
        self.index = index
        self.value = value

    @property
    def random(self) -> random.Random:
        return self.flow.random

    def context_object(self) -> dict[str, Any]:
        context = self.flow.context_object()
        context["Map"] = {"Item": {"Index": self.index, "Value": self.value}}
        return context


class MapJoin(Join):
    """A Map state's iterations, started by index and at most ``limit`` at a time (0: no limit).

    Each iteration's events begin with MapIterationStarted, which follows MapStateStarted, or, once the
    limit holds iterations back, the last event of the iteration whose place it takes (an iteration runs
    where one finished, as on one of ``limit`` workers); MapIterationSucceeded ends it.
    """

    succeeded_event = MAP_SUCCEEDED

    def __init__(
        self, flow: Flow, state: MapState, effective: Any, items: list[Any], *, limit: int, started: int
    ) -> None:
        super().__init__(flow, state, len(items))
        self.map_state = state
        self.effective = effective
        self.items = items
        self.limit = limit
        self.next_index = 0
        self.running = 0
        self.pumping = False
        self.started = started
        self.freed: list[int] = []  # the last events of finished iterations, for the next ones to follow
        prefix = f"{flow.scope}/{state.name}" if flow.scope else state.name
        self.prefix = prefix

    def pump(self) -> None:
        # A loop rather than recursion: an iteration that finishes synchronously returns here, and the
        # next one starts from this frame (10,000 items at MaxConcurrency 1 stay one frame deep).
        if self.pumping:
            return
        self.pumping = True
        try:
            state, flow = self.map_state, self.flow
            while (
                self.error is None
                and self.next_index < len(self.items)
                and (self.limit == 0 or self.running < self.limit)
            ):
                index = self.next_index
                self.next_index += 1
                value = self.items[index]
                if state.item_selector is not None:
                    try:
                        value = state.item_selector(self.effective, _ItemScope(flow, index, value))
                    except ExecutionError as error:
                        self.fail(error)
                        break
                    except Exception as error:
                        # Called from a child's completion too, outside any state's error handling: a
                        # bug below must fail the Map state, not escape (see Flow._loop).
                        self.fail(runtime_error(f"Internal error of the local interpreter: {error!r}"))
                        break
                self.running += 1
                # The first ``limit`` iterations (all, without a limit) begin the Map's concurrent runs.
                starts_a_run = self.limit == 0 or index < self.limit or not self.freed
                previous = self.started if starts_a_run else self.freed.pop(0)
                iteration = flow.execution.record(MAP_ITERATION_STARTED, previous, (state.name, index))
                child = flow.spawn(
                    state.processor,
                    value,
                    f"{self.prefix}/{index}",
                    on_done=partial(self.done, index),
                    on_fail=partial(self.failed, index),
                    previous=iteration,
                )
                self.children.append(child)
                child.start()
        finally:
            self.pumping = False

    def done(self, index: int, output: Any) -> None:
        self.running -= 1
        child = self.children[index]
        self.freed.append(child.previous)
        # An iteration's end is passed by within it, but it is what the Map state continues from.
        child.previous = child.record(MAP_ITERATION_SUCCEEDED, (self.map_state.name, index), passed_by=True)
        super().done(index, output)
        if self.remaining > 0 and self.error is None:
            self.pump()

    def failed(self, index: int, error: ExecutionError) -> None:
        if error.catchable:  # a States.Runtime error fails the execution without these events
            self.children[index].record(MAP_ITERATION_FAILED, (self.map_state.name, index), passed_by=True)
        super().failed(index, error)
