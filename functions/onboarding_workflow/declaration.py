"""The customer onboarding workflow, declared once.

Identity verification is orchestrated (the compliance step: a strict sequence, retries of a flaky
provider, every transition in the audit log). Customers the provider refers (high risk) wait for a
compliance officer's decision inside a second state machine that pauses on a task token; everyone else
skips that step. Then two teams' consumers run in parallel: accounts opens the account, preferences
records the customer's profile. The controller enforces every deadline, reminds and escalates the
review, and undoes what was done in reverse order of completion when something fails.
"""

from __future__ import annotations

from datetime import timedelta

from onboarding_workflow.events import EVENT_TYPES
from workflow_core import lifecycle
from workflow_core.conditions import fact
from workflow_core.definition import (
    Callback,
    Compensation,
    Step,
    WorkflowDefinition,
    consumer,
    state_machine,
)

# The group whose members may decide a review; the stack gives it a policy for the callback routes.
COMPLIANCE_OFFICERS = "compliance-officer"

VERIFY = Step(
    name="verify",
    runner=state_machine("identity-verification", service="identity"),
    started_by=lifecycle.WORKFLOW_STARTED,
    completed_by="IdentityVerified",
    failed_by="IdentityVerificationFailed",
    # The provider answers in seconds; the machine's retries of a flaky provider take at most ~2 minutes.
    deadline=timedelta(minutes=15),
    # No compensation: a verification changes nothing to undo, and its record must be kept (AML rules).
)

REVIEW = Step(
    name="review",
    runner=state_machine("review", service="identity"),
    after=(VERIFY.name,),
    # Only high-risk customers: the provider referred them to a person.
    when=fact("outputs.verify.result").equals("REFER"),
    completed_by="ReviewApproved",
    failed_by="ReviewRejected",
    # The compliance SLA: decided within 48 hours, a reminder after 24; a breach escalates to people
    # and the review stays open (a late decision still counts), it does not fail the customer.
    deadline=timedelta(hours=48),
    callback=Callback(approvers=COMPLIANCE_OFFICERS, reminder=timedelta(hours=24), on_deadline="escalate"),
)

ACCOUNT = Step(
    name="account",
    runner=consumer("accounts"),
    after=(REVIEW.name,),  # completed or skipped
    completed_by="AccountProvisioned",
    failed_by="AccountProvisioningFailed",
    deadline=timedelta(minutes=10),
    needs=(VERIFY.name,),  # the account records the verification it was opened on (KYC reference)
    compensation=Compensation(
        request="AccountDeprovisionRequested",
        completed_by="AccountDeprovisioned",
        failed_by="AccountDeprovisioningFailed",
        runner=consumer("accounts"),
        deadline=timedelta(minutes=30),
    ),
)

PREFERENCES = Step(
    name="preferences",
    runner=consumer("preferences"),
    after=(REVIEW.name,),  # in parallel with the account: neither gates the other
    completed_by="PreferencesRecorded",
    failed_by="PreferencesRejected",
    deadline=timedelta(minutes=10),
    compensation=Compensation(
        request="ProfileClosureRequested",
        completed_by="ProfileClosed",
        failed_by="ProfileClosureFailed",
        runner=consumer("preferences"),
        deadline=timedelta(minutes=30),
    ),
)

ONBOARDING_WORKFLOW = WorkflowDefinition(
    name="onboarding",
    version=1,
    description=(
        "Customer onboarding: verify the identity, have a compliance officer review high-risk customers, "
        "then open the account and record the preferences in parallel (CustomerOnboarded); undo in "
        "reverse order of completion when a step fails."
    ),
    start_event="CustomerRegistered",
    subject_id="customer_id",
    steps=(VERIFY, REVIEW, ACCOUNT, PREFERENCES),
    events=EVENT_TYPES,
    # Officers hear what awaits their decision and what broke its SLA; customers hear how it ended.
    listeners={
        "onboarding_notices": (
            lifecycle.DECISION_REQUESTED,
            lifecycle.DECISION_REMINDER,
            lifecycle.WORKFLOW_ESCALATED,
            *lifecycle.OUTCOME_EVENTS,
        ),
    },
)
