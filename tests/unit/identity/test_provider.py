"""The sandbox identity provider: test identities by document number, one recorded verdict per customer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from botocore.exceptions import ClientError

from identity.errors import ApplicantIneligibleError, IdentityProviderUnavailableError, IdentityRejectedError
from identity.provider import SandboxProvider, age_on
from identity.verification import handle
from onboarding_workflow.events import CustomerRegistered
from tests.unit.onboarding.onboarding_support import application, create_table
from workflow_core.errors import InvalidTaskInputError


@pytest.fixture
def provider(aws: None, fixed_clock: Any) -> SandboxProvider:
    return SandboxProvider(table=create_table("verifications-test"))


def applicant(number: str, **fields: Any) -> CustomerRegistered:
    document = {"kind": "PASSPORT", "number": number, "issuingCountry": "DE"}
    return CustomerRegistered.model_validate(application(document=document, **fields))


@pytest.mark.parametrize(
    ("number", "result", "risk", "reasons"),
    [
        ("PASS-1", "PASS", "LOW", ()),
        ("REFER-1", "REFER", "HIGH", ("PEP_MATCH",)),
        ("X123456", "REFER", "HIGH", ("NO_AUTOMATIC_MATCH",)),  # unknown to the sandbox: a person looks
    ],
)
def test_test_identities_pick_the_verdict(
    provider: SandboxProvider, number: str, result: str, risk: str, reasons: tuple[str, ...]
) -> None:
    verdict = provider.verify(applicant(number))
    assert (verdict.result, verdict.risk_level, verdict.reasons) == (result, risk, reasons)
    assert verdict.verification_id == "idv_cus-1"


def test_a_fail_identity_is_rejected(provider: SandboxProvider) -> None:
    with pytest.raises(IdentityRejectedError, match="DOCUMENT_MISMATCH"):
        provider.verify(applicant("FAIL-1"))


def test_a_flaky_identity_is_unavailable_twice_then_passes(provider: SandboxProvider) -> None:
    for _ in range(2):
        with pytest.raises(IdentityProviderUnavailableError):
            provider.verify(applicant("FLAKY-1"))
    assert provider.verify(applicant("FLAKY-1")).result == "PASS"


def test_the_first_verdict_stands_for_every_later_call(provider: SandboxProvider) -> None:
    first = provider.verify(applicant("REFER-1"))
    # Same customer, another document: a new attempt of the step gets the recorded verdict.
    assert provider.verify(applicant("PASS-1")) == first


def test_an_applicant_under_18_is_ineligible(provider: SandboxProvider) -> None:
    with pytest.raises(ApplicantIneligibleError, match="is 17"):
        provider.verify(applicant("PASS-1", dateOfBirth="2008-06-01"))


def test_age_counts_whole_years() -> None:
    assert age_on(date(2000, 3, 2), date(2018, 3, 1)) == 17
    assert age_on(date(2000, 3, 2), date(2018, 3, 2)) == 18


def test_the_task_lambda_answers_in_camel_case(provider: SandboxProvider) -> None:
    answer = handle({"operation": "verify", "applicant": application()}, provider=provider)
    assert answer == {
        "verificationId": "idv_cus-1",
        "result": "PASS",
        "riskLevel": "LOW",
        "reasons": [],
        "provider": "sandbox",
    }


@pytest.mark.parametrize("event", [None, [], "verify", {"operation": "approve", "applicant": {}}])
def test_the_task_lambda_answers_an_input_of_another_shape_with_a_typed_error(
    provider: SandboxProvider, event: Any
) -> None:
    # The fuzz suite's finding: these raised AttributeError or ValueError, errors no state machine names
    with pytest.raises(InvalidTaskInputError):
        handle(event, provider=provider)


def test_the_task_lambda_refuses_an_application_that_breaks_the_contract(provider: SandboxProvider) -> None:
    with pytest.raises(ApplicantIneligibleError, match="does not match the contract"):
        handle({"operation": "verify", "applicant": {"customerId": "cus-1"}}, provider=provider)


class _ThrottledTable:
    """A verifications table whose every call is throttled past the SDK's own retries."""

    def __init__(self, code: str, status: int) -> None:
        self._error = ClientError(
            {
                "Error": {"Code": code, "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "UpdateItem",
        )

    def update_item(self, **_: Any) -> Any:
        raise self._error


@pytest.mark.parametrize(
    ("code", "status"), [("ProvisionedThroughputExceededException", 400), ("InternalServerError", 500)]
)
def test_the_providers_records_throttled_past_the_sdks_retries_are_an_outage_the_flow_retries(
    fixed_clock: Any, code: str, status: int
) -> None:
    # found by the chaos profile: the raw ClientError matched no Retry, and the flow failed the customer
    provider = SandboxProvider(table=_ThrottledTable(code, status))
    with pytest.raises(IdentityProviderUnavailableError, match=code):
        handle({"operation": "verify", "applicant": application()}, provider=provider)


def test_a_refused_call_that_is_not_transient_is_not_an_outage(fixed_clock: Any) -> None:
    provider = SandboxProvider(table=_ThrottledTable("AccessDeniedException", 400))
    with pytest.raises(ClientError):
        handle({"operation": "verify", "applicant": application()}, provider=provider)
