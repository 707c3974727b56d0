"""A runner that never answers one workflow: what it ignores, and how to recognise it.

A step's (or an undo's) runner is either a queue-fed consumer, named by its service
(``POWERTOOLS_SERVICE_NAME``), or a state machine. Silenced for a workflow, the consumer takes the
events that ask it to act for that workflow and does nothing (the message is deleted: answered, as a
buggy consumer answers it), and the state machine's executions for that workflow fail before their
first state, so nobody publishes the step's outcome. What asks a runner to act is the event that starts
the step (``started_by``), the kit's commands naming the step (``StepRequested``, ``StepRetryRequested``,
``StepDecided``), or, for an undo, its compensation request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The kit's commands that name the step they are about (``data.step``): workflow_core.lifecycle.
STEP_COMMANDS = frozenset({"StepRequested", "StepRetryRequested", "StepDecided"})


@dataclass(frozen=True)
class Silence:
    fault: str  # "never_answers" (a step) or "compensation_fails" (an undo)
    workflow_id: str
    step: str
    service: str | None = None  # a consumer runner's service
    state_machine: str | None = None  # a state machine runner: the end of its name, "-<workflow>-<machine>"
    detail_types: frozenset[str] = frozenset()  # events that ask the consumer to act
    step_commands: bool = False  # also the kit's commands naming ``step``

    def asks_consumer(self, body: str) -> bool:
        """Whether an SQS message body (an EventBridge event) asks the consumer to act for the workflow."""
        if self.workflow_id not in body:
            return False
        try:
            event = json.loads(body)
        except ValueError:
            return False
        if not isinstance(event, dict) or correlation_id(event) != self.workflow_id:
            return False
        detail_type = event.get("detail-type")
        if detail_type in self.detail_types:
            return True
        if self.step_commands and detail_type in STEP_COMMANDS:
            data = (event.get("detail") or {}).get("data") or {}
            return isinstance(data, dict) and data.get("step") == self.step
        return False

    def runs_machine(self, state_machine_arn: str, execution_input: Any) -> bool:
        """Whether an execution is the silenced state machine's, for the workflow."""
        if self.state_machine is None:
            return False
        name = state_machine_arn.rsplit(":", maxsplit=1)[-1]
        return name.endswith(self.state_machine) and correlation_id(execution_input) == self.workflow_id


def correlation_id(document: Any) -> str | None:
    """The kit's envelope's ``metadata.correlationId``: at the top (an event's detail, a controller's
    execution input) or under ``detail`` (an EventBridge event)."""
    if not isinstance(document, dict):
        return None
    for holder in (document, document.get("detail")):
        if isinstance(holder, dict):
            metadata = holder.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("correlationId"), str):
                return str(metadata["correlationId"])
    return None
