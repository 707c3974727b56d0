"""The onboarding driver: customers apply through the front door; a compliance officer decides reviews
through the front door's callback route, as an IAM principal of their own.

Every decision the driver takes is kept (``decisions``): the invariants compare what the system
recorded with who decided and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulations.onboarding.scenarios import SCENARIOS, Review, application_for
from workflowkit.cloud import LocalCloud
from workflowkit.simulator.front_door import FrontDoorDriver

WORKFLOW_TYPE = "onboarding"  # the declaration's name: the status documents' ``workflowType``
REVIEW_STEP = "review"
# The compliance officer the driver acts as: the identity the front door records as ``decidedBy``.
OFFICER = "arn:aws:iam::123456789012:user/compliance-officer-1"
# The stack's output naming the managed policy of the review's approvers (``Callback.approvers``): the
# officer holds that policy and nothing else, so a decision proves the policy is enough.
OUTPUT_APPROVER_POLICY = "ComplianceOfficerApproverPolicyArn"


@dataclass(frozen=True)
class Decided:
    """One decision the driver took: by whom, what, when, and what the front door answered."""

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
        self.decisions: dict[str, Decided] = {}

    def submit(self, scenario: str, workflow_id: str) -> None:
        """Apply as the scenario's customer; a referred one is decided on later, in virtual time."""
        super().submit(scenario, workflow_id)
        review = SCENARIOS[scenario].review
        if review is not None:

            def decide() -> None:
                self.decide_review(workflow_id, review)

            self._cloud.loop.call_later(review.after, f"review {workflow_id}", decide)

    def decide_review(self, workflow_id: str, review: Review, *, principal: str = OFFICER) -> dict[str, Any]:
        """The officer's decision through the callback route; returns the front door's answer."""
        response = self.decide_through_front_door(workflow_id, review, principal=principal)
        self.decisions[workflow_id] = Decided(
            principal=principal,
            verdict=review.verdict,
            at=self._cloud.clock.now(),
            status_code=int(response["statusCode"]),
        )
        return response

    def decide_through_front_door(
        self, workflow_id: str, review: Review, *, principal: str
    ) -> dict[str, Any]:
        """The one place the driver calls the callback route."""
        decide = getattr(super(), "decide", None)
        if decide is not None:  # the generic driver's, once it has one
            response: dict[str, Any] = decide(
                workflow_id, REVIEW_STEP, review.verdict, principal=principal, reason=review.reason
            )
            return response
        body = {"reason": review.reason} if review.reason else {}
        path = f"/workflows/{workflow_id}/steps/{REVIEW_STEP}/{review.verdict}"
        policy = self._cloud.outputs.get(OUTPUT_APPROVER_POLICY)
        return self._cloud.http(
            "POST", path, body, caller=principal, caller_policies=(policy,) if policy else None
        )
