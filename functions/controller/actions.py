"""What the controller does after deciding: the effects of one event, recorded before they run.

Actions are stored with the history item of the event that caused them (a transactional outbox), so a
Lambda that dies after committing the decision re-runs exactly these effects on redelivery. Every
action is idempotent: events carry deterministic ids, executions and schedules deterministic names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

# Execution names are shared with the front door, which answers a step's task token: defined in
# workflow_core, re-exported here for the decider.
from workflow_core.executions import execution_name, safe_name
from workflow_core.publisher import OutgoingEvent

__all__ = [
    "Action",
    "CancelDeadline",
    "Escalate",
    "PublishEvent",
    "ScheduleDeadline",
    "StartStateMachine",
    "StopStateMachine",
    "action_from_dict",
    "action_to_dict",
    "execution_name",
    "iso_seconds",
    "schedule_name",
]


@dataclass(frozen=True)
class PublishEvent:
    detail_type: str
    source: str
    detail: dict[str, Any]
    kind: Literal["publish"] = "publish"

    @classmethod
    def of(cls, event: OutgoingEvent) -> PublishEvent:
        return cls(detail_type=event.detail_type, source=event.source, detail=event.detail())


@dataclass(frozen=True)
class StartStateMachine:
    machine: str
    execution_name: str
    input: dict[str, Any]
    kind: Literal["start_execution"] = "start_execution"


@dataclass(frozen=True)
class StopStateMachine:
    """Stop a running attempt of an orchestrated step before it is undone or superseded."""

    machine: str
    execution_name: str
    cause: str
    kind: Literal["stop_execution"] = "stop_execution"


@dataclass(frozen=True)
class ScheduleDeadline:
    schedule_name: str
    at: str  # ISO-8601 UTC, seconds precision
    detail_type: str
    source: str
    detail: dict[str, Any]
    kind: Literal["schedule"] = "schedule"


@dataclass(frozen=True)
class CancelDeadline:
    schedule_name: str
    kind: Literal["cancel_schedule"] = "cancel_schedule"


@dataclass(frozen=True)
class Escalate:
    subject: str
    message: str
    kind: Literal["escalate"] = "escalate"


Action = PublishEvent | StartStateMachine | StopStateMachine | ScheduleDeadline | CancelDeadline | Escalate

_KINDS: dict[str, type[Any]] = {
    "publish": PublishEvent,
    "start_execution": StartStateMachine,
    "stop_execution": StopStateMachine,
    "schedule": ScheduleDeadline,
    "cancel_schedule": CancelDeadline,
    "escalate": Escalate,
}


def action_to_dict(action: Action) -> dict[str, Any]:
    """The action's fields, for the outbox's JSON (shallow: the caller serialises it at once)."""
    return {field.name: getattr(action, field.name) for field in fields(action)}


def action_from_dict(raw: dict[str, Any]) -> Action:
    kind = raw["kind"]
    return _KINDS[kind](**raw)  # type: ignore[no-any-return]


def schedule_name(workflow_id: str, step: str, phase: str, attempt: int) -> str:
    """Scheduler schedule names: <= 64 chars of [0-9A-Za-z_.-]; unique per step, phase and attempt."""
    digest = hashlib.sha256(workflow_id.encode()).hexdigest()[:8]
    return f"{safe_name(workflow_id, 32)}-{digest}-{safe_name(step, 12)}-{phase[0]}{attempt}"


def iso_seconds(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
