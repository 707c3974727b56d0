"""Termination: every workflow ends, each step and each undo within its own deadline, the whole within all.

- whole: a terminal status, reached within every step's deadline plus every undo's, plus slack, of the
  version the instance runs (``definitionVersion``, docs/decisions/0024);
- per step, from the history (the audit trail): each attempt of a step ends (completed, failed, timed
  out, given up) within its declared deadline plus the deadline's lateness; each undo attempt ends
  within its compensation's deadline plus that lateness. The lateness is what AWS allows a deadline to
  be late by (Scheduler's precision and flexible window) plus what the controller's queue may make its
  input wait (:class:`~workflowkit.simulator.invariants.deployment.KitDeployment`). A step whose
  callback escalates at its deadline (``on_deadline="escalate"``) waits for a person past it by design:
  only its undo is bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from workflowkit.simulator.invariants.base import (
    TERMINAL,
    Status,
    Statuses,
    Violation,
    in_sequence,
    parse_time,
)

# An instance's termination budget: one for all, or each instance's from its declaration (None: its
# workflow or version is not deployed).
Budget = timedelta | Callable[[Status], timedelta | None]
# Virtual-time slack on top of the declared deadlines: delivery latency, batching windows, retries.
TERMINATION_SLACK = timedelta(minutes=10)

RUNNING = "RUNNING"
UNDOING = "COMPENSATING"


def termination_budget(definition: Any) -> timedelta:
    """The longest a workflow may take: every step's deadline plus every compensation's, plus slack."""
    steps = sum((step.deadline for step in definition.steps), timedelta())
    undo = sum((step.compensation.deadline for step in definition.steps if step.compensation), timedelta())
    return steps + undo + TERMINATION_SLACK


def termination_budgets(registry: Any) -> Callable[[Status], timedelta | None]:
    """Each instance's budget from the declaration it runs: its ``workflowType`` at its
    ``definitionVersion`` in ``registry`` (the app's ``workflow_core.registry.Registry``), not the
    newest version's; None when that version is not deployed."""
    return budgets_of({definition.key: definition for definition in registry.definitions})


def budgets_of(definitions: Mapping[tuple[str, int], Any]) -> Callable[[Status], timedelta | None]:
    budgets = {key: termination_budget(definition) for key, definition in definitions.items()}

    def budget(status: Status) -> timedelta | None:
        return budgets.get(_key(status))

    return budget


def check_termination(statuses: Statuses, budget: Budget) -> list[Violation]:
    violations = []
    for workflow_id, status in in_sequence(statuses):
        if status["status"] not in TERMINAL:
            violations.append(Violation("termination", workflow_id, f"ended the run {status['status']}"))
            continue
        allowed = budget if isinstance(budget, timedelta) else budget(status)
        if allowed is None:
            declared = f"{status.get('workflowType')!r} v{status.get('definitionVersion')}"
            violations.append(
                Violation("termination", workflow_id, f"runs {declared}, which is not deployed")
            )
            continue
        took = parse_time(status["updatedAt"]) - parse_time(status["createdAt"])
        if took > allowed:
            violations.append(Violation("termination", workflow_id, f"took {took}, budget {allowed}"))
    return violations


def check_step_deadlines(
    statuses: Statuses, definitions: Mapping[tuple[str, int], Any], *, lateness: timedelta
) -> list[Violation]:
    """Each step attempt and each undo attempt ended within its declared deadline plus ``lateness``."""
    violations = []
    for workflow_id, status in in_sequence(statuses):
        definition = definitions.get(_key(status))
        if definition is None:
            continue  # check_termination reports a version that is not deployed
        for step, phase, took, allowed in _spans(status, definition, lateness):
            if took > allowed:
                violations.append(
                    Violation("termination", workflow_id, f"{step} {phase} took {took}, allowed {allowed}")
                )
    return violations


def _spans(
    status: Status, definition: Any, lateness: timedelta
) -> list[tuple[str, str, timedelta, timedelta]]:
    """(step, "step" | "undo", how long an attempt took, what it was allowed) for every ended attempt,
    read from the history: an attempt starts where a record moves the step to RUNNING (or COMPENSATING)
    or starts a new attempt of it (``attempts``), and ends where a record moves it on."""
    steps = {step.name: step for step in definition.steps}
    since: dict[tuple[str, str], datetime] = {}
    spans = []
    for record in status.get("timeline", []):
        at = parse_time(record["receivedAt"]) if record.get("receivedAt") else None
        if at is None:
            continue
        for name, change in (record.get("stepChanges") or {}).items():
            before, _, after = change.partition("->")
            for phase, state in (("step", RUNNING), ("undo", UNDOING)):
                if before == state and (name, phase) in since:
                    allowed = _allowed(steps.get(name), phase, lateness)
                    took = at - since.pop((name, phase))
                    if allowed is not None:
                        spans.append((name, phase, took, allowed))
                if after == state:
                    since[(name, phase)] = at
        for name, counters in (record.get("attempts") or {}).items():
            # A new attempt of a step or undo that stays RUNNING / COMPENSATING: its clock starts again.
            for phase in counters:
                if (name, phase) in since:
                    since[(name, phase)] = at
    return spans


def _allowed(step: Any, phase: str, lateness: timedelta) -> timedelta | None:
    if step is None:
        return None
    deadline: timedelta
    if phase == "undo":
        if step.compensation is None:
            return None
        deadline = step.compensation.deadline
    elif step.callback is not None and step.callback.on_deadline == "escalate":
        return None  # escalated at its deadline, then waits for a person as long as it takes
    else:
        deadline = step.deadline
    return deadline + lateness


def _key(status: Status) -> tuple[Any, int]:
    return (status.get("workflowType"), int(status.get("definitionVersion") or 1))
