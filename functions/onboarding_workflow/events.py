"""The onboarding workflow's event contracts: one model per event and schema version, and who owns each.

The customer's application (the workflow's subject) travels in every event's workflow context, so no
step's event carries it for the next step (docs/decisions/0022). Decisions taken by people carry who
took them (``decidedBy``, the caller's IAM identity as the front door authenticated it) and why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from workflow_core.catalog import EventType
from workflow_core.envelope import ContractModel
from workflow_core.lifecycle import SOURCE_CONTROLLER, CompensationOutcome, CompensationRequest

# Sources are "<domain>.<service>": the producer that owns the detail-type.
SOURCE_REGISTRATIONS = "onboarding.registrations"
SOURCE_IDENTITY = "onboarding.identity"
SOURCE_REVIEW = "onboarding.review"
SOURCE_ACCOUNTS = "onboarding.accounts"
SOURCE_PREFERENCES = "onboarding.preferences"
SOURCE_NOTICES = "onboarding.notices"

CustomerId = str
Channel = Literal["EMAIL", "SMS", "POST"]
# Decision details are flat values: a case reference, a checklist flag (lifecycle.StepDecided's shape).
DecisionDetails = dict[str, str | int | float | bool | None]


# --- the application (the subject) -----------------------------------------------------------------
class IdentityDocument(ContractModel):
    kind: Literal["PASSPORT", "ID_CARD", "DRIVING_LICENCE"]
    # The sandbox provider reads its test identities from the number's prefix (identity.provider).
    number: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    issuing_country: str = Field(pattern=r"^[A-Z]{2}$")


class CommunicationPreferences(ContractModel):
    channels: tuple[Channel, ...] = Field(min_length=1, max_length=3)
    language: str = Field(pattern=r"^[a-z]{2}$")
    marketing_opt_in: bool = False


class CustomerRegistered(ContractModel):
    """Version 1: a customer applied for an account."""

    customer_id: CustomerId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    document: IdentityDocument
    product: str = Field(default="CURRENT", min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")
    preferences: CommunicationPreferences


# --- identity verification (orchestrated) ------------------------------------------------------------
class IdentityVerified(ContractModel):
    """The provider matched the identity: PASS (low risk) or REFER (high risk: a person must review it)."""

    customer_id: CustomerId
    verification_id: str
    result: Literal["PASS", "REFER"]
    risk_level: Literal["LOW", "HIGH"]
    reasons: tuple[str, ...] = ()
    provider: str


class IdentityVerificationFailed(ContractModel):
    customer_id: CustomerId
    reason: Literal["REJECTED", "INVALID_APPLICATION", "PROVIDER_UNAVAILABLE"]
    message: str


# --- manual review (orchestrated, waits for a compliance officer) -------------------------------------
class ReviewApproved(ContractModel):
    customer_id: CustomerId
    decided_by: str = Field(min_length=1, max_length=2048)
    reason: str | None = None
    decided_at: datetime
    details: DecisionDetails = Field(default_factory=dict)


class ReviewRejected(ContractModel):
    """The officer refused the customer; ``message`` names who, so the workflow's reason does too."""

    customer_id: CustomerId
    decided_by: str = Field(min_length=1, max_length=2048)
    reason: str | None = None
    message: str
    decided_at: datetime
    details: DecisionDetails = Field(default_factory=dict)


# --- accounts (choreographed) -------------------------------------------------------------------------
class AccountProvisioned(ContractModel):
    customer_id: CustomerId
    account_id: str
    product: str


class AccountProvisioningFailed(ContractModel):
    customer_id: CustomerId
    reason: Literal["UNKNOWN_PRODUCT", "PRODUCT_RETIRED"]
    message: str


class AccountDeprovisionRequested(CompensationRequest):
    customer_id: CustomerId  # filled by the controller from the subject


class AccountDeprovisioned(CompensationOutcome):
    customer_id: CustomerId
    account_id: str | None = None  # None: nothing was provisioned (a wire form omits it)
    deprovisioned: bool = Field(description="False when no account was open, so nothing needed closing.")


class AccountDeprovisioningFailed(CompensationOutcome):
    customer_id: CustomerId
    reason: str


# --- preferences (choreographed; the service keeps the customer's profile) ------------------------------
class PreferencesRecorded(ContractModel):
    customer_id: CustomerId
    profile_id: str
    channels: tuple[Channel, ...]
    language: str
    marketing_opt_in: bool


class PreferencesRejected(ContractModel):
    customer_id: CustomerId
    reason: Literal["NO_PHONE_FOR_SMS"]
    message: str


class ProfileClosureRequested(CompensationRequest):
    customer_id: CustomerId


class ProfileClosed(CompensationOutcome):
    customer_id: CustomerId
    profile_id: str | None = None  # None: no profile existed (a wire form omits it)
    closed: bool = Field(description="False when no profile existed, so nothing needed closing.")


class ProfileClosureFailed(CompensationOutcome):
    customer_id: CustomerId
    reason: str


# --- notices (a listener: tells the customer and the compliance officers) --------------------------------
class OnboardingNoticeSent(ContractModel):
    customer_id: CustomerId
    notice_id: str
    template: str
    audience: Literal["customer", "compliance-officer"]
    channel: str


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("CustomerRegistered", SOURCE_REGISTRATIONS, {1: CustomerRegistered}),
    EventType("IdentityVerified", SOURCE_IDENTITY, {1: IdentityVerified}),
    EventType("IdentityVerificationFailed", SOURCE_IDENTITY, {1: IdentityVerificationFailed}),
    EventType("ReviewApproved", SOURCE_REVIEW, {1: ReviewApproved}),
    EventType("ReviewRejected", SOURCE_REVIEW, {1: ReviewRejected}),
    EventType("AccountProvisioned", SOURCE_ACCOUNTS, {1: AccountProvisioned}),
    EventType("AccountProvisioningFailed", SOURCE_ACCOUNTS, {1: AccountProvisioningFailed}),
    EventType("AccountDeprovisionRequested", SOURCE_CONTROLLER, {1: AccountDeprovisionRequested}),
    EventType("AccountDeprovisioned", SOURCE_ACCOUNTS, {1: AccountDeprovisioned}),
    EventType("AccountDeprovisioningFailed", SOURCE_ACCOUNTS, {1: AccountDeprovisioningFailed}),
    EventType("PreferencesRecorded", SOURCE_PREFERENCES, {1: PreferencesRecorded}),
    EventType("PreferencesRejected", SOURCE_PREFERENCES, {1: PreferencesRejected}),
    EventType("ProfileClosureRequested", SOURCE_CONTROLLER, {1: ProfileClosureRequested}),
    EventType("ProfileClosed", SOURCE_PREFERENCES, {1: ProfileClosed}),
    EventType("ProfileClosureFailed", SOURCE_PREFERENCES, {1: ProfileClosureFailed}),
    # That a notice went out: a record for audits and whoever listens; nothing must act on it.
    EventType("OnboardingNoticeSent", SOURCE_NOTICES, {1: OnboardingNoticeSent}, announcement=True),
)
