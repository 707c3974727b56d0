"""Reading a run back: one workflow's timeline, and the run's figures.

A timeline row is one event of the workflow: when it was published, who published it, which services
received it and how each delivery ended, and — for events the controller handled — the state changes
it caused. Names are the services' own (``POWERTOOLS_SERVICE_NAME`` of the consuming function), not
CloudFormation's generated ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflowkit.cloud import LocalCloud
from workflowkit.ledger import Ledger, LedgerEvent, Outcome
from workflowkit.simulator.declarations import app_registry
from workflowkit.simulator.invariants.nothing_lost import dead_letter_causes

PREFIX = "workflowkit"  # the first part of every name the kit chooses (infra.constructs.naming.PREFIX)


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    detail_type: str
    source: str
    handled_by: list[str]
    state_changes: dict[str, str] = field(default_factory=dict)
    status_change: str | None = None
    notes: list[str] = field(default_factory=list)


class ServiceNames:
    """Readable names for the local cloud's targets: queue -> its consumer's service, state machine ->
    "<workflow> <machine> flow" (``registry``: the app's, read from the cloud when not given)."""

    def __init__(self, cloud: LocalCloud, registry: Any = None) -> None:
        assert cloud.app is not None
        functions = {f.name: f for f in cloud.app.functions}
        self._by_queue: dict[str, str] = {}
        for mapping in cloud.app.mappings:
            function = functions.get(mapping.function_name)
            service = function.environment.get("POWERTOOLS_SERVICE_NAME") if function else None
            self._by_queue[mapping.queue_arn.split(":")[-1]] = service or mapping.function_name
        registry = registry if registry is not None else app_registry(cloud)
        self._machines = sorted(
            {(d.name, machine) for d in registry.definitions for machine in d.state_machines()}
        )

    def flow_of(self, state_machine: str) -> str:
        """A state machine's readable name, from its name."""
        return self.of(f"statemachine:{state_machine}")

    def of(self, target: str) -> str:
        kind, _, name = target.partition(":")
        if kind == "queue":
            return self._by_queue.get(name, f"queue {name}")
        if kind == "statemachine":
            return flow_name(name, self._machines)
        return target


def flow_name(state_machine: str, machines: Iterable[tuple[str, str]]) -> str:
    """``workflowkit-<stage>-<workflow>-<machine>`` (infra/constructs/naming.py) -> "<workflow> <machine>
    flow", for the (workflow, machine) pairs the app declares; any other state machine keeps its name.

    The stage, the workflow and the machine may each hold a "-": the declared pairs say where the
    workflow's name starts (the longest that fits, should two fit).
    """
    fitting = [
        (workflow, machine)
        for workflow, machine in machines
        if state_machine.startswith(f"{PREFIX}-") and state_machine.endswith(f"-{workflow}-{machine}")
    ]
    if not fitting:
        return state_machine
    workflow, machine = max(fitting, key=lambda pair: (len(pair[0]) + len(pair[1]), pair))
    return f"{workflow} {machine} flow"


def workflow_timeline(
    cloud: LocalCloud,
    status: dict[str, Any] | None,
    workflow_id: str,
    *,
    events: list[LedgerEvent] | None = None,
    names: ServiceNames | None = None,
) -> list[TimelineRow]:
    """The workflow's rows; pass ``events`` (from ``ledger.by_correlation()``) when building many."""
    names = names or ServiceNames(cloud)
    history = {entry["eventId"]: entry for entry in (status or {}).get("timeline", [])}
    rows = []
    found = events if events is not None else cloud.ledger.for_correlation(workflow_id)
    for event in sorted(found, key=lambda e: e.published_at):
        record = history.get(event.event_id or "", {})
        before, after = record.get("statusBefore"), record.get("statusAfter")
        rows.append(
            TimelineRow(
                at=event.published_at,
                detail_type=event.detail_type,
                source=event.source,
                handled_by=[_delivery(names, target, d.outcome) for target, d in event.deliveries.items()],
                state_changes=record.get("stepChanges", {}),
                status_change=f"{before or 'NEW'} -> {after}" if after and before != after else None,
                notes=record.get("notes", []),
            )
        )
    return rows


def _delivery(names: ServiceNames, target: str, outcome: Outcome) -> str:
    name = names.of(target)
    return name if outcome is Outcome.PROCESSED else f"{name} ({outcome.value})"


def format_timeline(rows: list[TimelineRow], *, start: datetime) -> str:
    lines = []
    for row in rows:
        offset = _offset(row.at - start)
        handled = ", ".join(row.handled_by) or "no subscriber"
        lines.append(f"  {offset:>13}  {row.detail_type:<30} {row.source:<22} -> {handled}")
        changes = [f"{step}: {change}" for step, change in row.state_changes.items()]
        if row.status_change:
            changes.insert(0, f"workflow: {row.status_change}")
        if changes:
            lines.append(f"  {'':>13}  {'':<30} {'':<22}    {'; '.join(changes)}")
        for note in row.notes:
            lines.append(f"  {'':>13}  {'':<30} {'':<22}    note: {note}")
    return "\n".join(lines)


def _offset(delta: timedelta) -> str:
    total = delta.total_seconds()
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    prefix = f"{int(days)}d " if days else ""
    return f"+{prefix}{int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"


def ledger_figures(cloud: LocalCloud) -> dict[str, int]:
    counters = cloud.ledger.counters
    return {
        "events_published": counters["published"],
        "events_delivered": counters["delivered"],
        "dead_lettered": counters["dead_lettered"],
        "dropped": counters["dropped"],
        "unaccounted_events": len(cloud.ledger.unaccounted()),
        # Permissions (docs/decisions/0021): refusals anywhere, and alarms whose notification was refused.
        "access_checks": cloud.access.checks,
        "access_denials": len(cloud.access.denials),
        "alarm_actions_failed": len(cloud.alarms.failed_actions),
    }


def denial_summary(cloud: LocalCloud, *, limit: int = 20) -> list[str]:
    """The distinct refusals of a run, most frequent first, with their counts."""
    counts = Counter(d.describe() for d in cloud.access.denials)  # (refused alarm actions among them)
    return [f"{count} x {text}" for text, count in counts.most_common(limit)]


def dead_letter_summary(ledger: Ledger, parking_targets: Iterable[str] = (), *, limit: int = 20) -> list[str]:
    """The run's dead letters (and parked events) by cause, most frequent first, with their counts."""
    parked = set(parking_targets)
    counts = Counter(
        f"{event.detail_type}: {cause}"
        for event in ledger.events.values()
        for cause in dead_letter_causes(event, parked)
    )
    return [f"{count} x {text}" for text, count in counts.most_common(limit)]


def unaccounted_summary(events: list[LedgerEvent]) -> list[str]:
    return [
        f"{e.detail_type} {e.event_id} ({e.correlation_id}): "
        + ", ".join(f"{t}={d.outcome.value}" for t, d in e.deliveries.items())
        for e in events
    ]
