"""Opening and closing a customer's account: one conditionally written item per customer.

``pk=CUSTOMER#<customerId>`` is OPEN, CLOSED, or FROZEN (set by the back office outside the workflow:
a frozen account is under investigation and only a person may close it). The item is also the memory
that makes triggers idempotent beyond the event id (``workflow_core.undoable``, decision 0011):

- a trigger that finds the account open re-announces it;
- a deprovisioning records the highest step attempt it undid; one that arrives *before* the account
  was opened leaves a CLOSED tombstone, so the late trigger cannot open an account nobody would close;
- a trigger of an attempt the workflow already undid is refused: nothing is published.

A refused product changes nothing: it follows from the application alone, so a redelivered trigger
reaches the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from aws_lambda_powertools import Logger

from accounts.products import account_id_for, refusal
from onboarding_workflow import ACCOUNT
from onboarding_workflow.events import (
    AccountDeprovisioned,
    AccountDeprovisioningFailed,
    AccountDeprovisionRequested,
    AccountProvisioned,
    AccountProvisioningFailed,
    CustomerRegistered,
)
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event, step_trigger
from workflow_core.envelope import ContractModel
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import STEP_RETRY_REQUESTED
from workflow_core.publisher import EventPublisher, OutgoingEvent
from workflow_core.registry import deployed
from workflow_core.undoable import Undo, UndoableRecords

PRODUCER = "accounts"
OPEN = "OPEN"
CLOSED = "CLOSED"
FROZEN = "FROZEN"

logger = Logger(child=True)


class AccountsService:
    """Handles the account step and its compensation; publishes at most one outcome per trigger."""

    def __init__(self, *, table: Any, publisher: EventPublisher) -> None:
        self.records = UndoableRecords(table, prefix="CUSTOMER#", live=OPEN, undone=CLOSED)
        self._publisher = publisher
        # What accounts handles, in one place (its queue's rules must deliver exactly these).
        self.router: EventRouter[OutgoingEvent | None] = EventRouter()
        self.router.on(*deployed().step_triggers(ACCOUNT.name), STEP_RETRY_REQUESTED)(self._on_trigger)
        self.router.on("AccountDeprovisionRequested")(self._on_deprovision_requested)

    def handle(self, event: DomainEvent) -> OutgoingEvent | None:
        """Dispatch one validated event; returns what was published (None: a stale trigger, ignored)."""
        return self.router.dispatch(event)

    def _on_trigger(self, event: DomainEvent) -> OutgoingEvent | None:
        trigger = step_trigger(event, ACCOUNT.name)
        customer = cast(CustomerRegistered, trigger.subject)
        verification_id = str(trigger.output("verify")["verificationId"])
        return self.provision(customer, verification_id, attempt=trigger.attempt, cause=event)

    def _on_deprovision_requested(self, event: DomainEvent) -> OutgoingEvent:
        data = event.data
        if not isinstance(data, AccountDeprovisionRequested):
            raise InvalidEventError(
                f"{event.detail_type} carries {type(data).__name__}, not a deprovisioning"
            )
        return self.deprovision(data, cause=event)

    # --- provision ------------------------------------------------------------------------------------
    def provision(
        self, customer: CustomerRegistered, verification_id: str, *, attempt: int, cause: DomainEvent
    ) -> OutgoingEvent | None:
        customer_id = customer.customer_id
        existing = self.records.load(customer_id)
        if existing is not None and not self.records.may_create_over(existing, attempt):
            return self._announce_existing(existing, attempt, cause)
        refused = refusal(customer.product)
        if refused is not None:
            reason, message = refused
            logger.info("account refused", extra={"reason": reason, "product": customer.product})
            failed = AccountProvisioningFailed(customer_id=customer_id, reason=reason, message=message)
            return self._publish(cause, "AccountProvisioningFailed", failed)
        racer = self.records.create(
            customer_id,
            attempt,
            {
                "customerId": customer_id,
                "accountId": account_id_for(customer_id),
                "product": customer.product,
                "verificationId": verification_id,  # the KYC check the account was opened on
                "openedAt": clock.now().isoformat(),
                "openedBy": cause.event_id,
            },
        )
        if racer is not None:
            return self._announce_existing(racer, attempt, cause)
        logger.info("account opened", extra={"product": customer.product})
        return self._publish(cause, "AccountProvisioned", _provisioned(customer_id, customer.product))

    def _announce_existing(
        self, item: Mapping[str, Any], attempt: int, cause: DomainEvent
    ) -> OutgoingEvent | None:
        if item.get("status") in (OPEN, FROZEN) and "accountId" in item:
            logger.info("account exists; announcing it again", extra={"status": item.get("status")})
            provisioned = _provisioned(str(item["customerId"]), str(item["product"]))
            return self._publish(cause, "AccountProvisioned", provisioned)
        # The workflow already undid this attempt: opening now would leave an account nobody closes.
        logger.warning(
            "trigger for an undone attempt ignored",
            extra={"attempt": attempt, "undone_through": self.records.undone_through(item)},
        )
        return None

    # --- deprovision ----------------------------------------------------------------------------------
    def deprovision(self, request: AccountDeprovisionRequested, *, cause: DomainEvent) -> OutgoingEvent:
        """Close the customer's account; every outcome echoes ``request.compensation_attempt``."""
        undo = self.records.undo(
            request.customer_id,
            step_attempt=request.step_attempt,
            fields={
                "customerId": request.customer_id,
                "closedAt": clock.now().isoformat(),
                "closeReason": request.reason,
                "closedBy": cause.event_id,
            },
            refuse=FROZEN,
        )
        if not isinstance(undo, Undo):
            failed = AccountDeprovisioningFailed(
                customer_id=request.customer_id,
                reason=f"ACCOUNT_FROZEN: account {undo.get('accountId')} is under investigation; "
                "only the back office may close it",
                compensation_attempt=request.compensation_attempt,
            )
            return self._publish(cause, "AccountDeprovisioningFailed", failed)
        account_id = str(undo.item["accountId"]) if undo.item and "accountId" in undo.item else None
        logger.info(
            "account closed" if undo.kind == "undone" else "nothing to close", extra={"how": undo.kind}
        )
        deprovisioned = AccountDeprovisioned(
            customer_id=request.customer_id,
            account_id=account_id,
            deprovisioned=undo.kind == "undone",
            compensation_attempt=request.compensation_attempt,
        )
        return self._publish(cause, "AccountDeprovisioned", deprovisioned)

    def _publish(self, cause: DomainEvent, detail_type: str, data: ContractModel) -> OutgoingEvent:
        event = outcome_event(cause, detail_type, data, producer=PRODUCER)
        self._publisher.publish([event])
        return event


def _provisioned(customer_id: str, product: str) -> AccountProvisioned:
    return AccountProvisioned(
        customer_id=customer_id, account_id=account_id_for(customer_id), product=product
    )
