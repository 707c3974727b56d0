"""A run's result: every workflow's status document, the ledger's figures, the invariants' verdict."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflowkit.simulator.invariants import Statuses, Violation
from workflowkit.simulator.plugin import Ending


@dataclass
class RunResult:
    seed: int
    statuses: Statuses
    scenarios: dict[str, str]  # workflow id -> scenario ("" for workflows started by `send`)
    figures: dict[str, int]
    violations: list[Violation]
    trace_sha256: str
    # From the start of the process that ran the simulation (its interpreter start-up, imports and the
    # cloud's start-up included) to the result; for a second run in one process, from its request.
    wall_seconds: float
    virtual_seconds: float
    handler_seconds: float  # real time in the handlers' own code, their AWS calls excluded
    timelines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # workflow id -> its state machine executions, event by event, when asked (simulator.executions)
    executions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Wall time summed over the processes that ran (one per shard): the overhead ratio's numerator.
    process_seconds: float = 0.0
    # Real time the local cloud spent answering the handlers' AWS calls (moto's included).
    emulator_seconds: float = 0.0
    startup_seconds: float = 0.0  # of wall_seconds: before the first workflow arrived
    run_seconds: float = 0.0  # of wall_seconds: from the first arrival to quiescence
    workers: int = 1
    denials: list[str] = field(default_factory=list)  # what was refused, distinct, with counts
    expected: dict[str, str] = field(default_factory=dict)  # scenario -> the status it must end in
    # scenario -> the steps it must have undone, in the sequence undone (``compensatedSteps``)
    expected_compensations: dict[str, list[str]] = field(default_factory=dict)
    dead_letters: list[str] = field(default_factory=list)  # dead-lettered or parked, by cause, with counts
    dead_letters_expected: bool = False  # a scenario of the run dead-letters on purpose
    # scenario -> the other endings it may have, which the plug-in's invariants check were earned
    # (``WorkflowPlugin.other_endings``)
    other_endings: dict[str, list[Ending]] = field(default_factory=dict)
    # Under a fault profile (workflowkit.simulator.faulted): the profile, what each fault injected, the
    # outcome (status, undone steps, which fault) the outcome faults expect of the workflows they hit,
    # and the shortest trace of every workflow a violation or a mismatch names.
    fault_profile: str = ""
    faults: dict[str, int] = field(default_factory=dict)
    fault_expectations: dict[str, tuple[str, list[str], str]] = field(default_factory=dict)
    traces: dict[str, list[str]] = field(default_factory=dict)
    trace_violations: dict[str, list[str]] = field(default_factory=dict)  # traced workflow -> its violations

    @property
    def healthy(self) -> bool:
        """No broken invariant, nothing lost or dead-lettered (unless expected), nothing refused by the
        template's permissions, every workflow ended as its scenario says."""
        return (
            not self.violations
            and not self._mismatches()
            and self.figures.get("unaccounted_events", 0) == 0
            and (self.dead_letters_expected or not self.dead_letters)
            and self.figures.get("access_denials", 0) == 0
            and self.figures.get("alarm_actions_failed", 0) == 0
        )

    @property
    def workflows(self) -> int:
        return len(self.statuses)

    def by_status(self) -> dict[str, int]:
        return dict(sorted(Counter(s["status"] for s in self.statuses.values()).items()))

    def mismatches(self) -> list[str]:
        """Workflows that did not end as their scenario says (or, for one an outcome fault hit, as that
        fault says): its status, and the steps it undid. An other ending the scenario declares (its status,
        steps undone and reason) is as good as the expected one."""
        return [line for _, line in self._mismatches()]

    def mismatched_workflows(self) -> list[str]:
        return [workflow_id for workflow_id, _ in self._mismatches()]

    def _mismatches(self) -> list[tuple[str, str]]:
        wrong = []
        for workflow_id, planned in sorted(self.scenarios.items()):
            if not planned:
                continue
            expected = self.expected[planned]
            to_undo: list[str] | None = self.expected_compensations.get(planned)
            scenario = planned
            faulted = self.fault_expectations.get(workflow_id)
            if faulted is not None:
                expected, to_undo, because = faulted
                scenario = f"{planned}, {because}"
            status = self.statuses.get(workflow_id, {})
            actual = status.get("status", "MISSING")
            # Earned whatever else hit it (the plug-in's invariants check it was): an instance that lost a
            # contention ends so whichever fault also hit a step it no longer needed.
            if self._other_ending(planned, status):
                continue
            if actual != expected:
                wrong.append((workflow_id, f"{workflow_id} ({scenario}): {actual}, expected {expected}"))
                continue
            undone = list(status.get("compensatedSteps", []))
            if to_undo is not None and undone != list(to_undo):
                wrong.append(
                    (
                        workflow_id,
                        f"{workflow_id} ({scenario}): compensated {_steps(undone)}, "
                        f"expected {_steps(to_undo)}",
                    )
                )
        return wrong

    def _other_ending(self, scenario: str, status: dict[str, Any]) -> bool:
        return any(ending.matches(status) for ending in self.other_endings.get(scenario, []))

    def latencies(self) -> list[float]:
        return sorted(
            (datetime.fromisoformat(s["updatedAt"]) - datetime.fromisoformat(s["createdAt"])).total_seconds()
            for s in self.statuses.values()
        )

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies()
        compensations = sum(len(s.get("compensatedSteps", [])) for s in self.statuses.values())
        faulted: dict[str, Any] = {}
        if self.fault_profile:
            faulted = {
                "fault_profile": self.fault_profile,
                "faults_injected": dict(sorted(self.faults.items())),
                "outcome_faults_hit": len(self.fault_expectations),
            }
        return {
            **faulted,
            "workflows": self.workflows,
            "by_status": self.by_status(),
            "scenario_mismatches": len(self.mismatches()),
            "compensations": compensations,
            "escalations": self.by_status().get("NEEDS_ATTENTION", 0),
            "latency_p50_seconds": _percentile(latencies, 50),
            "latency_p99_seconds": _percentile(latencies, 99),
            **self.figures,
            "invariant_violations": len(self.violations),
            "trace_sha256": self.trace_sha256,
            "wall_seconds": round(self.wall_seconds, 3),
            "virtual_seconds": round(self.virtual_seconds, 3),
            "workflows_per_second": round(self.workflows / self.wall_seconds, 1)
            if self.wall_seconds
            else 0.0,
            "startup_seconds": round(self.startup_seconds, 3),
            "run_seconds": round(self.run_seconds, 3),
            "handler_seconds": round(self.handler_seconds, 3),
            "emulator_seconds": round(self.emulator_seconds, 3),
            "overhead_ratio": round(self.overhead_ratio, 2) if self.handler_seconds else None,
            "workers": self.workers,
        }

    @property
    def overhead_ratio(self) -> float:
        """Time the processes ran (start-up included) / time in the handlers' own code (their AWS calls
        excluded): 1.0 would be the handlers' code and nothing else, no emulator, no start-up."""
        busy = self.process_seconds or self.wall_seconds
        return busy / self.handler_seconds if self.handler_seconds else float("inf")


def _steps(names: list[str]) -> str:
    return "[" + ", ".join(names) + "]"


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(percent / 100 * len(values)) - 1))
    return round(values[index], 3)


def workflow_details(result: RunResult) -> dict[str, Any]:
    return {
        workflow_id: {
            "status": status["status"],
            "version": status.get("definitionVersion"),
            "steps": {name: step["status"] for name, step in status["steps"].items()},
            "compensations": status.get("compensatedSteps", []),
            "reason": status.get("reason"),
        }
        for workflow_id, status in sorted(result.statuses.items())
    }
