"""The identity verification provider's seam, and the sandbox that ships with the kit.

The sandbox behaves like a provider's test mode: the document number's prefix picks the outcome, so a
test, the demo or a person at the API chooses a path by what they submit (README, "Test identities"):

- ``PASS...``: the identity matches, low risk: no review;
- ``REFER...``: it matches, but high risk (a politically exposed person): a compliance officer reviews;
- ``FAIL...``: the document does not match the person: ``IdentityRejectedError``;
- ``FLAKY...``: the provider is unavailable for the first two calls of that customer
  (``IdentityProviderUnavailableError``, which the state machine retries with backoff), then it passes;
- any other number: no sandbox record matches it, so it is referred to a person, as a real provider
  refers what it cannot match automatically.

Every applicant must be 18 or older (``ApplicantIneligibleError`` otherwise), whatever the document.

Each customer's check is one item (``pk=CHECK#<customerId>``): its calls are counted (the flaky outage
must survive between the retries, which are separate Lambda invocations) and its verdict is recorded
once, so a retried or repeated call returns the same verification id and verdict.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from botocore.exceptions import ClientError

from identity.errors import ApplicantIneligibleError, IdentityProviderUnavailableError, IdentityRejectedError
from onboarding_workflow.events import CustomerRegistered
from workflow_core import clock

PREFIX_PASS = "PASS"
PREFIX_REFER = "REFER"
PREFIX_FAIL = "FAIL"
PREFIX_FLAKY = "FLAKY"
FLAKY_OUTAGES = 2  # calls that fail before a FLAKY identity passes
MINIMUM_AGE = 18
SANDBOX = "sandbox"

Result = Literal["PASS", "REFER"]


@dataclass(frozen=True)
class Verification:
    verification_id: str
    result: Result
    risk_level: Literal["LOW", "HIGH"]
    reasons: tuple[str, ...]
    provider: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "verificationId": self.verification_id,
            "result": self.result,
            "riskLevel": self.risk_level,
            "reasons": list(self.reasons),
            "provider": self.provider,
        }


class IdentityProvider(ABC):
    """What the verification flow needs of a provider; a real one plugs in beside the sandbox."""

    @abstractmethod
    def verify(self, applicant: CustomerRegistered) -> Verification:
        """The verdict on the applicant's identity; raises the identity service's errors."""


def check_pk(customer_id: str) -> str:
    return f"CHECK#{customer_id}"


def verification_id_for(customer_id: str) -> str:
    return f"idv_{customer_id}"


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class SandboxProvider(IdentityProvider):
    def __init__(self, *, table: Any) -> None:
        self._table = table  # a boto3 DynamoDB Table resource

    def verify(self, applicant: CustomerRegistered) -> Verification:
        age = age_on(applicant.date_of_birth, clock.now().date())
        if age < MINIMUM_AGE:
            raise ApplicantIneligibleError(f"the applicant is {age}; accounts are for {MINIMUM_AGE} and over")
        calls, recorded = self._count_call(applicant.customer_id)
        if recorded is not None:
            return recorded
        number = applicant.document.number.upper()
        if number.startswith(PREFIX_FLAKY) and calls <= FLAKY_OUTAGES:
            raise IdentityProviderUnavailableError(
                f"sandbox outage {calls} of {FLAKY_OUTAGES} (FLAKY identity)"
            )
        if number.startswith(PREFIX_FAIL):
            raise IdentityRejectedError("DOCUMENT_MISMATCH: the document does not belong to the applicant")
        verdict = _verdict(applicant.customer_id, number)
        self._record(applicant.customer_id, verdict)
        return verdict

    def _count_call(self, customer_id: str) -> tuple[int, Verification | None]:
        """Count this call; returns the count and the verdict already recorded, if any."""
        item = self._table.update_item(
            Key={"pk": check_pk(customer_id)},
            UpdateExpression="SET customerId = :id ADD calls :one",
            ExpressionAttributeValues={":id": customer_id, ":one": 1},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        recorded = None
        if "result" in item:
            recorded = Verification(
                verification_id=str(item["verificationId"]),
                result=item["result"],
                risk_level=item["riskLevel"],
                reasons=tuple(str(r) for r in item.get("reasons", [])),
                provider=str(item["provider"]),
            )
        return int(item["calls"]), recorded

    def _record(self, customer_id: str, verdict: Verification) -> None:
        try:
            self._table.update_item(
                Key={"pk": check_pk(customer_id)},
                UpdateExpression="SET verificationId = :vid, #result = :result, riskLevel = :risk, "
                "reasons = :reasons, provider = :provider, checkedAt = :now",
                # The first verdict stands: a concurrent call that recorded it first wins.
                ConditionExpression="attribute_not_exists(#result)",
                ExpressionAttributeNames={"#result": "result"},
                ExpressionAttributeValues={
                    ":vid": verdict.verification_id,
                    ":result": verdict.result,
                    ":risk": verdict.risk_level,
                    ":reasons": list(verdict.reasons),
                    ":provider": verdict.provider,
                    ":now": clock.now().isoformat(),
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


def _verdict(customer_id: str, number: str) -> Verification:
    verification_id = verification_id_for(customer_id)
    if number.startswith((PREFIX_PASS, PREFIX_FLAKY)):
        return Verification(verification_id, "PASS", "LOW", (), SANDBOX)
    reason = "PEP_MATCH" if number.startswith(PREFIX_REFER) else "NO_AUTOMATIC_MATCH"
    return Verification(verification_id, "REFER", "HIGH", (reason,), SANDBOX)
