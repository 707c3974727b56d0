"""The onboarding invariants pass on what a correct run leaves, and fail on the fault each exists for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from simulations.onboarding.driver import Decided
from simulations.onboarding.invariants import check_accounts, check_decisions, check_slas

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OFFICER = "arn:aws:iam::123456789012:user/compliance-officer-1"
OTHER = "arn:aws:iam::123456789012:user/someone-else"


def status(workflow: str, **steps: dict[str, Any]) -> dict[str, Any]:
    return {"status": workflow, "steps": steps}


def review(state: str, *, after: timedelta | None, **fields: Any) -> dict[str, Any]:
    return {
        "status": state,
        "startedAt": T0.isoformat(),
        "finishedAt": (T0 + after).isoformat() if after is not None else None,
        **fields,
    }


def account(customer: str, state: str = "OPEN") -> dict[str, Any]:
    return {
        "pk": f"CUSTOMER#{customer}",
        "customerId": customer,
        "status": state,
        "accountId": f"acc_{customer}",
    }


# --- no account for a refused customer ---------------------------------------------------------------
def test_accounts_hold_for_a_completed_onboarding_and_a_tombstone_of_a_refused_one() -> None:
    statuses = {
        "c1": status("COMPLETED", verify={"status": "COMPLETED"}),
        "c2": status("FAILED", review={"status": "FAILED"}),
    }
    tombstone = {"pk": "CUSTOMER#c2", "customerId": "c2", "status": "CLOSED"}
    assert check_accounts([account("c1"), tombstone], statuses) == []


def test_accounts_fail_on_an_account_opened_for_a_rejected_customer_even_if_closed() -> None:
    statuses = {"c2": status("FAILED", review={"status": "FAILED"})}
    (violation,) = check_accounts([account("c2", "CLOSED")], statuses)
    assert "opened though review failed" in violation.detail


def test_accounts_fail_on_an_account_left_open_for_a_compensated_onboarding() -> None:
    statuses = {"c3": status("COMPENSATED", verify={"status": "COMPLETED"})}
    (violation,) = check_accounts([account("c3")], statuses)
    assert "left open for a COMPENSATED" in violation.detail


# --- every decision recorded with the decider's identity ----------------------------------------------
def decided(verdict: str = "complete", principal: str = OFFICER, code: int = 202) -> Decided:
    return Decided(principal=principal, verdict=verdict, at=T0 + timedelta(hours=2), status_code=code)


def kyc(principal: str = OFFICER, verdict: str = "complete") -> dict[str, Any]:
    return {"reviewedBy": principal, "reviewDecision": verdict}


def test_decisions_hold_when_the_outcome_and_the_kyc_file_name_the_officer() -> None:
    statuses = {
        "c1": status(
            "COMPLETED", review=review("COMPLETED", after=timedelta(hours=2), output={"decidedBy": OFFICER})
        ),
        "c2": status(
            "FAILED", review=review("FAILED", after=timedelta(hours=2), reason=f"x: rejected by {OFFICER}")
        ),
        "c3": status("COMPLETED", review={"status": "SKIPPED"}),
    }
    decisions = {"c1": decided(), "c2": decided("reject")}
    checks = {"c1": kyc(), "c2": kyc(verdict="reject")}
    assert check_decisions(statuses, decisions, checks) == []


def test_decisions_fail_when_the_outcome_names_someone_else() -> None:
    statuses = {
        "c1": status(
            "COMPLETED", review=review("COMPLETED", after=timedelta(hours=2), output={"decidedBy": OTHER})
        )
    }
    (violation,) = check_decisions(statuses, {"c1": decided()}, {"c1": kyc()})
    assert "outcome names" in violation.detail


def test_decisions_fail_when_the_kyc_file_lacks_the_decision() -> None:
    statuses = {
        "c1": status(
            "COMPLETED", review=review("COMPLETED", after=timedelta(hours=2), output={"decidedBy": OFFICER})
        )
    }
    (violation,) = check_decisions(statuses, {"c1": decided()}, {"c1": {}})
    assert "KYC file" in violation.detail


def test_decisions_fail_when_a_review_is_decided_without_the_officer() -> None:
    statuses = {
        "c1": status(
            "COMPLETED", review=review("COMPLETED", after=timedelta(hours=2), output={"decidedBy": OFFICER})
        )
    }
    (violation,) = check_decisions(statuses, {}, {"c1": kyc()})
    assert "decided by no one" in violation.detail


def test_decisions_fail_when_an_accepted_decision_is_lost() -> None:
    statuses = {"c1": status("RUNNING", review=review("RUNNING", after=None))}
    (violation,) = check_decisions(statuses, {"c1": decided()}, {})
    assert "never acted on" in violation.detail


# --- every SLA enforced -------------------------------------------------------------------------------
def heard(**after_hours: float) -> dict[str, list[datetime]]:
    return {name: [T0 + timedelta(hours=hours)] for name, hours in after_hours.items()}


def test_slas_hold_for_a_review_decided_in_time_after_the_reminder_and_after_the_escalation() -> None:
    statuses = {
        "early": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=2))),
        "reminded": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=30))),
        "late": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=49))),
    }
    announcements = {
        "early": heard(DecisionRequested=0),
        "reminded": heard(DecisionRequested=0, DecisionReminder=24),
        "late": heard(DecisionRequested=0, DecisionReminder=24, WorkflowEscalated=48),
    }
    assert check_slas(statuses, announcements) == []


def test_slas_fail_when_an_undecided_review_got_no_reminder() -> None:
    statuses = {"c1": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=30)))}
    (violation,) = check_slas(statuses, {"c1": heard(DecisionRequested=0)})
    assert "no DecisionReminder" in violation.detail


def test_slas_fail_when_a_review_past_its_deadline_was_not_escalated() -> None:
    statuses = {"c1": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=49)))}
    (violation,) = check_slas(statuses, {"c1": heard(DecisionRequested=0, DecisionReminder=24)})
    assert "no WorkflowEscalated" in violation.detail


def test_slas_fail_when_a_review_decided_in_time_was_reminded_anyway() -> None:
    statuses = {"c1": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=2)))}
    (violation,) = check_slas(statuses, {"c1": heard(DecisionRequested=0, DecisionReminder=1)})
    assert "yet DecisionReminder" in violation.detail


def test_slas_fail_when_officers_never_heard_of_the_review() -> None:
    statuses = {"c1": status("COMPLETED", review=review("COMPLETED", after=timedelta(hours=2)))}
    (violation,) = check_slas(statuses, {})
    assert "never announced" in violation.detail


def test_an_escalation_after_the_decision_is_not_the_review_s() -> None:
    # A failed undo escalates long after the review was decided in time: not an SLA breach.
    statuses = {"c1": status("NEEDS_ATTENTION", review=review("COMPLETED", after=timedelta(hours=2)))}
    assert check_slas(statuses, {"c1": heard(DecisionRequested=0, WorkflowEscalated=3)}) == []


def test_slas_judge_a_review_by_when_the_officer_decided_not_when_its_outcome_was_handled() -> None:
    # decided a second before the deadline, its outcome handled after it: in time, rightly not escalated
    in_time = (T0 + timedelta(hours=48) - timedelta(seconds=1)).isoformat()
    statuses = {
        "c1": status(
            "COMPLETED",
            review=review("COMPLETED", after=timedelta(hours=48, seconds=2), output={"decidedAt": in_time}),
        )
    }
    assert check_slas(statuses, {"c1": heard(DecisionRequested=0, DecisionReminder=24)}) == []
