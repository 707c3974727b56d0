"""The onboarding scenarios: named ways an onboarding goes, each driven by what the customer submits
and, for referred customers, by what a compliance officer decides and when.

No scenario reaches into the system: the sandbox provider reads its test identities from the document
number's prefix (``PASS``, ``REFER``, ``FAIL``, ``FLAKY``), the accounts service refuses a retired
product (``GOLD-LEGACY``), the preferences service keeps profiles at a legal-hold domain
(``legal-hold.example``) from being closed. The officer's decisions go through the front door's
callback route, at a virtual time after the submission: before the 24-hour reminder, between it and
the 48-hour deadline, or after the escalation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

Verdict = Literal["complete", "reject"]
RETIRED_PRODUCT = "GOLD-LEGACY"
LEGAL_HOLD_DOMAIN = "legal-hold.example"


@dataclass(frozen=True)
class Review:
    """What the officer decides, and how long after the submission."""

    verdict: Verdict
    after: timedelta
    reason: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    document_prefix: str
    expected_status: str
    expected_compensations: tuple[str, ...] = ()
    review: Review | None = None
    product: str = "CURRENT"
    email_domain: str = "example.com"


IN_TIME = timedelta(hours=2)
AFTER_REMINDER = timedelta(hours=30)
AFTER_ESCALATION = timedelta(hours=49)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("pass", "verified at low risk: no review; account and preferences", "PASS", "COMPLETED"),
        Scenario(
            "refer_approved",
            "referred, approved within 2 hours: no reminder, no escalation",
            "REFER",
            "COMPLETED",
            review=Review("complete", IN_TIME, "documents checked in person"),
        ),
        Scenario(
            "refer_reminded",
            "referred, still undecided at 24 hours (reminder), approved at 30",
            "REFER",
            "COMPLETED",
            review=Review("complete", AFTER_REMINDER),
        ),
        Scenario(
            "refer_late",
            "referred, undecided at 48 hours (escalated, still waiting), approved at 49",
            "REFER",
            "COMPLETED",
            review=Review("complete", AFTER_ESCALATION, "approved after escalation"),
        ),
        Scenario(
            "refer_rejected",
            "referred and rejected by the officer: FAILED with the reason, no account",
            "REFER",
            "FAILED",
            review=Review("reject", IN_TIME, "source of funds not plausible"),
        ),
        Scenario("verification_failed", "the document does not match: FAILED, no account", "FAIL", "FAILED"),
        Scenario(
            "flaky_provider",
            "the provider is down twice; the machine retries, then it passes",
            "FLAKY",
            "COMPLETED",
        ),
        Scenario(
            "provisioning_fails",
            "a retired product: the account fails while preferences runs; the profile is closed",
            "PASS",
            "COMPENSATED",
            ("preferences",),
            product=RETIRED_PRODUCT,
        ),
        Scenario(
            "profile_close_fails",
            "the account fails and the profile is under a legal hold: its closure fails, escalated",
            "PASS",
            "NEEDS_ATTENTION",
            product=RETIRED_PRODUCT,
            email_domain=LEGAL_HOLD_DOMAIN,
        ),
    )
}

DEFAULT_MIX = {
    "pass": 55,
    "refer_approved": 10,
    "refer_reminded": 5,
    "refer_late": 3,
    "refer_rejected": 7,
    "verification_failed": 7,
    "flaky_provider": 5,
    "provisioning_fails": 5,
    "profile_close_fails": 3,
}


def application_for(scenario: Scenario, customer_id: str) -> dict[str, Any]:
    """The CustomerRegistered data (wire form) of one customer who follows ``scenario``."""
    return {
        "customerId": customer_id,
        "givenName": "Test",
        "familyName": f"Customer {customer_id}",
        "dateOfBirth": "1988-04-12",
        "email": f"{customer_id}@{scenario.email_domain}",
        "phone": "+4915100000000",
        "country": "DE",
        "document": {
            "kind": "PASSPORT",
            "number": document_number(scenario, customer_id),
            "issuingCountry": "DE",
        },
        "product": scenario.product,
        "preferences": {"channels": ["EMAIL", "SMS"], "language": "en", "marketingOptIn": False},
    }


def document_number(scenario: Scenario, customer_id: str) -> str:
    """The scenario's test identity: its prefix, then the customer id in the characters a number allows."""
    return f"{scenario.document_prefix}-{re.sub(r'[^A-Za-z0-9-]', '-', customer_id)}"[:40]
