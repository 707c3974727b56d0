"""A self-contained ``Runtime``: a virtual clock, a queue of continuations, a seeded random source.

For tests, benchmarks and running a definition on its own. The local cloud plugs in its own event loop
instead; this one only shows the contract: ``call_later`` queues, ``run`` drains the queue by virtual time
(first scheduled first at equal times) and moves the clock to each continuation's time. Background
continuations (a callback task's timeouts) are drained like the others: answer a waiting task through
``task_tokens`` before ``run``, or use ``run(until=...)`` to stop short of its timeout.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from workflowkit.asl.callbacks import TaskTokens
from workflowkit.asl.errors import RUNTIME, TaskFailed
from workflowkit.asl.runtime import ExecutionContext, ExecutionResult, TaskContext

if TYPE_CHECKING:
    from workflowkit.asl.definition import StateMachineProgram
    from workflowkit.asl.execution import TransitionCallback

TaskRunner = Callable[[str, Any, TaskContext], Any]
EPOCH: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class VirtualRuntime:
    def __init__(self, run_task: TaskRunner | None = None, *, start: datetime = EPOCH, seed: int = 0) -> None:
        self.random = random.Random(seed)
        self.scheduled: list[tuple[datetime, str]] = []  # every call_later, as (due, label)
        self._now = start
        self._queue: list[tuple[datetime, int, str, Callable[[], None]]] = []
        self._seq = 0
        self._run_task = run_task
        self.task_tokens = TaskTokens()

    def now(self) -> datetime:
        return self._now

    def call_later(
        self, seconds: float, label: str, action: Callable[[], None], *, background: bool = False
    ) -> None:
        due = self._now + timedelta(seconds=max(0.0, seconds))
        self._seq += 1
        heapq.heappush(self._queue, (due, self._seq, label, action))
        self.scheduled.append((due, label))

    def run_task(self, resource: str, parameters: Any, task: TaskContext) -> Any:
        if self._run_task is None:
            raise TaskFailed(RUNTIME, f"no task runner for {resource}")
        return self._run_task(resource, parameters, task)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def advance(self, seconds: float) -> None:
        """Move the clock without running anything (e.g. to stop an execution mid-wait)."""
        self._now += timedelta(seconds=seconds)

    def run(self, *, until: datetime | None = None) -> int:
        """Run continuations by time (up to ``until``, if given); returns how many ran."""
        ran = 0
        while self._queue and (until is None or self._queue[0][0] <= until):
            due, _seq, _label, action = heapq.heappop(self._queue)
            self._now = max(self._now, due)
            action()
            ran += 1
        if until is not None:
            self._now = max(self._now, until)
        return ran


def local_context(runtime: VirtualRuntime, name: str = "local", machine: str = "local") -> ExecutionContext:
    """An ExecutionContext with made-up ARNs in account 123456789012, starting now."""
    prefix = "arn:aws:states:us-east-1:123456789012"
    return ExecutionContext(
        execution_arn=f"{prefix}:execution:{machine}:{name}",
        execution_name=name,
        start_time=runtime.now(),
        state_machine_arn=f"{prefix}:stateMachine:{machine}",
        state_machine_name=machine,
        role_arn="arn:aws:iam::123456789012:role/local",
    )


def run_to_completion(
    program: StateMachineProgram,
    execution_input: Any,
    runtime: VirtualRuntime,
    *,
    name: str = "local",
    on_transition: TransitionCallback | None = None,
) -> ExecutionResult:
    """Start an execution and run the runtime's queue until it is idle; the execution's result."""
    results: list[ExecutionResult] = []
    program.start(execution_input, local_context(runtime, name), runtime, results.append, on_transition)
    runtime.run()
    if not results:
        # Nothing is left to run: the execution waits for a task token's answer (runtime.task_tokens).
        raise RuntimeError("the execution did not finish although nothing is left to run")
    return results[0]
