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
    # What is kept of the ledger while the documents are read: a run of 100,000 workflows holds a
    # million events, most of them on disk (workflowkit.ledger); only ids and names are kept here.
    published: set[str] = set()
    # event id -> (workflow it names, its detail type), of one delivery the controller processed
    received: dict[str, tuple[str, str]] = {}
    workflows: dict[str, str] = {}  # one string per workflow id, however many events name it
    for event in ledger.events.values():
        if not event.event_id:
            continue
        published.add(event.event_id)
        if event.event_id not in received and _received(event, controller_targets):
            workflow_id = event.correlation_id or ""
            received[event.event_id] = (workflows.setdefault(workflow_id, workflow_id), event.detail_type)
    received_by_workflow: dict[str, list[str]] = {}
    for event_id, (workflow_id, _) in received.items():
        received_by_workflow.setdefault(workflow_id, []).append(event_id)
    violations = []
    unrecorded: list[tuple[str, Violation]] = []
    for workflow_id, status in in_sequence(statuses):
        timeline = status.get("timeline", [])
        for record in timeline:
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
        recorded = {r.get("eventId") for r in timeline}
        for event_id in received_by_workflow.get(workflow_id, ()):
            if event_id not in recorded:
                why = f"the controller received {received[event_id][1]} {event_id}; its history lacks it"
                unrecorded.append((event_id, Violation("audit", workflow_id, why)))
    violations.extend(violation for _, violation in sorted(unrecorded, key=lambda pair: pair[0]))
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
