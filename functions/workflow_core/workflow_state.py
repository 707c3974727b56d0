"""The controller's projection of one workflow, as stored and as read by the status API.

Statuses of a workflow: RUNNING -> COMPLETED, or RUNNING -> COMPENSATING -> COMPENSATED | NEEDS_ATTENTION,
or RUNNING -> FAILED (a step failed and nothing had been done that needed undoing).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from workflow_core.envelope import WorkflowContext


class WorkflowStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPENSATING = "COMPENSATING"
    COMPLETED = "COMPLETED"
    COMPENSATED = "COMPENSATED"
    FAILED = "FAILED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        WorkflowStatus.COMPLETED,
        WorkflowStatus.COMPENSATED,
        WorkflowStatus.FAILED,
        WorkflowStatus.NEEDS_ATTENTION,
    }
)


class StepStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    COMPENSATING = "COMPENSATING"
    COMPENSATED = "COMPENSATED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"
    SKIPPED = "SKIPPED"  # its condition did not hold: nothing ran, nothing to undo
    CANCELLED = "CANCELLED"  # waiting for a decision when the workflow stopped: nobody may decide it now


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


class StepState(_Model):
    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    started_at: datetime | None = None
    deadline: datetime | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    compensation_attempt: int = 0
    compensation_deadline: datetime | None = None
    # A completion was seen (possibly after its undo began: then the effect exists and needs undoing).
    completion_seen: bool = False
    # A completion arrived while its undo was in flight: undo once more when that one finishes.
    undo_again: bool = False
    # Orchestrated steps: the event the current attempt's execution started from (its outcomes' cause).
    trigger_event_id: str | None = None
    # The data of the event that completed the step (wire form): what later steps may read.
    output: dict[str, Any] | None = None
    # Callback steps: the decision taken through the callback routes (StepDecided's data, wire form).
    decision: dict[str, Any] | None = None
    # Callback steps escalated at their deadline and still waiting (an SLA breach, not a failure).
    overdue: bool = False


class WorkflowState(_Model):
    workflow_id: str
    workflow_type: str
    # The version of the declaration this instance runs, from start to end.
    definition_version: int = Field(ge=1)
    status: WorkflowStatus
    version: int = 0  # of this item: the optimistic lock every write checks
    created_at: datetime
    updated_at: datetime
    subject: dict[str, Any]  # the start event's data (wire form)
    steps: dict[str, StepState]
    # Steps as they completed (or were given up on while they may have acted): undone latest first.
    completion_order: list[str] = Field(default_factory=list)
    # Steps still to undo, next first (latest completion first); empty unless compensating.
    compensation_queue: list[str] = Field(default_factory=list)
    compensated_steps: list[str] = Field(default_factory=list)
    # Outcome events already published (WorkflowCompleted, ...): each is announced once.
    announced: list[str] = Field(default_factory=list)
    reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_before_versions(cls, document: Any) -> Any:
        """Read a projection written before declarations had versions and subjects (decision 0022).

        Such a document has no ``definitionVersion`` (it ran the only version there was: 1) and keeps
        its subject under the one workflow's own field name instead of ``subject``: the one field this
        model does not know whose value is an object. Written back, it takes the current shape.
        """
        if not isinstance(document, dict) or "subject" in document:
            return document
        known = {name for name, info in cls.model_fields.items()} | {
            info.alias for info in cls.model_fields.values() if info.alias
        }
        unknown = [key for key, value in document.items() if key not in known and isinstance(value, dict)]
        if len(unknown) != 1:
            return document  # not that shape: let validation say what is wrong
        upgraded = {key: value for key, value in document.items() if key != unknown[0]}
        upgraded["subject"] = document[unknown[0]]
        upgraded.setdefault("definitionVersion", 1)
        return upgraded

    def context(self) -> WorkflowContext:
        """The workflow context of every event the controller publishes for this instance."""
        outputs = {name: step.output for name, step in self.steps.items() if step.output is not None}
        # Built from this validated state: no second validation of the same values.
        return WorkflowContext.model_construct(
            name=self.workflow_type, version=self.definition_version, subject=self.subject, outputs=outputs
        )

    def copy_for_update(self) -> WorkflowState:
        # A deep copy through pydantic-core (dump, then validate): ~4x faster than model_copy(deep=True),
        # which runs Python's deepcopy over every nested model; the controller copies once per event.
        return WorkflowState.model_validate(self.model_dump())


# --- storage keys, shared by the controller (writer) and the status API (reader) ------------------------
STATE_SK = "STATE"
HISTORY_PREFIX = "EVT#"


def workflow_pk(workflow_id: str) -> str:
    return f"WF#{workflow_id}"


def history_sk(event_id: str) -> str:
    return f"{HISTORY_PREFIX}{event_id}"
