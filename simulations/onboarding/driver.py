"""The onboarding driver: customers apply through the front door; a compliance officer decides reviews
through the front door's callback route, as an IAM principal of their own.

Every decision the driver takes is kept (``decisions``): the invariants compare what the system
recorded with who decided and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulations.onboarding.scenarios import SCENARIOS, Review, application_for
from workflowkit.cloud import LocalCloud
from workflowkit.principals import ApiPrincipal
from workflowkit.simulator.front_door import FrontDoorDriver

WORKFLOW_TYPE = "onboarding"  # the declaration's name: the status documents' ``workflowType``
REVIEW_STEP = "review"
# The compliance officer the driver acts as (an IAM user; the front door records its ARN as ``decidedBy``),
# holding the review approvers' managed policy (``Callback.approvers``, stack output
# ``<Approvers>ApproverPolicyArn``) and nothing else: every decision shows that policy is enough.
OFFICER = "compliance-officer-1"
OUTPUT_APPROVER_POLICY = "ComplianceOfficerApproverPolicyArn"
# A decision the front door could not deliver (503) is tried again this much later, at most this often.
DECISION_RETRY_AFTER = timedelta(minutes=5)
DECISION_TRIES = 5


@dataclass(frozen=True)
class Decided:
    """One decision the driver took: by whom (the caller's ARN), what, when, and the front door's answer."""

    principal: str
    verdict: str
    at: datetime
    status_code: int


def subject_for(scenario: str, workflow_id: str) -> dict[str, Any]:
    return application_for(SCENARIOS[scenario], workflow_id)


class OnboardingDriver(FrontDoorDriver):
    def __init__(self, cloud: LocalCloud) -> None:
        super().__init__(cloud, workflow=WORKFLOW_TYPE, subject_for=subject_for)
        self._cloud = cloud
        self.officer = cloud.principal(OFFICER, OUTPUT_APPROVER_POLICY)
        self.decisions: dict[str, Decided] = {}

    def submit(self, scenario: str, workflow_id: str) -> None:
        """Apply as the scenario's customer; a referred one is decided on later, in virtual time."""
        super().submit(scenario, workflow_id)
        review = SCENARIOS[scenario].review
        if review is not None:

            def decide() -> None:
                self.decide_review(workflow_id, review)

            self._cloud.loop.call_later(review.after, f"review {workflow_id}", decide)

    def decide_review(
        self,
        workflow_id: str,
        review: Review,
        *,
        principal: ApiPrincipal | None = None,
        tries: int = DECISION_TRIES,
    ) -> tuple[int, dict[str, Any]]:
        """The officer's decision through the callback route; returns the front door's status and body.

        A 5xx (a decision claimed but not delivered yet: Step Functions throttled, say) is tried again
        later, as the front door asks, by the same officer (the claim is theirs); the final answer is kept.
        """
        who = principal or self.officer
        status, body = self.decide(
            workflow_id, REVIEW_STEP, review.verdict, principal=who, reason=review.reason
        )
        if status >= 500 and tries > 1:

            def again() -> None:
                self.decide_review(workflow_id, review, principal=principal, tries=tries - 1)

            self._cloud.loop.call_later(DECISION_RETRY_AFTER, f"review {workflow_id} again", again)
            return status, body
        self.decisions[workflow_id] = Decided(
            principal=who.arn, verdict=review.verdict, at=self._cloud.clock.now(), status_code=status
        )
        return status, body
