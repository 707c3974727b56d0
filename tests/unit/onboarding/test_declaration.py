"""The onboarding declaration says what the business relies on: who is reviewed, what runs in parallel,
what is undone, who hears what."""

from __future__ import annotations

from datetime import timedelta

from onboarding_workflow import ACCOUNT, ONBOARDING_WORKFLOW, PREFERENCES, REVIEW, VERIFY
from workflow_core.conditions import facts_of


def test_only_referred_customers_are_reviewed() -> None:
    assert REVIEW.when is not None
    assert REVIEW.when.holds(facts_of({}, {"verify": {"result": "REFER"}}))
    assert not REVIEW.when.holds(facts_of({}, {"verify": {"result": "PASS"}}))


def test_the_review_has_the_compliance_sla() -> None:
    assert REVIEW.deadline == timedelta(hours=48)
    assert REVIEW.callback is not None
    assert (REVIEW.callback.approvers, REVIEW.callback.reminder, REVIEW.callback.on_deadline) == (
        "compliance-officer",
        timedelta(hours=24),
        "escalate",
    )


def test_account_and_preferences_run_in_parallel_after_the_review_or_its_skip() -> None:
    assert ACCOUNT.after == PREFERENCES.after == (REVIEW.name,)
    assert ONBOARDING_WORKFLOW.ancestors(ACCOUNT.name) == (VERIFY.name, REVIEW.name)


def test_what_was_done_for_the_customer_can_be_undone_and_verification_is_kept() -> None:
    assert [s.name for s in ONBOARDING_WORKFLOW.compensable_steps()] == ["account", "preferences"]
    assert VERIFY.compensation is None


def test_officers_and_customers_hear_the_announcements() -> None:
    heard = set(ONBOARDING_WORKFLOW.listeners["onboarding_notices"])
    assert {"DecisionRequested", "DecisionReminder", "WorkflowEscalated", "WorkflowCompleted"} <= heard
