"""The kit's own events: what every workflow announces, whatever its domain.

The controller starts and ends every workflow, retries and undoes its steps; the scheduler reports
deadlines; operators issue commands. These detail-types are the same for every workflow: a rule tells
workflows apart by ``detail.workflow.name`` (the envelope's :class:`~workflow_core.envelope.WorkflowContext`),
and the subject travels in that context, never in these events' data.

Version 1 of these events carried one domain's subject in their data (before docs/decisions/0022); such
events are refused as an unsupported schema version rather than half-understood.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from workflow_core.envelope import ContractModel

SOURCE_CONTROLLER = "workflow.controller"
SOURCE_SCHEDULER = "workflow.scheduler"
SOURCE_OPERATOR = "workflow.operator"
# Decisions taken through the HTTP API's callback routes (people, or systems acting for them).
SOURCE_CALLBACK = "workflow.callback"

WORKFLOW_STARTED = "WorkflowStarted"
WORKFLOW_COMPLETED = "WorkflowCompleted"
WORKFLOW_COMPENSATED = "WorkflowCompensated"
WORKFLOW_FAILED = "WorkflowFailed"
WORKFLOW_ESCALATED = "WorkflowEscalated"
STEP_RETRY_REQUESTED = "StepRetryRequested"
STEP_DEADLINE_REACHED = "StepDeadlineReached"
OPERATOR_COMMAND_ISSUED = "OperatorCommandIssued"
STEP_REQUESTED = "StepRequested"
STEP_DECIDED = "StepDecided"
DECISION_REQUESTED = "DecisionRequested"
DECISION_REMINDER = "DecisionReminder"

OUTCOME_EVENTS = (WORKFLOW_COMPLETED, WORKFLOW_COMPENSATED, WORKFLOW_FAILED)
# The announcements a listener (e.g. a service telling people about outcomes) may subscribe to.
ANNOUNCEMENTS = (
    WORKFLOW_STARTED,
    *OUTCOME_EVENTS,
    WORKFLOW_ESCALATED,
    DECISION_REQUESTED,
    DECISION_REMINDER,
)


class WorkflowStarted(ContractModel):
    workflow_id: str
    workflow_type: str
    version: int = Field(ge=1, description="The version of the declaration this instance runs.")


class WorkflowOutcome(ContractModel):
    """Completed, compensated, failed: the workflow's end and why."""

    workflow_id: str
    workflow_type: str
    status: str
    reason: str | None = None
    compensated_steps: tuple[str, ...] = ()


class WorkflowEscalated(ContractModel):
    workflow_id: str
    workflow_type: str
    reason: str
    failed_step: str | None = None


class StepDeadlineReached(ContractModel):
    workflow_id: str
    step: str
    # "reminder": a callback step's reminder is due (the step's deadline has not passed yet).
    phase: Literal["step", "compensation", "reminder"]
    attempt: int = Field(ge=1)
    deadline: datetime


class StepRetryRequested(ContractModel):
    workflow_id: str
    step: str
    attempt: int = Field(ge=2)


class StepRequested(ContractModel):
    """The controller starts a choreographed step itself: it waits on several steps, or on a condition."""

    workflow_id: str
    step: str
    attempt: int = Field(ge=1)


class StepDecided(ContractModel):
    """A decision on a callback step, taken through ``POST /workflows/{id}/steps/{step}/complete|reject``.

    ``decided_by`` is the caller's IAM identity as API Gateway authenticated it; ``reason`` is theirs
    (required to reject); ``details`` are the decision's own fields (a partner's reference, say).
    """

    workflow_id: str
    step: str
    attempt: int = Field(ge=1)
    decision: Literal["complete", "reject"]
    decided_by: str = Field(min_length=1, max_length=2048)
    reason: str | None = Field(default=None, max_length=1000)
    decided_at: datetime
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class DecisionRequested(ContractModel):
    """A callback step is waiting for a decision from ``approvers`` by ``deadline``."""

    workflow_id: str
    workflow_type: str
    step: str
    attempt: int = Field(ge=1)
    approvers: str
    deadline: datetime


class DecisionReminder(DecisionRequested):
    """The decision is still outstanding at the step's reminder time."""


class OperatorCommandIssued(ContractModel):
    workflow_id: str
    command: Literal["resume", "retry-step", "cancel"]
    step: str | None = None
    operator: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)


class CompensationRequest(ContractModel):
    """What every compensation request carries: why, and which attempts it concerns.

    ``step_attempt`` is the attempt of the step being undone (a consumer must refuse that attempt and
    any older one afterwards); ``compensation_attempt`` numbers the undo itself, and every outcome
    echoes it so the controller can tell a stale outcome from the current one. A workflow's request
    model may add fields named like fields of its subject: the controller fills them from the subject.
    """

    reason: str
    step_attempt: int = Field(default=1, ge=1)
    compensation_attempt: int = Field(default=1, ge=1)


class CompensationOutcome(ContractModel):
    compensation_attempt: int | None = Field(default=None, ge=1, description="Echo of the request's.")
