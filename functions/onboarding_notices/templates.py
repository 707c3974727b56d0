"""Which announcement becomes which notice, and for whom.

Compliance officers hear what awaits their decision (``DecisionRequested``), what is still waiting at
the reminder (``DecisionReminder``) and what was escalated (``WorkflowEscalated``: a review past its
48-hour SLA, or an undo that failed). The customer hears how the onboarding ended. The notices topic
carries both; a subscription picks its audience with a filter policy on the ``audience`` attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from onboarding_workflow import ONBOARDING_WORKFLOW

Audience = Literal["customer", "compliance-officer"]
OFFICERS: Audience = "compliance-officer"
CUSTOMER: Audience = "customer"


@dataclass(frozen=True)
class Template:
    name: str
    audience: Audience


TEMPLATES: Mapping[str, Template] = {
    "DecisionRequested": Template("review-requested", OFFICERS),
    "DecisionReminder": Template("review-reminder", OFFICERS),
    "WorkflowEscalated": Template("onboarding-escalated", OFFICERS),
    "WorkflowCompleted": Template("welcome", CUSTOMER),  # CustomerOnboarded, in the business's words
    "WorkflowCompensated": Template("onboarding-withdrawn", CUSTOMER),
    "WorkflowFailed": Template("application-declined", CUSTOMER),
}
_HEARD = ONBOARDING_WORKFLOW.listeners["onboarding_notices"]
if set(TEMPLATES) != set(_HEARD):  # the declaration decides what is announced to whom
    raise RuntimeError(f"templates {sorted(TEMPLATES)} do not match what onboarding_notices hears: {_HEARD}")
