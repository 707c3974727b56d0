"""The onboarding workflow's invariants, checked against its own tables and the bus after every run.

- accounts: no account is ever opened for a customer who was rejected (by the officer or the
  verification), and none is left open unless the onboarding completed (or a person is looking at it);
- decisions: every review decision is recorded with the identity of the person who took it: the
  outcome the controller recorded and the customer's identity check (KYC file) name the principal the
  driver decided as, and every decision the front door accepted was acted on;
- SLAs: a review still undecided at its reminder (24 h) got a ``DecisionReminder``, one undecided at
  its deadline (48 h) got a ``WorkflowEscalated`` before its decision; a review decided earlier got
  neither.

Each check takes plain data (status documents, table items, announcement times), so a unit test shows
it fail on the fault it exists for. The kit's own invariants (termination, audit, nothing lost) are the
simulator's and run after these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3

from simulations.onboarding.driver import REVIEW_STEP, Decided, OnboardingDriver
from workflowkit.cloud import LocalCloud
from workflowkit.simulator import Statuses, Violation, in_sequence

REMINDER = timedelta(hours=24)
DEADLINE = timedelta(hours=48)
SLA_ANNOUNCEMENTS = ("DecisionRequested", "DecisionReminder", "WorkflowEscalated")
DECIDED = {"COMPLETED", "FAILED", "COMPENSATING", "COMPENSATED", "COMPENSATION_FAILED"}
# An account may stay open only where the onboarding completed or a person settles it by hand.
ACCOUNT_MAY_STAY_OPEN = {"COMPLETED", "NEEDS_ATTENTION"}

Announcements = Mapping[str, Mapping[str, list[datetime]]]  # workflow id -> detail-type -> published at


@dataclass(frozen=True)
class Evidence:
    """What the run left behind that the invariants read."""

    accounts: list[dict[str, Any]]  # the accounts table
    checks: dict[str, dict[str, Any]]  # the identity checks (KYC files), by customer id
    announcements: Announcements


def check_all(cloud: LocalCloud, driver: OnboardingDriver, statuses: Statuses) -> list[Violation]:
    evidence = gather(cloud)
    return [
        *check_accounts(evidence.accounts, statuses),
        *check_decisions(statuses, driver.decisions, evidence.checks),
        *check_slas(statuses, evidence.announcements),
    ]


def gather(cloud: LocalCloud) -> Evidence:
    dynamodb = boto3.resource("dynamodb", region_name=cloud.region)
    checks = {
        str(item["pk"]).removeprefix("CHECK#"): item
        for item in _scan(dynamodb.Table(cloud.outputs["VerificationsTableName"]))
    }
    announcements: dict[str, dict[str, list[datetime]]] = {}
    for workflow_id, events in cloud.ledger.by_correlation().items():
        for event in events:
            if event.detail_type in SLA_ANNOUNCEMENTS:
                announcements.setdefault(workflow_id, {}).setdefault(event.detail_type, []).append(
                    event.published_at
                )
    return Evidence(
        accounts=_scan(dynamodb.Table(cloud.outputs["AccountsTableName"])),
        checks=checks,
        announcements=announcements,
    )


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _refused(status: Mapping[str, Any]) -> str | None:
    """Why the customer was refused (the verification or the officer), or None."""
    steps = status.get("steps", {})
    for step in ("verify", REVIEW_STEP):
        if steps.get(step, {}).get("status") == "FAILED":
            return f"{step} failed"
    return None


def check_accounts(accounts: list[dict[str, Any]], statuses: Statuses) -> list[Violation]:
    violations = []
    for item in accounts:
        customer_id = str(item.get("customerId") or str(item["pk"]).removeprefix("CUSTOMER#"))
        status = statuses.get(customer_id)
        if status is None:
            continue  # not this run's
        refused = _refused(status)
        if refused and "accountId" in item:  # opened at some point: a tombstone has no account id
            violations.append(Violation("accounts", customer_id, f"an account was opened though {refused}"))
        if item.get("status") == "OPEN" and status["status"] not in ACCOUNT_MAY_STAY_OPEN:
            violations.append(
                Violation("accounts", customer_id, f"account left open for a {status['status']} onboarding")
            )
    return violations


def check_decisions(
    statuses: Statuses, decisions: Mapping[str, Decided], checks: Mapping[str, Mapping[str, Any]]
) -> list[Violation]:
    violations = []
    for workflow_id, status in in_sequence(statuses):
        review = status.get("steps", {}).get(REVIEW_STEP, {})
        decided = decisions.get(workflow_id)
        if review.get("status") not in DECIDED:
            if decided is not None and decided.status_code == 202:
                violations.append(
                    Violation("decisions", workflow_id, f"the {decided.verdict} accepted was never acted on")
                )
            continue
        if decided is None or decided.status_code != 202:
            violations.append(
                Violation("decisions", workflow_id, "the review was decided by no one the driver knows")
            )
            continue
        recorded = _recorded_decider(review)
        if recorded != decided.principal:
            violations.append(
                Violation(
                    "decisions", workflow_id, f"outcome names {recorded!r}, decided by {decided.principal!r}"
                )
            )
        check = checks.get(workflow_id, {})
        filed = (check.get("reviewedBy"), check.get("reviewDecision"))
        if filed != (decided.principal, decided.verdict):
            violations.append(
                Violation("decisions", workflow_id, f"KYC file records {filed}, not {decided.principal!r}'s")
            )
    return violations


def _recorded_decider(review: Mapping[str, Any]) -> str | None:
    """Who the controller's record of the review's outcome names: the approval's ``decidedBy``, or the
    rejection's reason ("<reason>: rejected by <principal>")."""
    output = review.get("output") or {}
    if output.get("decidedBy"):
        return str(output["decidedBy"])
    reason = str(review.get("reason") or "")
    marker = "rejected by "
    return reason.rsplit(marker, 1)[1] if marker in reason else None


def check_slas(statuses: Statuses, announcements: Announcements) -> list[Violation]:
    violations = []
    for workflow_id, status in in_sequence(statuses):
        review = status.get("steps", {}).get(REVIEW_STEP, {})
        if not review.get("startedAt"):
            continue  # skipped, or never reached
        started = datetime.fromisoformat(review["startedAt"])
        # When the officer decided (the approval's record), not when the controller handled the outcome:
        # a decision a second before the deadline is in time, however late its event is processed.
        decided_at = (review.get("output") or {}).get("decidedAt") or review.get("finishedAt")
        finished = datetime.fromisoformat(decided_at) if decided_at else None
        heard = announcements.get(workflow_id, {})
        if not heard.get("DecisionRequested"):
            violations.append(Violation("sla", workflow_id, "the review was never announced to the officers"))
        for name, due in (
            ("DecisionReminder", started + REMINDER),
            ("WorkflowEscalated", started + DEADLINE),
        ):
            before_decision = [at for at in heard.get(name, []) if finished is None or at <= finished]
            if finished is None or finished > due:
                if not before_decision:
                    violations.append(
                        Violation("sla", workflow_id, f"undecided at {due:%d %H:%M}: no {name}")
                    )
            elif before_decision:
                violations.append(Violation("sla", workflow_id, f"decided before {due:%d %H:%M}, yet {name}"))
    return violations
