"""A decision on a callback step: the request's body, and the record the front door claims and delivers.

The record is what every party sees of the decision: the claim item in the callbacks table, the
``StepDecided`` event a human or consumer step receives, the output a paused state machine's task
token is answered with. One shape, so the decider's identity and reason reach the step's outcome
whichever way it travels.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from workflow_core.envelope import ContractModel

Verdict = Literal["complete", "reject"]
Scalar = str | int | float | bool | None

# "Small" details: a decision carries a partner's reference or a ticket number, not a document. The
# limits keep the claim item, the event and the task output far below DynamoDB's, EventBridge's and
# Step Functions' own (400 KB, 256 KB, 256 KB).
MAX_DETAILS = 20
MAX_DETAIL_KEY = 64
MAX_DETAIL_TEXT = 500


class DecisionRequest(ContractModel):
    """Body of ``POST /workflows/{workflowId}/steps/{step}/complete`` (or ``/reject``)."""

    reason: str | None = Field(default=None, min_length=1, max_length=1000)
    details: dict[str, Scalar] = Field(default_factory=dict, max_length=MAX_DETAILS)

    @field_validator("reason")
    @classmethod
    def _said_something(cls, reason: str | None) -> str | None:
        # A reason of blanks is no reason: a rejection must say why.
        return None if reason is None or not reason.strip() else reason.strip()

    @field_validator("details")
    @classmethod
    def _small_details(cls, details: dict[str, Scalar]) -> dict[str, Scalar]:
        for key, value in details.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key!r} is not a finite number")
            if not 1 <= len(key) <= MAX_DETAIL_KEY:
                raise ValueError(f"key {key[:80]!r} must be 1 to {MAX_DETAIL_KEY} characters")
            if isinstance(value, str) and len(value) > MAX_DETAIL_TEXT:
                raise ValueError(f"{key!r} is longer than {MAX_DETAIL_TEXT} characters")
        return details


class Decision(ContractModel):
    """Who decided which attempt of which step, how, why and when; ``event_id`` names its delivery."""

    workflow_id: str
    step: str
    attempt: int = Field(ge=1)
    decision: Verdict
    decided_by: str
    reason: str | None = None
    details: dict[str, Scalar] = Field(default_factory=dict)
    decided_at: datetime
    event_id: str

    def same_as(self, other: Decision) -> bool:
        """The same caller taking the same decision: a retry, answered as the first request was."""
        return (self.decided_by, self.decision) == (other.decided_by, other.decision)

    def task_output(self) -> dict[str, Any]:
        """What a paused state machine receives: its Choice routes on ``decision``; the rest is the
        record its outcome event carries (who decided, and why)."""
        wire = self.to_wire()
        return {
            "decision": wire["decision"],
            "decidedBy": wire["decidedBy"],
            "reason": self.reason,
            "decidedAt": wire["decidedAt"],
            "details": wire["details"],
        }


def decision_event_id(workflow_id: str, step: str, attempt: int) -> str:
    """The one id of a step attempt's decision: every delivery of it is the same event."""
    return f"decision:{workflow_id}:{step}:{attempt}"
