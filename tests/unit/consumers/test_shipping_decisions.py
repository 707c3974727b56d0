"""Shipping and the carrier desk: a manual booking confirmed or declined through the callback route.

The decision reaches shipping as ``StepDecided`` (order v2); shipping confirms (ShippingScheduled, the id the
automatic path would have used) or cancels the booking for its attempt and reports ShippingFailed
``CARRIER_DECLINED``. A decision that overtakes its booking is retried by SQS; bad details are dead-lettered.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shipping.errors import BookingNotRecordedError, InvalidDecisionError
from shipping.shipments import ShippingService
from tests.unit.consumers.consumer_support import NOW, BusTap, LambdaContext, Tables, scan_all
from workflow_core.catalog import DomainEvent
from workflow_core.errors import RetryableError, TerminalError
from workflow_core.publisher import RecordingPublisher, derived_event_id
from workflow_core.registry import parse_event

RESERVED_ID = "evt-inventory-reserved"  # the id of the InventoryReserved fixture
DESK = "arn:aws:sts::123456789012:assumed-role/carrier-desk/ana"

MakeEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def service(tables: Tables, publisher: RecordingPublisher, fixed_clock: Any) -> ShippingService:
    return ShippingService(table=tables.shipments, publisher=publisher)


def _v2(event: dict[str, Any]) -> dict[str, Any]:
    event["detail"]["workflow"]["version"] = 2  # the version whose shipping takes decisions
    return event


def reserved(make: MakeEvent, *, country: str = "GL", **kwargs: Any) -> DomainEvent:
    event = _v2(make("inventory_reserved", **kwargs))
    event["detail"]["workflow"]["subject"]["shippingAddress"]["country"] = country
    return parse_event(event)


def decided(
    make: MakeEvent,
    decision: str,
    *,
    attempt: int = 1,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    country: str = "GL",
) -> DomainEvent:
    """The StepDecided the front door publishes for the order's shipping step (its id names the attempt)."""
    event = _v2(copy.deepcopy(make("inventory_reserved")))
    event["detail"]["workflow"]["subject"]["shippingAddress"]["country"] = country
    event["detail-type"], event["source"] = "StepDecided", "workflow.callback"
    event["detail"]["metadata"].update(eventId=f"decision:ord-1001:shipping:{attempt}", producer="frontdoor")
    event["detail"]["metadata"]["schemaVersion"] = 1
    event["detail"]["data"] = {
        "workflowId": "ord-1001",
        "step": "shipping",
        "attempt": attempt,
        "decision": decision,
        "decidedBy": DESK,
        "reason": reason,
        "decidedAt": NOW.isoformat(),
        "details": details or {},
    }
    return parse_event(event)


def test_a_confirmation_schedules_the_pending_booking_as_the_automatic_path_would(
    service: ShippingService,
    *,
    tables: Tables,
    publisher: RecordingPublisher,
    eventbridge_event: MakeEvent,
    fixed_clock: Any,
) -> None:
    # GIVEN a booking with a carrier that books by hand, waiting
    service.handle(reserved(eventbridge_event))
    assert publisher.events == []
    # WHEN the carrier desk confirms it hours later, with the carrier's estimate and booking number
    fixed_clock(NOW + timedelta(hours=3))
    details = {"estimatedDelivery": "2025-03-09", "reference": "TUS-88412"}
    outcome = service.handle(decided(eventbridge_event, "complete", details=details))
    # THEN ShippingScheduled, with the id derived from the trigger that booked it, and the desk's estimate
    assert outcome is not None
    assert outcome.detail_type == "ShippingScheduled"
    assert outcome.metadata.event_id == derived_event_id(RESERVED_ID, "ShippingScheduled")
    assert outcome.detail()["data"]["estimatedDelivery"] == "2025-03-09T00:00:00Z"
    assert outcome.detail()["data"]["carrier"] == "Tusass"
    # AND the shipment records who confirmed it and the carrier's reference
    (item,) = scan_all(tables.shipments)
    assert (item["status"], item["carrierReference"], item["confirmedBy"]) == ("SCHEDULED", "TUS-88412", DESK)


