"""The kit's invariants, true of every workflow, checked after every run.

- termination: every workflow is in a terminal status, reached within its deadlines plus its
  compensation budget: those of the version it runs (``definitionVersion``, docs/decisions/0024);
- audit: every state change in a workflow's history names its causing event, and that event was
  published on the bus;
- nothing lost: every published event was processed or dead-lettered.

A workflow adds its own (e.g. what its tables must hold at the end) through its plug-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from workflowkit.ledger import Ledger

Status = dict[str, Any]  # a status document, as the status API returns it
Statuses = dict[str, Status]  # workflow id -> status document
# An instance's termination budget: one for all, or each instance's from its declaration (None: its
# workflow or version is not deployed).
Budget = timedelta | Callable[[Status], timedelta | None]

TERMINAL = {"COMPLETED", "COMPENSATED", "FAILED", "NEEDS_ATTENTION"}
# Virtual-time slack on top of the declared deadlines: delivery latency, batching windows, retries.
TERMINATION_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Violation:
    invariant: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.subject}: {self.detail}"


def check_kit(statuses: Statuses, ledger: Ledger, *, budget: Budget) -> list[Violation]:
    """Termination, audit, nothing lost."""
    return [
        *check_termination(statuses, budget),
        *check_audit(statuses, ledger),
        *check_nothing_lost(ledger),
    ]


def termination_budget(definition: Any) -> timedelta:
    """The longest a workflow may take: every step's deadline plus every compensation's, plus slack."""
    steps = sum((step.deadline for step in definition.steps), timedelta())
    undo = sum((step.compensation.deadline for step in definition.steps if step.compensation), timedelta())
    return steps + undo + TERMINATION_SLACK


def termination_budgets(registry: Any) -> Callable[[Status], timedelta | None]:
    """Each instance's budget from the declaration it runs: its ``workflowType`` at its
    ``definitionVersion`` in ``registry`` (the app's ``workflow_core.registry.Registry``), not the
    newest version's; None when that version is not deployed."""
    budgets = {definition.key: termination_budget(definition) for definition in registry.definitions}

    def budget(status: Status) -> timedelta | None:
        return budgets.get((status.get("workflowType"), int(status.get("definitionVersion") or 1)))

    return budget


def check_termination(statuses: Statuses, budget: Budget) -> list[Violation]:
    violations = []
    for workflow_id, status in sorted(statuses.items()):
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
        took = _parse(status["updatedAt"]) - _parse(status["createdAt"])
        if took > allowed:
            violations.append(Violation("termination", workflow_id, f"took {took}, budget {allowed}"))
    return violations


def check_audit(statuses: Statuses, ledger: Ledger) -> list[Violation]:
    published = {e.event_id for e in ledger.events.values() if e.event_id}
    violations = []
    for workflow_id, status in sorted(statuses.items()):
        for record in status["timeline"]:
            changed = record.get("stepChanges") or record.get("statusBefore") != record.get("statusAfter")
            if not changed:
                continue
            if not record.get("eventId") or not record.get("detailType"):
                violations.append(Violation("audit", workflow_id, f"state change without a cause: {record}"))
            elif record["eventId"] not in published:
                violations.append(
                    Violation(
                        "audit",
                        workflow_id,
                        f"{record['detailType']} {record['eventId']} was never published",
                    )
                )
    return violations


def check_nothing_lost(ledger: Ledger) -> list[Violation]:
    return [
        Violation(
            "nothing lost",
            f"{e.detail_type} {e.event_id}",
            ", ".join(f"{t}: {d.outcome.value}" for t, d in e.deliveries.items()),
        )
        for e in ledger.unaccounted()
    ]


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
