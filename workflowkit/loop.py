"""The local cloud's discrete-event loop: tasks due at virtual times, run in a deterministic order.

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


@dataclass(order=True)
class _Task:
    due: datetime
    tie: float
    seq: int
    label: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class EventLoop:
    def __init__(self, clock: VirtualClock, *, seed: int) -> None:
        self.clock = clock
        self._random = random.Random(seed)
        self._queue: list[_Task] = []
        self._seq = 0
        self.tasks_run = 0

    @property
    def random(self) -> random.Random:
        return self._random

    def call_at(self, due: datetime, label: str, action: Callable[[], None]) -> _Task:
        self._seq += 1
        task = _Task(max(due, self.clock.now()), self._random.random(), self._seq, label, action)
        heapq.heappush(self._queue, task)
        return task

    def call_later(self, delay: timedelta, label: str, action: Callable[[], None]) -> _Task:
        return self.call_at(self.clock.now() + delay, label, action)

    def pending(self) -> int:
        return sum(1 for t in self._queue if not t.cancelled)

    def next_due(self) -> datetime | None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0].due if self._queue else None

    def run_until(self, moment: datetime) -> None:
        """Run every task due up to ``moment``, then move the clock to ``moment``."""
        while (due := self.next_due()) is not None and due <= moment:
            task = heapq.heappop(self._queue)
            self.clock.advance_to(task.due)
            self.tasks_run += 1
            task.action()
        self.clock.advance_to(moment)

    def run_until_quiescent(self, *, budget: timedelta = timedelta(days=30)) -> None:
        """Run every task, advancing virtual time to each one's due time, until nothing is left."""
        limit = self.clock.now() + budget
        while True:
            due = self.next_due()
            if due is None:
                return
            if due > limit:
                raise QuiescenceTimeoutError(f"tasks still due after {budget} of virtual time")
            task = heapq.heappop(self._queue)
            self.clock.advance_to(task.due)
            self.tasks_run += 1
            task.action()