def test_a_confirmation_without_details_estimates_from_the_route(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    service.handle(reserved(eventbridge_event))
    outcome = service.handle(decided(eventbridge_event, "complete"))
    assert outcome is not None
    assert outcome.data.estimated_delivery == NOW + timedelta(days=10)  # type: ignore[attr-defined]


def test_a_refusal_cancels_the_booking_for_its_attempt_and_reports_why(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a pending manual booking
    service.handle(reserved(eventbridge_event))
    # WHEN the carrier desk declines it
    decision = decided(eventbridge_event, "reject", reason="no capacity on the March ship")
    outcome = service.handle(decision)
    # THEN ShippingFailed CARRIER_DECLINED, naming the carrier, the decider and the reason
    assert outcome is not None
    assert outcome.detail_type == "ShippingFailed"
    assert outcome.metadata.event_id == derived_event_id(decision.event_id, "ShippingFailed")
    data = outcome.detail()["data"]
    assert data["reason"] == "CARRIER_DECLINED"
    assert data["message"] == f"Tusass declined the booking ({DESK}): no capacity on the March ship"
    assert outcome.metadata.schema_version == 2
    # AND the booking is cancelled for its attempt: a late trigger of it books nothing
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert (shipment.status, shipment.undone_through) == ("CANCELLED", 1)
    assert service.handle(reserved(eventbridge_event, event_id="evt-late-trigger")) is None
    assert publisher.detail_types() == ["ShippingFailed"]


def test_a_redelivered_refusal_reports_the_same_failure_again_and_changes_nothing(
    service: ShippingService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    service.handle(reserved(eventbridge_event))
    first = service.handle(decided(eventbridge_event, "reject", reason="no capacity"))
    after_first = scan_all(tables.shipments)
    again = service.handle(decided(eventbridge_event, "reject", reason="no capacity"))
    assert first is not None
    assert again is not None
    assert again.metadata.event_id == first.metadata.event_id
    assert again.detail()["data"] == first.detail()["data"]
    assert scan_all(tables.shipments) == after_first


def test_a_redelivered_confirmation_republishes_the_same_event(
    service: ShippingService, eventbridge_event: MakeEvent
) -> None:
    service.handle(reserved(eventbridge_event))
    first = service.handle(decided(eventbridge_event, "complete"))
    again = service.handle(decided(eventbridge_event, "complete"))
    assert first is not None
    assert again is not None
    assert (again.metadata.event_id, again.detail()["data"]) == (
        first.metadata.event_id,
        first.detail()["data"],
    )


def test_a_decision_before_its_booking_is_retried_not_dead_lettered(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN the decision overtook InventoryReserved (the trigger is still in flight)
    with pytest.raises(BookingNotRecordedError) as raised:
        service.handle(decided(eventbridge_event, "complete"))
    # THEN it is a retryable error: SQS redelivers it, and nothing changed meanwhile
    assert isinstance(raised.value, RetryableError)
    assert service.load("ord-1001") is None
    # WHEN the booking is recorded and the decision comes again
    service.handle(reserved(eventbridge_event))
    outcome = service.handle(decided(eventbridge_event, "complete"))
    # THEN it confirms it
    assert outcome is not None
    assert publisher.detail_types() == ["ShippingScheduled"]


def test_on_an_automatic_booking_a_confirmation_repeats_it_and_a_refusal_changes_nothing(
    service: ShippingService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN an order to Germany, booked and scheduled at once
    scheduled = service.handle(reserved(eventbridge_event, country="DE"))
    before = scan_all(tables.shipments)
    # WHEN the desk confirms it, then declines it
    confirmed = service.handle(decided(eventbridge_event, "complete", country="DE"))
    declined = service.handle(decided(eventbridge_event, "reject", attempt=2, country="DE"))
    # THEN the confirmation republishes the same ShippingScheduled; the refusal is only logged
    assert scheduled is not None
    assert confirmed is not None
    assert confirmed.metadata.event_id == scheduled.metadata.event_id
    assert declined is None
    assert publisher.detail_types() == ["ShippingScheduled", "ShippingScheduled"]
    assert scan_all(tables.shipments) == before


def test_a_decision_after_the_workflow_cancelled_the_booking_changes_nothing(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN the booking was cancelled by the compensation (the 24 h deadline passed)
    service.handle(reserved(eventbridge_event))
    cancel = _v2(eventbridge_event("shipment_cancellation_requested"))
    service.handle(parse_event(cancel))
    # WHEN a confirmation or refusal arrives late
    assert service.handle(decided(eventbridge_event, "complete")) is None
    assert service.handle(decided(eventbridge_event, "reject", attempt=1)) is None
    # THEN nothing is booked again, nothing announced
    assert publisher.detail_types() == ["ShipmentCancelled"]
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.status == "CANCELLED"


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"estimatedDelivery": "next tuesday"}, "not an ISO date"),
        ({"estimatedDelivery": "2025-02-01"}, "in the past"),
        ({"estimatedDelivery": "2027-03-01"}, "more than a year away"),
        ({"estimatedDelivery": "2025-03-09T10:00:00"}, "needs its UTC offset"),
        ({"estimatedDelivery": 20250309}, "must be an ISO date"),
        ({"reference": "TUS 88412; drop table"}, "must be 1 to 64"),
        ({"reference": ""}, "must be 1 to 64"),
        ({"estimated_delivery": "2025-03-09"}, "a typo"),
    ],
)
def test_a_confirmation_with_details_shipping_cannot_use_is_refused_and_changes_nothing(
    service: ShippingService,
    *,
    tables: Tables,
    publisher: RecordingPublisher,
    eventbridge_event: MakeEvent,
    details: dict[str, Any],
    message: str,
) -> None:
    service.handle(reserved(eventbridge_event))
    before = scan_all(tables.shipments)
    with pytest.raises(InvalidDecisionError, match=message) as raised:
        service.handle(decided(eventbridge_event, "complete", details=details))
    assert isinstance(raised.value, TerminalError)  # dead-lettered, never retried in a loop
    assert scan_all(tables.shipments) == before
    assert publisher.events == []


def test_an_estimate_with_its_offset_is_kept_in_utc(
    service: ShippingService, eventbridge_event: MakeEvent
) -> None:
    service.handle(reserved(eventbridge_event))
    details = {"estimatedDelivery": "2025-03-09T10:00:00+02:00"}
    outcome = service.handle(decided(eventbridge_event, "complete", details=details))
    assert outcome is not None
    assert outcome.detail()["data"]["estimatedDelivery"] == "2025-03-09T08:00:00Z"


@pytest.mark.usefixtures("fixed_clock")
def test_handler_retries_an_early_decision_and_dead_letters_a_bad_one(
    load_handler: Callable[[str], Any],
    *,
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
) -> None:
    handler = load_handler("shipping.handler")
    early = decided(eventbridge_event, "complete")
    # WHEN the decision arrives before the booking: the record fails (SQS redelivers), nothing published
    body = _wire(eventbridge_event, early)
    assert handler.lambda_handler(sqs_batch(body), LambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": "msg-0"}]
    }
    assert bus.detail_types() == []
    # WHEN the booking is recorded and the same decision is redelivered: it confirms, once
    booking = _v2(eventbridge_event("inventory_reserved"))
    booking["detail"]["workflow"]["subject"]["shippingAddress"]["country"] = "GL"
    handler.lambda_handler(sqs_batch(booking), LambdaContext())
    assert [i["status"] for i in scan_all(tables.shipments)] == ["PENDING_CONFIRMATION"]
    assert handler.lambda_handler(sqs_batch(body), LambdaContext()) == {"batchItemFailures": []}
    assert bus.detail_types() == ["ShippingScheduled"]


def _wire(make: MakeEvent, event: DomainEvent) -> dict[str, Any]:
    """``event`` back in EventBridge's form, as its queue delivers it."""
    raw = _v2(make("inventory_reserved"))
    raw["detail-type"], raw["source"] = event.detail_type, event.source
    raw["detail"]["metadata"] = event.metadata.to_wire()
    raw["detail"]["data"] = event.data.to_wire()
    raw["detail"]["workflow"]["subject"]["shippingAddress"]["country"] = "GL"
    return raw


def test_an_estimate_valid_when_the_desk_decided_stays_valid_when_shipping_handles_it_later(
    service: ShippingService, eventbridge_event: MakeEvent, fixed_clock: Any
) -> None:
    # GIVEN a confirmation decided just before midnight, estimating delivery that same day (the front
    # door accepted it then)
    service.handle(reserved(eventbridge_event))
    details = {"estimatedDelivery": NOW.date().isoformat()}
    # WHEN shipping handles it after midnight (a queue's redelivery delay, say)
    fixed_clock(NOW + timedelta(days=1))
    outcome = service.handle(decided(eventbridge_event, "complete", details=details))
    # THEN it is judged as of the decision, not refused as "in the past" and dead-lettered
    assert outcome is not None
    assert outcome.detail_type == "ShippingScheduled"
