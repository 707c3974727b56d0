"""Audit: the controller's history and the bus tell the same story.

- every state change in a workflow's history names its causing event, and that event was published
  on the bus and delivered to the controller (processed by the controller's queue consumer): no state
  change from nowhere, none from an event the controller never received;
- every event the controller received for a workflow of the run has an entry in that workflow's
  history: no input handled off the record.

"Delivered to the controller" is a delivery to one of ``controller_targets`` (the ledger's names for
the controller's queue) that ended processed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from workflowkit.ledger import Ledger, LedgerEvent, Outcome
from workflowkit.simulator.invariants.base import Statuses, Violation, in_sequence


def check_audit(statuses: Statuses, ledger: Ledger, controller_targets: Collection[str]) -> list[Violation]:
    published = {e.event_id for e in ledger.events.values() if e.event_id}
    received: dict[str, LedgerEvent] = {}  # event id -> one of its deliveries the controller processed
    for event in ledger.events.values():
        if event.event_id and _received(event, controller_targets):
            received.setdefault(event.event_id, event)
    violations = []
    for workflow_id, status in in_sequence(statuses):
        for record in status.get("timeline", []):
            if not _changed(record):
                continue
            event_id, detail_type = record.get("eventId"), record.get("detailType")
            if not event_id or not detail_type:
                why = f"state change without a cause: {record}"
            elif event_id not in published:
                why = f"{detail_type} {event_id} was never published"
            elif event_id not in received:
                why = f"{detail_type} {event_id} changed its state but never reached the controller"
            else:
                continue
            violations.append(Violation("audit", workflow_id, why))
    recorded = {wid: {r.get("eventId") for r in s.get("timeline", [])} for wid, s in statuses.items()}
    for event_id, event in sorted(received.items()):
        workflow_id = event.correlation_id or ""
        if workflow_id in recorded and event_id not in recorded[workflow_id]:
            violations.append(
                Violation(
                    "audit",
                    workflow_id,
                    f"the controller received {event.detail_type} {event_id}; its history lacks it",
                )
            )
    return violations


def _received(event: LedgerEvent, controller_targets: Collection[str]) -> bool:
    return any(
        target in controller_targets and delivery.outcome is Outcome.PROCESSED
        for target, delivery in event.deliveries.items()
    )


def _changed(record: dict[str, Any]) -> bool:
    """The record changed the workflow: a step's status or attempt, or the workflow's status."""
    return (
        bool(record.get("stepChanges"))
        or bool(record.get("attempts"))
        or record.get("statusBefore") != record.get("statusAfter")
    )
