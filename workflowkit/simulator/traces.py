"""The shortest trace that shows what happened to one workflow: its own events, in sequence, and the faults
that hit it, nothing of the thousands of others.

A line per event the workflow's correlation id carries (when it was published, by whom, where it went
and how each delivery ended, the state changes the controller made of it) and a line per fault injected
into one of its hops, merged by virtual time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from workflowkit.chaos import Injection
from workflowkit.ledger import Ledger
from workflowkit.simulator.invariants import Statuses, Violation
from workflowkit.simulator.report import TimelineRow

# How many workflows a run traces at most (a run with many violations shows the first ones).
TRACED_WORKFLOWS = 20


def workflow_trace(
    rows: Iterable[TimelineRow], injections: Iterable[Injection], *, start: datetime
) -> list[str]:
    """The lines of one workflow's trace, by virtual time (offsets from the run's start)."""
    entries: list[tuple[datetime, int, str]] = []
    for row in rows:
        handled = ", ".join(row.handled_by) or "no subscriber"
        changes = [f"{step}: {change}" for step, change in row.state_changes.items()]
        if row.status_change:
            changes.insert(0, f"workflow: {row.status_change}")
        text = f"{row.detail_type} from {row.source} -> {handled}"
        if changes:
            text += f" [{'; '.join(changes)}]"
        entries.append((row.at, 0, text))
    for injection in injections:
        entries.append((injection.at, 1, f"FAULT {injection.describe()}"))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [f"+{(at - start).total_seconds():>12.3f}s  {text}" for at, _, text in entries]


def violations_by_workflow(
    violations: Iterable[Violation], statuses: Statuses, ledger: Ledger
) -> dict[str, list[Violation]]:
    """The violations that name each workflow, workflows as their first one is reported.

    A violation's subject is a workflow id, or an event (``<detail-type> <event id>``, whose correlation
    id names its workflow); one about an item workflows share names none.
    """
    if not violations:
        return {}  # the map of every event below is the size of the run's ledger: only when needed
    by_event = {
        event.event_id: event.correlation_id
        for event in ledger.events.values()
        if event.event_id and event.correlation_id
    }
    found: dict[str, list[Violation]] = {}
    for violation in violations:
        workflow = _workflow_of(violation.subject, statuses, by_event)
        if workflow is not None:
            found.setdefault(workflow, []).append(violation)
    return found


def traced_workflows(named: Iterable[str], mismatched: Iterable[str]) -> list[str]:
    """The workflows to trace: those violations name, then those that did not end as expected."""
    found: list[str] = []
    for workflow in [*named, *mismatched]:
        if workflow not in found:
            found.append(workflow)
    return found[:TRACED_WORKFLOWS]


def _workflow_of(subject: str, statuses: Statuses, by_event: dict[str, Any]) -> str | None:
    if subject in statuses:
        return subject
    for word in subject.split():
        if word in statuses:
            return word
        correlation = by_event.get(word)
        if correlation is not None:
            return str(correlation)
    return None
