"""The customer onboarding workflow end to end, on the synthesized app: real ASL (the review pauses on
a task token), real handlers, the front door's callback route, virtual time.

Each test submits one application through the HTTP API, as a customer would; a compliance officer
decides referred ones through ``POST /workflows/{id}/steps/review/complete|reject`` as an IAM principal
of their own. What is checked is what the business relies on: the final status and why, what was
undone and in which order, the account and the profile, who decided and whether the SLA was kept, and
that every event was processed or dead-lettered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from simulations.onboarding.driver import OUTPUT_APPROVER_POLICY, OnboardingDriver
from simulations.onboarding.driver import subject_for as customers_subject
from simulations.onboarding.scenarios import SCENARIOS, Review
from workflowkit import LocalCloud
from workflowkit.faults import Faults, InjectedFaultError


@pytest.fixture
def customers(cloud: LocalCloud) -> OnboardingDriver:
    if "AccountsTableName" not in cloud.outputs:
        pytest.skip("the synthesized app does not deploy the onboarding workflow")
    return OnboardingDriver(cloud)


def run(cloud: LocalCloud, customers: OnboardingDriver, scenario: str, customer_id: str) -> dict[str, Any]:
    customers.submit(scenario, customer_id)
    cloud.run_until_quiescent()
    status = customers.status(customer_id)
    assert status is not None
    return status


def item(cloud: LocalCloud, output: str, pk: str) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(cloud.outputs[output])
    found: dict[str, Any] | None = table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item")
    return found


def notices(cloud: LocalCloud, customer_id: str) -> list[tuple[str, str]]:
    """(audience, template) of every notice sent about the customer, in the order they were created."""
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(
        cloud.outputs["OnboardingNoticesTableName"]
    )
    found = [i for i in table.scan()["Items"] if i.get("customerId") == customer_id]
    return [
        (str(i["audience"]), str(i["template"])) for i in sorted(found, key=lambda i: str(i["createdAt"]))
    ]


def handled(status: dict[str, Any]) -> list[str]:
    return [row["detailType"] for row in status["timeline"]]


def steps(status: dict[str, Any]) -> dict[str, str]:
    return {name: step["status"] for name, step in status["steps"].items()}


def assert_nothing_lost(cloud: LocalCloud) -> None:
    assert [e.detail_type for e in cloud.ledger.unaccounted()] == []
    assert cloud.ledger.dead_letters() == []


def test_a_low_risk_customer_is_onboarded_without_review(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "pass", "cus-pass")

    assert status["status"] == "COMPLETED"
    assert steps(status) == {
        "verify": "COMPLETED",
        "review": "SKIPPED",
        "account": "COMPLETED",
        "preferences": "COMPLETED",
    }
    account = item(cloud, "AccountsTableName", "CUSTOMER#cus-pass")
    assert account is not None
    assert (account["status"], account["verificationId"]) == ("OPEN", "idv_cus-pass")
    profile = item(cloud, "ProfilesTableName", "PROFILE#cus-pass")
    assert profile is not None
    assert profile["status"] == "ACTIVE"
    assert notices(cloud, "cus-pass") == [("customer", "welcome")]
    assert_nothing_lost(cloud)


def test_a_referred_customer_approved_in_time_is_onboarded_with_the_officer_on_record(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "refer_approved", "cus-approved")

    assert status["status"] == "COMPLETED"
    review = status["steps"]["review"]
    assert review["status"] == "COMPLETED"
    officer = customers.officer.arn
    assert review["output"]["decidedBy"] == officer
    assert review["output"]["reason"] == SCENARIOS["refer_approved"].review.reason  # type: ignore[union-attr]
    check = item(cloud, "VerificationsTableName", "CHECK#cus-approved")
    assert check is not None
    assert (check["reviewedBy"], check["reviewDecision"]) == (officer, "complete")
    # Decided within 2 hours: the officers were asked, never reminded, never escalated to.
    assert notices(cloud, "cus-approved") == [
        ("compliance-officer", "review-requested"),
        ("customer", "welcome"),
    ]
    assert "WorkflowEscalated" not in [e.detail_type for e in cloud.ledger.events.values()]
    assert_nothing_lost(cloud)


def test_a_review_past_its_sla_is_reminded_escalated_and_still_decided(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "refer_late", "cus-late")

    assert status["status"] == "COMPLETED"
    assert [audience_template[1] for audience_template in notices(cloud, "cus-late")] == [
        "review-requested",
        "review-reminder",
        "onboarding-escalated",
        "welcome",
    ]
    review = status["steps"]["review"]
    took = timedelta(seconds=_seconds(review["finishedAt"]) - _seconds(review["startedAt"]))
    assert took > timedelta(hours=48)
    assert_nothing_lost(cloud)


def test_a_rejected_customer_fails_with_the_reason_and_gets_no_account(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "refer_rejected", "cus-rejected")

    assert status["status"] == "FAILED"
    reason = SCENARIOS["refer_rejected"].review.reason  # type: ignore[union-attr]
    assert status["reason"] == f"review failed: {reason}: rejected by {customers.officer.arn}"
    assert steps(status)["account"] in ("PENDING", "SKIPPED", "CANCELLED")
    assert item(cloud, "AccountsTableName", "CUSTOMER#cus-rejected") is None
    assert item(cloud, "ProfilesTableName", "PROFILE#cus-rejected") is None
    assert notices(cloud, "cus-rejected")[-1] == ("customer", "application-declined")
    assert_nothing_lost(cloud)


def test_a_second_decision_on_a_decided_review_changes_nothing(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    run(cloud, customers, "refer_approved", "cus-twice")
    other = cloud.principal("compliance-officer-2", OUTPUT_APPROVER_POLICY)
    code, _ = customers.decide_review(
        "cus-twice", Review("reject", timedelta(0), "second thoughts"), principal=other
    )
    cloud.run_until_quiescent()

    assert code == 409
    status = customers.status("cus-twice")
    assert status is not None
    assert status["status"] == "COMPLETED"
    assert status["steps"]["review"]["output"]["decidedBy"] == customers.officer.arn


def test_only_a_holder_of_the_approver_policy_may_decide_a_review(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    customers.start(customers_subject("refer_approved", "cus-denied"))
    cloud.run_until_quiescent()  # verified and referred: the review waits for a decision
    client = cloud.principal("a-client", "ClientPolicyArn")
    code, _ = customers.decide_review("cus-denied", Review("complete", timedelta(0)), principal=client)

    assert code == 403
    status = customers.status("cus-denied")
    assert status is not None
    assert (status["status"], status["steps"]["review"]["status"]) == ("RUNNING", "RUNNING")


def test_a_flaky_provider_is_retried_by_the_state_machine_then_passes(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "flaky_provider", "cus-flaky")

    assert status["status"] == "COMPLETED"
    assert (
        status["steps"]["verify"]["attempt"] == 1
    )  # one execution: its Retry, not the controller, recovered
    check = item(cloud, "VerificationsTableName", "CHECK#cus-flaky")
    assert check is not None
    assert int(check["calls"]) == 3  # two outages, then the verdict
    assert handled(status).count("IdentityVerified") == 1
    assert_nothing_lost(cloud)


def test_a_failed_verification_fails_the_onboarding_with_nothing_to_undo(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "verification_failed", "cus-fail")

    assert status["status"] == "FAILED"
    assert status["reason"].startswith("verify failed: REJECTED")
    assert status["compensatedSteps"] == []
    assert item(cloud, "AccountsTableName", "CUSTOMER#cus-fail") is None
    assert_nothing_lost(cloud)


def test_the_account_failing_while_preferences_runs_closes_the_profile(
    cloud: LocalCloud, customers: OnboardingDriver
) -> None:
    status = run(cloud, customers, "provisioning_fails", "cus-retired")

    assert status["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["preferences"]
    assert steps(status)["account"] == "FAILED"
    profile = item(cloud, "ProfilesTableName", "PROFILE#cus-retired")
    assert profile is not None
    assert profile["status"] == "CLOSED"
    assert notices(cloud, "cus-retired")[-1] == ("customer", "onboarding-withdrawn")
    assert_nothing_lost(cloud)


class AccountUnseen(Faults):
    """The controller never hears that the account was opened (its deliveries fail, then dead-letter)."""

    def __init__(self) -> None:
        self.controller_queue = ""

    def before_delivery(self, event: dict[str, Any], target: str) -> None:
        if event["detail-type"] == "AccountProvisioned" and target == self.controller_queue:
            raise InjectedFaultError("AccountProvisioned lost on its way to the controller")


def test_branches_are_undone_in_reverse_order_of_completion(cdk_out: Any) -> None:
    # GIVEN the account opens but the controller never hears it, while preferences completes at once
    faults = AccountUnseen()
    with LocalCloud(cdk_out=cdk_out, seed=7, faults=faults) as cloud:
        if "AccountsTableName" not in cloud.outputs:
            pytest.skip("the synthesized app does not deploy the onboarding workflow")
        faults.controller_queue = _controller_queue(cloud)
        customers = OnboardingDriver(cloud)
        status = run(cloud, customers, "pass", "cus-unseen")
        account = item(cloud, "AccountsTableName", "CUSTOMER#cus-unseen")
        profile = item(cloud, "ProfilesTableName", "PROFILE#cus-unseen")
    # THEN at the account's 10-minute deadline the controller gives up on it (it may have acted): it
    # counts as done last, so it is undone first, then the profile that completed before it
    assert status["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["account", "preferences"]
    requests = [t for t in handled(status) if t in ("AccountDeprovisioned", "ProfileClosed")]
    assert requests == ["AccountDeprovisioned", "ProfileClosed"]
    assert account is not None
    assert account["status"] == "CLOSED"
    assert profile is not None
    assert profile["status"] == "CLOSED"


def _controller_queue(cloud: LocalCloud) -> str:
    assert cloud.app is not None
    functions = {f.name: f for f in cloud.app.functions}
    (queue,) = [
        m.queue_arn.split(":")[-1]
        for m in cloud.app.mappings
        if functions[m.function_name].environment.get("POWERTOOLS_SERVICE_NAME") == "controller"
    ]
    return f"queue:{queue}"


def _seconds(text: str) -> float:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(text).timestamp()
