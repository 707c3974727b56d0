"""A workflow's state machine executions, event by event: the state-machine part of ``timeline``.

An execution belongs to the workflow its input correlates to: the envelope's ``metadata.correlationId``
(an execution the controller started with an event's detail) or ``detail.metadata.correlationId`` (one
an EventBridge rule started with the whole event). Its events are the ones ``GetExecutionHistory``
returns (:mod:`workflowkit.asl.history`), reduced to what a reader follows: when, which event, which
state, and the error, the resource or the iteration it names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from workflowkit.cloud import LocalCloud

Row = dict[str, Any]
NOTE_LIMIT = 160  # characters of an error's cause shown in a row


def workflow_executions(
    cloud: LocalCloud, workflow_id: str, *, flow_name: Callable[[str], str] | None = None
) -> list[Row]:
    """Every execution of the workflow, by start: ``{"flow", "execution", "status", "events": [...]}``,
    each event ``{"offset_seconds", "id", "previous", "type", "state", "note"}`` (from the clock's start).

    ``flow_name``: a state machine's readable name from its name (``ServiceNames.of`` with
    "statemachine:"); the state machine's own name if not given."""
    start = cloud.clock.start
    found = []
    for machine in cloud.backends("stepfunctions").state_machines:
        for execution in machine.executions:
            if _correlation(execution.input_data) != workflow_id:
                continue
            history = cloud.stepfunctions.history(execution.exec_arn)
            events = list(history.rendered(include_data=False)) if history is not None else []
            found.append(
                (
                    execution.start_date,
                    {
                        "flow": flow_name(machine.name) if flow_name else machine.name,
                        "execution": execution.name,
                        "status": str(execution.status),
                        "events": [_row(event, start) for event in events],
                    },
                )
            )
    return [row for _, row in sorted(found, key=lambda pair: pair[0])]


def format_executions(executions: list[Row]) -> list[str]:
    """The lines ``timeline --executions`` prints under the workflow's events."""
    lines = []
    for execution in executions:
        lines.append(f"  {execution['flow']}: {execution['execution']} ({execution['status']})")
        for event in execution["events"]:
            state = event["state"] or ""
            note = f"  {event['note']}" if event["note"] else ""
            lines.append(
                f"    +{event['offset_seconds']:>12.3f}s  #{event['id']:<4} <-#{event['previous']:<4}"
                f" {event['type']:<26} {state}{note}".rstrip()
            )
    return lines


def _correlation(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    for envelope in (document, document.get("detail")):
        metadata = envelope.get("metadata") if isinstance(envelope, dict) else None
        if isinstance(metadata, dict) and isinstance(metadata.get("correlationId"), str):
            return str(metadata["correlationId"])
    return None


def _row(event: dict[str, Any], start: datetime) -> Row:
    details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    return {
        "offset_seconds": (event["timestamp"] - start).total_seconds(),
        "id": event["id"],
        "previous": event["previousEventId"],
        "type": event["type"],
        "state": details.get("name") if "StateE" in event["type"] else None,
        "note": _note(event["type"], details),
    }


def _note(kind: str, details: dict[str, Any]) -> str:
    if "error" in details or "cause" in details:
        cause = str(details.get("cause", ""))
        cause = cause if len(cause) <= NOTE_LIMIT else cause[: NOTE_LIMIT - 3] + "..."
        return ": ".join(part for part in (str(details.get("error", "")), cause) if part)
    if kind == "TaskScheduled":
        return f"{details['resourceType']}:{details['resource']}"
    if kind == "LambdaFunctionScheduled":
        return str(details["resource"]).rsplit(":", 1)[-1]
    if kind.startswith("MapIteration"):
        return f"{details['name']}[{details['index']}]"
    if kind == "MapStateStarted":
        return f"{details['length']} items"
    return ""
