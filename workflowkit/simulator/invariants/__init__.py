"""The kit's invariants, true of every workflow, checked after every run.

- termination (:mod:`.termination`): every workflow ends in a terminal status within its version's
  deadlines, and each step attempt and each undo within its own deadline plus the deadline's lateness;
- audit (:mod:`.audit`): every state change names its causing event, published and delivered to the
  controller; every event the controller received is in the workflow's history;
- nothing lost (:mod:`.nothing_lost`): every event was consumed: no open delivery, no event that no
  rule matched (unless declared an announcement), no dead letter (unless the scenarios expect one).

Each check takes plain data (status documents, a ledger, a :class:`KitDeployment`), so a unit test shows
it fail on the fault it exists for. A workflow adds its own (what its tables must hold at the end)
through its plug-in.
"""

from __future__ import annotations

from workflowkit.ledger import Ledger
from workflowkit.simulator.invariants.audit import check_audit
from workflowkit.simulator.invariants.base import (
    TERMINAL,
    PackedStatuses,
    Status,
    Statuses,
    Violation,
    in_sequence,
)
from workflowkit.simulator.invariants.deployment import KitDeployment, read_deployment
from workflowkit.simulator.invariants.nothing_lost import check_nothing_lost, dead_letter_causes
from workflowkit.simulator.invariants.termination import (
    TERMINATION_SLACK,
    Budget,
    budgets_of,
    check_step_deadlines,
    check_termination,
    termination_budget,
    termination_budgets,
)


def check_kit(
    statuses: Statuses, ledger: Ledger, deployment: KitDeployment, *, dead_letters_expected: bool = False
) -> list[Violation]:
    """Termination (whole and per step), audit, nothing lost."""
    return [
        *check_termination(statuses, budgets_of(deployment.definitions)),
        *check_step_deadlines(statuses, deployment.definitions, lateness=deployment.step_lateness),
        *check_audit(statuses, ledger, deployment.controller_targets),
        *check_nothing_lost(
            ledger,
            announcements=deployment.announcements,
            parking_targets=deployment.parking_targets,
            dead_letters_expected=dead_letters_expected,
        ),
    ]


__all__ = [
    "TERMINAL",
    "TERMINATION_SLACK",
    "Budget",
    "KitDeployment",
    "PackedStatuses",
    "Status",
    "Statuses",
    "Violation",
    "check_audit",
    "check_kit",
    "check_nothing_lost",
    "check_step_deadlines",
    "check_termination",
    "dead_letter_causes",
    "in_sequence",
    "read_deployment",
    "termination_budget",
    "termination_budgets",
]
