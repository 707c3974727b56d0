"""The local cloud's discrete-event loop: tasks due at virtual times, run in a deterministic sequence.

Ties at one virtual time are broken by a seeded random key, so one seed gives one interleaving and
another seed a different, equally valid one.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflowkit.clock import VirtualClock


class QuiescenceTimeoutError(RuntimeError):
    """The system did not settle within the virtual time budget."""


@dataclass
class Task:
    due: datetime
    tie: float
    seq: int
    label: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)
    # Periodic work (a scheduled rule's next firing) runs while other work remains, but does not by
    # itself keep the loop busy: otherwise a rate(5 minutes) rule would never let a run end.
    background: bool = field(default=False, compare=False)

    def __lt__(self, other: Task) -> bool:
        # What the heap sorts by: due time, then the seeded tie-break, then scheduling sequence.
        return (self.due, self.tie, self.seq) < (other.due, other.tie, other.seq)


class EventLoop:
    def __init__(self, clock: VirtualClock, *, seed: int) -> None:
        self.clock = clock
        self._random = random.Random(seed)
        self._queue: list[Task] = []
        self._seq = 0
        self._foreground = 0  # live tasks that are not background
        self.tasks_run = 0

    @property
    def random(self) -> random.Random:
        return self._random

    def call_at(
        self, due: datetime, label: str, action: Callable[[], None], *, background: bool = False
    ) -> Task:
        self._seq += 1
        task = Task(max(due, self.clock.now()), self._random.random(), self._seq, label, action)
        task.background = background
        self._foreground += not background
        heapq.heappush(self._queue, task)
        return task

    def call_later(
        self, delay: timedelta, label: str, action: Callable[[], None], *, background: bool = False
    ) -> Task:
        return self.call_at(self.clock.now() + delay, label, action, background=background)

    def cancel(self, task: Task) -> None:
        if not task.cancelled:
            task.cancelled = True
            self._foreground -= not task.background

    def pending(self) -> int:
        """Live foreground tasks: what keeps the system from being quiescent."""
        return self._foreground

    def next_due(self) -> datetime | None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0].due if self._queue else None

    def _run_next(self) -> None:
        task = heapq.heappop(self._queue)
        self._foreground -= not task.background
        task.cancelled = True  # done: a later cancel() must not count it again
        self.clock.advance_to(task.due)
        self.tasks_run += 1
        task.action()

    def run_until(self, moment: datetime) -> None:
        """Run every task due up to ``moment``, then move the clock to ``moment``."""
        while (due := self.next_due()) is not None and due <= moment:
            self._run_next()
        self.clock.advance_to(moment)

    def run_until_quiescent(self, *, budget: timedelta = timedelta(days=30)) -> None:
        """Run tasks by virtual time until only background work is left."""
        limit = self.clock.now() + budget
        while self._foreground > 0:
            due = self.next_due()
            if due is None:
                return
            if due > limit:
                raise QuiescenceTimeoutError(f"tasks still due after {budget} of virtual time")
            self._run_next()
