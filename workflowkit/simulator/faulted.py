"""A simulation under a fault profile: the faults in the cloud, whom the outcome-changing ones hit, and
the outcome each of those must then have.

Transient faults (duplicates, delays, lost attempts, crashes, timeouts, throttling, conflicts, races)
must change no outcome: every workflow still ends as its scenario says. ``never_answers`` and
``compensation_fails`` do change it, and the simulator expects exactly what they cause of the
workflows they hit, from the declaration (:mod:`workflowkit.chaos.outcomes`).

Workflows the driver acts on after submitting them (a person's decision, scheduled then) are never hit:
a decision the driver takes on its own schedule would meet a workflow that a fault already ended, and
the plug-in's own invariants would rightly refuse it. Which workflows a draw picks depends on the run's
seed and the workflow's id only.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from workflowkit.chaos import ChaosFaults, FaultProfile, Injection
from workflowkit.chaos.outcomes import (
    COMPENSATED,
    COMPLETED,
    Expected,
    expected_outcome,
    step_silence,
    undo_silence,
)
from workflowkit.cloud import LocalCloud
from workflowkit.loop import EventLoop
from workflowkit.simulator.invariants import Statuses
from workflowkit.simulator.plugin import WorkflowPlugin

_RUNNERS = ("choreographed", "orchestrated")  # a human step has no runner to silence
_KIT = "workflowkit"


class FaultedRun:
    """The faults of one local cloud's run, and what they expect of the workflows they hit."""

    def __init__(
        self,
        cloud: LocalCloud,
        profile: FaultProfile,
        *,
        seed: int,
        plugin: WorkflowPlugin[Any],
    ) -> None:
        self.faults = ChaosFaults(profile, seed=seed)
        self.faults.attach(cloud)
        cloud.faults = self.faults
        self._cloud = cloud
        self._seed = seed
        self._plugin = plugin
        self._profile = profile
        self._declaration = plugin.declaration()  # the newest version: new instances start on it
        self._planned: dict[str, tuple[str, ...]] = {}  # victim -> its scenario's undos, in sequence

    # --- while the run goes ------------------------------------------------------------------------------
    def submitter(self, submit: Callable[[], None], workflow_id: str, scenario: str) -> Callable[[], None]:
        """``submit`` (the driver starting ``workflow_id``), then the outcome faults' draw for it."""

        def submit_and_draw() -> None:
            with _driver_follow_ups(self._cloud.loop) as follow_ups:
                submit()
            if not follow_ups:
                self._draw_outcome_faults(workflow_id, scenario)

        return submit_and_draw

    def _draw_outcome_faults(self, workflow_id: str, scenario_name: str) -> None:
        scenario = self._plugin.scenarios[scenario_name]
        definition = self._declaration
        if scenario.expected_status == COMPLETED and not scenario.expected_compensations:
            steps = [s for s in definition.steps if str(s.pattern) in _RUNNERS]
            if steps and self._chosen("never_answers", workflow_id):
                step = steps[self._pick("never_answers", workflow_id, len(steps))]
                self.faults.silence(step_silence(definition, step, workflow_id))
        elif scenario.expected_status == COMPENSATED and scenario.expected_compensations:
            undone = list(scenario.expected_compensations)
            if self._chosen("compensation_fails", workflow_id):
                step = definition.step(undone[self._pick("compensation_fails", workflow_id, len(undone))])
                self._planned[workflow_id] = tuple(undone)
                self.faults.silence(undo_silence(definition, step, workflow_id))

    def _chosen(self, fault: str, workflow_id: str) -> bool:
        rate = self._profile.rate(fault)
        return rate > 0 and _keyed(self._seed, fault, workflow_id) < rate

    def _pick(self, fault: str, workflow_id: str, choices: int) -> int:
        return min(choices - 1, int(_keyed(self._seed, f"{fault}/which", workflow_id) * choices))

    # --- after the run -----------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return self.faults.counts()

    def injections(self, workflow_id: str) -> list[Injection]:
        return self.faults.log.for_workflow(workflow_id)

    def expectations(self, statuses: Statuses) -> dict[str, Expected]:
        """The outcome each workflow an outcome fault hit must have (from its declaration)."""
        expected = {}
        for workflow_id, silence in sorted(self.faults.silenced_hits.items()):
            status = statuses.get(workflow_id)
            if status is not None:
                planned = self._planned.get(workflow_id, ())
                expected[workflow_id] = expected_outcome(silence, status, self._declaration, planned)
        return expected


def _keyed(seed: int, fault: str, workflow_id: str) -> float:
    """A uniform draw in [0, 1) fixed by the seed, the fault and the workflow alone (not by the run's
    sequence of events), so the same workflows are hit whatever else runs beside them."""
    digest = hashlib.blake2b(f"{seed}/{fault}/{workflow_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


@contextlib.contextmanager
def _driver_follow_ups(loop: EventLoop) -> Iterator[list[str]]:
    """The labels of the loop tasks the driver's own code schedules while this block runs (its later
    actions on the workflow, such as a decision); the local cloud's own tasks are not counted."""
    scheduled: list[str] = []
    original = loop.call_at

    def call_at(due: Any, label: str, action: Callable[[], None], *, background: bool = False) -> Any:
        # The first caller outside the loop module (call_later calls call_at) is who asked.
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") == EventLoop.__module__:
            frame = frame.f_back
        module = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
        if module != _KIT and not module.startswith(f"{_KIT}."):
            scheduled.append(label)
        return original(due, label, action, background=background)

    loop.call_at = call_at  # type: ignore[method-assign]  # for this block only
    try:
        yield scheduled
    finally:
        del loop.call_at
