"""Recording and closing a customer's profile: one conditionally written item per customer.

``pk=PROFILE#<customerId>`` is ACTIVE or CLOSED and holds the preferences the customer chose. The
item is also the memory that makes triggers idempotent beyond the event id (``workflow_core.undoable``,
decision 0011): a trigger that finds the profile active re-announces it; a closure that arrives before
the profile leaves a CLOSED tombstone; a trigger of an attempt the workflow already undid is refused.

Preferences that cannot be honoured (SMS without a phone number) change nothing: they follow from the
application alone, so a redelivered trigger reaches the same answer. A profile under a legal hold
(``preferences.retention``) is not closed: the closure fails and the controller escalates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from aws_lambda_powertools import Logger

from onboarding_workflow import PREFERENCES
from onboarding_workflow.events import (
    CustomerRegistered,
    PreferencesRecorded,
    PreferencesRejected,
    ProfileClosed,
    ProfileClosureFailed,
    ProfileClosureRequested,
)
from preferences.retention import under_legal_hold
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event, step_trigger
from workflow_core.envelope import ContractModel
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import STEP_RETRY_REQUESTED
from workflow_core.publisher import EventPublisher, OutgoingEvent
from workflow_core.registry import deployed
from workflow_core.undoable import Undo, UndoableRecords

PRODUCER = "preferences"
ACTIVE = "ACTIVE"
CLOSED = "CLOSED"

logger = Logger(child=True)


def profile_id_for(customer_id: str) -> str:
    return f"prf_{customer_id}"


class PreferencesService:
    """Handles the preferences step and its compensation; publishes at most one outcome per trigger."""

    def __init__(self, *, table: Any, publisher: EventPublisher) -> None:
        self.records = UndoableRecords(table, prefix="PROFILE#", live=ACTIVE, undone=CLOSED)
        self._publisher = publisher
        # What preferences handles, in one place (its queue's rules must deliver exactly these).
        self.router: EventRouter[OutgoingEvent | None] = EventRouter()
        self.router.on(*deployed().step_triggers(PREFERENCES.name), STEP_RETRY_REQUESTED)(self._on_trigger)
        self.router.on("ProfileClosureRequested")(self._on_closure_requested)

    def handle(self, event: DomainEvent) -> OutgoingEvent | None:
        """Dispatch one validated event; returns what was published (None: a stale trigger, ignored)."""
        return self.router.dispatch(event)

    def _on_trigger(self, event: DomainEvent) -> OutgoingEvent | None:
        trigger = step_trigger(event, PREFERENCES.name)
        return self.record(cast(CustomerRegistered, trigger.subject), attempt=trigger.attempt, cause=event)

    def _on_closure_requested(self, event: DomainEvent) -> OutgoingEvent:
        data = event.data
        if not isinstance(data, ProfileClosureRequested):
            raise InvalidEventError(f"{event.detail_type} carries {type(data).__name__}, not a closure")
        return self.close(data, cause=event)

    # --- record ---------------------------------------------------------------------------------------
    def record(
        self, customer: CustomerRegistered, *, attempt: int, cause: DomainEvent
    ) -> OutgoingEvent | None:
        customer_id = customer.customer_id
        existing = self.records.load(customer_id)
        if existing is not None and not self.records.may_create_over(existing, attempt):
            return self._announce_existing(existing, attempt, cause)
        chosen = customer.preferences
        if "SMS" in chosen.channels and not customer.phone:
            logger.info("preferences refused: SMS without a phone number")
            rejected = PreferencesRejected(
                customer_id=customer_id,
                reason="NO_PHONE_FOR_SMS",
                message="SMS was chosen as a channel but the application has no phone number",
            )
            return self._publish(cause, "PreferencesRejected", rejected)
        racer = self.records.create(
            customer_id,
            attempt,
            {
                "customerId": customer_id,
                "profileId": profile_id_for(customer_id),
                "email": customer.email,
                "channels": list(chosen.channels),
                "language": chosen.language,
                "marketingOptIn": chosen.marketing_opt_in,
                "legalHold": under_legal_hold(customer.email),
                "recordedAt": clock.now().isoformat(),
                "recordedBy": cause.event_id,
            },
        )
        if racer is not None:
            return self._announce_existing(racer, attempt, cause)
        logger.info("profile recorded", extra={"channels": list(chosen.channels)})
        return self._publish(cause, "PreferencesRecorded", _recorded(customer_id, chosen.model_dump()))

    def _announce_existing(
        self, item: Mapping[str, Any], attempt: int, cause: DomainEvent
    ) -> OutgoingEvent | None:
        if item.get("status") == ACTIVE:
            logger.info("profile exists; announcing it again")
            preferences = {
                "channels": tuple(item["channels"]),
                "language": item["language"],
                "marketing_opt_in": bool(item["marketingOptIn"]),
            }
            return self._publish(
                cause, "PreferencesRecorded", _recorded(str(item["customerId"]), preferences)
            )
        # The workflow already undid this attempt: recording now would keep a profile nobody closes.
        logger.warning(
            "trigger for an undone attempt ignored",
            extra={"attempt": attempt, "undone_through": self.records.undone_through(item)},
        )
        return None

    # --- close ----------------------------------------------------------------------------------------
    def close(self, request: ProfileClosureRequested, *, cause: DomainEvent) -> OutgoingEvent:
        """Close the customer's profile; every outcome echoes ``request.compensation_attempt``."""
        existing = self.records.load(request.customer_id)
        if existing is not None and existing.get("status") == ACTIVE and existing.get("legalHold"):
            failed = ProfileClosureFailed(
                customer_id=request.customer_id,
                reason=f"LEGAL_HOLD: profile {existing.get('profileId')} is under a legal hold; "
                "a person must release it before it can be closed",
                compensation_attempt=request.compensation_attempt,
            )
            return self._publish(cause, "ProfileClosureFailed", failed)
        undo = self.records.undo(
            request.customer_id,
            step_attempt=request.step_attempt,
            fields={
                "customerId": request.customer_id,
                "closedAt": clock.now().isoformat(),
                "closeReason": request.reason,
                "closedBy": cause.event_id,
            },
        )
        assert isinstance(undo, Undo)  # nothing is refused here: the hold was checked above
        profile_id = str(undo.item["profileId"]) if undo.item and "profileId" in undo.item else None
        logger.info(
            "profile closed" if undo.kind == "undone" else "nothing to close", extra={"how": undo.kind}
        )
        closed = ProfileClosed(
            customer_id=request.customer_id,
            profile_id=profile_id,
            closed=undo.kind == "undone",
            compensation_attempt=request.compensation_attempt,
        )
        return self._publish(cause, "ProfileClosed", closed)

    def _publish(self, cause: DomainEvent, detail_type: str, data: ContractModel) -> OutgoingEvent:
        event = outcome_event(cause, detail_type, data, producer=PRODUCER)
        self._publisher.publish([event])
        return event


def _recorded(customer_id: str, preferences: Mapping[str, Any]) -> PreferencesRecorded:
    return PreferencesRecorded(
        customer_id=customer_id,
        profile_id=profile_id_for(customer_id),
        channels=tuple(preferences["channels"]),
        language=str(preferences["language"]),
        marketing_opt_in=bool(preferences["marketing_opt_in"]),
    )
