"""Shipping: book a carrier once stock is reserved, cancel on request; one shipment per order, ever."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from order_workflow import ORDER_WORKFLOW
from shipping.errors import ShipmentNotFoundError, ShipmentNotPendingError
from shipping.shipments import ShippingService
from tests.unit.consumers.consumer_support import (
    NOW,
    BusTap,
    LambdaContext,
    Tables,
    emitted_metrics,
    scan_all,
)
from workflow_core.publisher import RecordingPublisher, derived_event_id
from workflow_core.registry import deployed, parse_event

RESERVED_ID = "evt-inventory-reserved"  # the id of the InventoryReserved fixture

MakeEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def service(tables: Tables, publisher: RecordingPublisher, fixed_clock: Any) -> ShippingService:
    return ShippingService(table=tables.shipments, publisher=publisher)


def reserved(make: MakeEvent, *, country: str = "DE", line1: str = "Hauptstrasse 5", **kwargs: Any) -> Any:
    event = make("inventory_reserved", **kwargs)
    address = event["detail"]["workflow"]["subject"]["shippingAddress"]
    address.update(country=country, line1=line1)
    return parse_event(event)


def test_schedules_with_the_country_carrier_and_its_transit_time(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN stock reserved for an order to Germany
    # WHEN shipping handles InventoryReserved
    service.handle(reserved(eventbridge_event))
    # THEN ShippingScheduled with DHL, delivery two days out, and a SCHEDULED shipment
    (event,) = publisher.events
    assert event.detail_type == "ShippingScheduled"
    assert event.metadata.event_id == derived_event_id(RESERVED_ID, "ShippingScheduled")
    assert event.detail()["data"] == {
        "orderId": "ord-1001",
        "shipmentId": "shp_ord-1001",
        "carrier": "DHL",
        "estimatedDelivery": (NOW + timedelta(days=2)).isoformat().replace("+00:00", "Z"),
    }
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.status == "SCHEDULED"


@pytest.mark.parametrize(
    ("country", "line1", "reason"),
    [
        ("AQ", "McMurdo Station", "NO_CARRIER"),
        ("BR", "Rua Augusta 10", "NO_CARRIER"),
        ("US", "P.O. Box 1234", "UNDELIVERABLE_ADDRESS"),
        ("IT", "Casella postale? no: PO Box 77", "UNDELIVERABLE_ADDRESS"),
    ],
)
def test_unshippable_orders_fail_explicitly_and_book_nothing(
    service: ShippingService,
    *,
    tables: Tables,
    publisher: RecordingPublisher,
    eventbridge_event: MakeEvent,
    country: str,
    line1: str,
    reason: str,
) -> None:
    # GIVEN an order no carrier can deliver
    # WHEN shipping handles InventoryReserved
    service.handle(reserved(eventbridge_event, country=country, line1=line1))
    # THEN ShippingFailed with the reason, and no shipment recorded
    (event,) = publisher.events
    assert event.detail_type == "ShippingFailed"
    assert event.detail()["data"]["reason"] == reason
    assert scan_all(tables.shipments) == []


def test_a_po_box_is_fine_where_the_carrier_delivers_to_po_boxes(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    service.handle(reserved(eventbridge_event, country="DE", line1="Postfach 10 01 01"))
    assert publisher.detail_types() == ["ShippingScheduled"]


def test_manual_booking_waits_for_the_carrier_then_confirms_once(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent, fixed_clock: Any
) -> None:
    # GIVEN an order to Greenland, where the carrier confirms bookings by hand
    service.handle(reserved(eventbridge_event, country="GL"))
    # THEN the shipment waits for confirmation and nothing is announced yet (the 24h deadline watches it)
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.status == "PENDING_CONFIRMATION"
    assert publisher.events == []
    # WHEN the carrier confirms a day later, twice (callbacks are at-least-once too)
    fixed_clock(NOW + timedelta(days=1))
    first = service.confirm_shipment("ord-1001")
    second = service.confirm_shipment("ord-1001")
    # THEN ShippingScheduled is published with the id the automatic path would have used, both times
    assert first.metadata.event_id == derived_event_id(RESERVED_ID, "ShippingScheduled")
    assert first.metadata.causation_id == RESERVED_ID
    assert first.metadata.correlation_id == "ord-1001"
    assert second.metadata.event_id == first.metadata.event_id
    assert first.detail()["data"] == second.detail()["data"]
    assert first.detail()["data"]["carrier"] == "Tusass"
    assert first.data.estimated_delivery == NOW + timedelta(days=11)  # type: ignore[attr-defined]
    # AND it carries the workflow context of the booking, with inventory's output: routed like any step's
    trigger = reserved(eventbridge_event, country="GL")
    assert trigger.workflow is not None
    assert first.detail()["workflow"] == {
        **trigger.workflow.to_wire(),
        "outputs": {**trigger.workflow.outputs, "inventory": trigger.data.to_wire()},
    }
    with pytest.raises(ShipmentNotFoundError):
        service.confirm_shipment("ord-unknown")


def test_redelivered_trigger_with_a_new_id_reannounces_the_same_shipment(
    service: ShippingService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a scheduled shipment
    service.handle(reserved(eventbridge_event))
    after_first = scan_all(tables.shipments)
    # WHEN the trigger is replayed under a new id, and a retry of the step arrives too
    service.handle(reserved(eventbridge_event, event_id="evt-replayed"))
    service.handle(parse_event(eventbridge_event("step_retry_requested_shipping")))
    # THEN the same shipment (carrier, estimate) is announced again and nothing new is booked
    assert publisher.detail_types() == ["ShippingScheduled"] * 3
    assert {str(e.detail()["data"]) for e in publisher.events} == {str(publisher.events[0].detail()["data"])}
    assert scan_all(tables.shipments) == after_first


def test_cancel_a_scheduled_shipment_then_again(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a scheduled shipment
    service.handle(reserved(eventbridge_event))
    # WHEN the cancellation is requested twice (the second under a new id)
    service.handle(parse_event(eventbridge_event("shipment_cancellation_requested")))
    service.handle(parse_event(eventbridge_event("shipment_cancellation_requested", event_id="evt-cancel-2")))
    # THEN it is cancelled once; the second answer says there was nothing left to cancel
    first, second = (e.detail()["data"] for e in publisher.events[1:])
    assert first == {
        "orderId": "ord-1001",
        "shipmentId": "shp_ord-1001",
        "cancelled": True,
        "compensationAttempt": 1,
    }
    assert second == {
        "orderId": "ord-1001",
        "shipmentId": "shp_ord-1001",
        "cancelled": False,
        "compensationAttempt": 1,
    }


def test_a_dispatched_shipment_cannot_be_cancelled(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN the parcel already left the warehouse
    service.handle(reserved(eventbridge_event))
    service.mark_dispatched("ord-1001")
    # WHEN the cancellation is requested
    service.handle(parse_event(eventbridge_event("shipment_cancellation_requested")))
    # THEN ShipmentCancellationFailed says why, and the shipment stays dispatched
    failed = publisher.events[-1]
    assert failed.detail_type == "ShipmentCancellationFailed"
    assert failed.detail()["data"]["reason"].startswith("ALREADY_DISPATCHED")
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.status == "DISPATCHED"


def test_cancelling_a_pending_manual_booking_stops_its_confirmation(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    service.handle(reserved(eventbridge_event, country="IS"))
    service.handle(parse_event(eventbridge_event("shipment_cancellation_requested")))
    assert publisher.events[-1].detail()["data"]["cancelled"] is True
    with pytest.raises(ShipmentNotPendingError):
        service.confirm_shipment("ord-1001")


def test_cancellation_before_booking_blocks_the_late_trigger_but_not_a_retry(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN the cancellation overtook InventoryReserved (reordering)
    service.handle(parse_event(eventbridge_event("shipment_cancellation_requested")))
    assert publisher.events[-1].detail()["data"] == {
        "orderId": "ord-1001",
        "cancelled": False,
        "compensationAttempt": 1,
    }
    # WHEN the late InventoryReserved arrives
    outcome = service.handle(reserved(eventbridge_event))
    # THEN nothing is booked: the workflow already undid this step
    assert outcome is None
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.status == "CANCELLED"
    # AND an explicit retry of the step (attempt 2) books it
    service.handle(parse_event(eventbridge_event("step_retry_requested_shipping")))
    assert publisher.detail_types() == ["ShipmentCancelled", "ShippingScheduled"]


# --- attempts: a trigger of an attempt the workflow already undid never books ------------------------------
def retry(make: MakeEvent, attempt: int) -> Any:
    return parse_event(
        make("step_retry_requested_shipping", event_id=f"evt-retry-{attempt}", attempt=attempt)
    )


def cancellation(make: MakeEvent, *, step_attempt: int, compensation_attempt: int = 1) -> Any:
    event_id = f"evt-cancel-{step_attempt}-{compensation_attempt}"
    return parse_event(
        make(
            "shipment_cancellation_requested",
            event_id=event_id,
            stepAttempt=step_attempt,
            compensationAttempt=compensation_attempt,
        )
    )


def test_a_delayed_retry_of_the_attempt_already_cancelled_books_nothing(
    service: ShippingService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN attempt 1 booked; an operator retried the step (attempt 2), then the workflow compensated it:
    # the cancellation names stepAttempt 2 and overtakes the retry's trigger
    service.handle(reserved(eventbridge_event))
    service.handle(cancellation(eventbridge_event, step_attempt=2))
    before = scan_all(tables.shipments)
    # WHEN the delayed StepRetryRequested(attempt 2) arrives
    outcome = service.handle(retry(eventbridge_event, 2))
    # THEN nothing is booked or announced: attempt 2 is already undone
    assert outcome is None
    assert publisher.detail_types() == ["ShippingScheduled", "ShipmentCancelled"]
    assert scan_all(tables.shipments) == before
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert (shipment.status, shipment.undone_through) == ("CANCELLED", 2)


def test_a_retry_newer_than_the_cancellation_books_for_the_controller_to_compensate(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN attempt 1 booked and cancelled (stepAttempt 1)
    service.handle(reserved(eventbridge_event))
    service.handle(cancellation(eventbridge_event, step_attempt=1))
    # WHEN a retry for attempt 2 arrives (the cancellation did not cover it)
    outcome = service.handle(retry(eventbridge_event, 2))
    # THEN it books; the controller sees this late completion and compensates it
    assert outcome is not None
    assert outcome.detail_type == "ShippingScheduled"
    # AND the cancellation of attempt 2 cancels it and refuses attempt 2 from then on
    cancelled = service.handle(cancellation(eventbridge_event, step_attempt=2, compensation_attempt=2))
    assert cancelled is not None
    assert cancelled.detail()["data"]["cancelled"] is True
    assert service.handle(retry(eventbridge_event, 2)) is None
    assert publisher.detail_types() == [
        "ShippingScheduled",
        "ShipmentCancelled",
        "ShippingScheduled",
        "ShipmentCancelled",
    ]


def test_a_repeated_cancellation_keeps_the_highest_undone_attempt(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a booking cancelled for stepAttempt 1, then for 3, then (stale) for 2
    service.handle(reserved(eventbridge_event))
    service.handle(cancellation(eventbridge_event, step_attempt=1))
    service.handle(cancellation(eventbridge_event, step_attempt=3, compensation_attempt=2))
    service.handle(cancellation(eventbridge_event, step_attempt=2, compensation_attempt=3))
    # THEN attempts up to 3 stay undone: retries 2 and 3 book nothing, 4 may
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.undone_through == 3
    assert service.handle(retry(eventbridge_event, 2)) is None
    assert service.handle(retry(eventbridge_event, 3)) is None
    outcome = service.handle(retry(eventbridge_event, 4))
    assert outcome is not None
    assert outcome.detail_type == "ShippingScheduled"


def test_a_tombstone_refuses_every_attempt_its_cancellation_named(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a cancellation for stepAttempt 2 overtook both triggers
    service.handle(cancellation(eventbridge_event, step_attempt=2))
    # WHEN the late InventoryReserved (attempt 1) and StepRetryRequested (attempt 2) arrive
    assert service.handle(reserved(eventbridge_event)) is None
    assert service.handle(retry(eventbridge_event, 2)) is None
    # THEN neither books nor announces anything
    assert publisher.detail_types() == ["ShipmentCancelled"]
    shipment = service.load("ord-1001")
    assert shipment is not None
    assert shipment.shipment_id is None


def test_every_cancellation_outcome_echoes_its_compensation_attempt(
    service: ShippingService, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # a tombstone (nothing booked yet)
    service.handle(cancellation(eventbridge_event, step_attempt=1, compensation_attempt=2))
    # a cancellation of a booking, then its re-announcement to a later compensation attempt
    service.handle(retry(eventbridge_event, 2))
    service.handle(cancellation(eventbridge_event, step_attempt=2, compensation_attempt=3))
    service.handle(cancellation(eventbridge_event, step_attempt=2, compensation_attempt=4))
    cancelled = [e.detail()["data"] for e in publisher.events if e.detail_type == "ShipmentCancelled"]
    assert [(d["cancelled"], d["compensationAttempt"]) for d in cancelled] == [
        (False, 2),
        (True, 3),
        (False, 4),
    ]
    # a refused cancellation (already dispatched) echoes it too
    service.handle(retry(eventbridge_event, 3))
    service.mark_dispatched("ord-1001")
    service.handle(cancellation(eventbridge_event, step_attempt=3, compensation_attempt=5))
    failed = publisher.events[-1]
    assert failed.detail_type == "ShipmentCancellationFailed"
    assert failed.detail()["data"]["compensationAttempt"] == 5


def test_a_shipment_written_before_undone_through_existed_counts_its_own_attempt_as_undone(
    service: ShippingService, tables: Tables, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a CANCELLED item of attempt 2 without undoneThrough (written by the previous version)
    tables.shipments.put_item(
        Item={"pk": "ORDER#ord-1001", "orderId": "ord-1001", "status": "CANCELLED", "attempt": 2}
    )
    # THEN attempt 2 is refused, attempt 3 books
    assert service.handle(retry(eventbridge_event, 2)) is None
    outcome = service.handle(retry(eventbridge_event, 3))
    assert outcome is not None
    assert outcome.detail_type == "ShippingScheduled"


def test_the_router_handles_exactly_what_the_workflow_subscribes_shipping_to(
    service: ShippingService,
) -> None:
    # The order workflow is the only one that subscribes shipping.
    assert {d.name for d in deployed().definitions if "shipping" in d.consumer_subscriptions()} == {"order"}
    # What every live version of it subscribes it to: v2 adds the carrier desk's decisions.
    subscribed = {t for d in deployed().versions("order") for t in d.consumer_subscriptions()["shipping"]}
    assert set(service.router.detail_types) == subscribed
    assert subscribed == {*ORDER_WORKFLOW.consumer_subscriptions()["shipping"], "StepDecided"}


@pytest.mark.usefixtures("fixed_clock")
def test_handler_books_once_per_delivery_and_dead_letters_bad_events(
    load_handler: Callable[[str], Any],
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
) -> None:
    # GIVEN one InventoryReserved delivered twice, next to a malformed event and an unknown version
    handler = load_handler("shipping.handler")
    good = eventbridge_event("inventory_reserved")
    malformed = eventbridge_event("inventory_reserved", event_id="evt-bad", orderId=None)
    future = eventbridge_event("inventory_reserved", event_id="evt-v9")
    future["detail"]["metadata"]["schemaVersion"] = 9
    # WHEN the handler processes the batch
    response = handler.lambda_handler(sqs_batch(good, malformed, future, good), LambdaContext())
    # THEN only the bad records fail, one shipment exists and one ShippingScheduled reached the bus
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}, {"itemIdentifier": "msg-2"}]}
    assert [i["pk"] for i in scan_all(tables.shipments)] == ["ORDER#ord-1001"]
    published = bus.events()
    assert [e["detail-type"] for e in published] == ["ShippingScheduled"]
    assert published[0]["source"] == "commerce.shipping"


@pytest.mark.usefixtures("fixed_clock")
def test_handler_counts_a_refused_trigger_and_every_failed_record(
    load_handler: Callable[[str], Any],
    *,
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a shipment cancelled for stepAttempt 2 before anything was booked
    handler = load_handler("shipping.handler")
    handler.lambda_handler(
        sqs_batch(eventbridge_event("shipment_cancellation_requested", stepAttempt=2)), LambdaContext()
    )
    capsys.readouterr()
    # WHEN a batch brings the delayed retry of attempt 2, plus a record that fails
    batch = sqs_batch(eventbridge_event("step_retry_requested_shipping"), "{")
    response = handler.lambda_handler(batch, LambdaContext())
    # THEN the retry books nothing and publishes nothing, only a metric; the bad record is counted
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert bus.detail_types() == ["ShipmentCancelled"]
    assert [i.get("shipmentId") for i in scan_all(tables.shipments)] == [None]
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["NothingToAnnounce"] == 1
    assert metrics["RecordsFailed"] == 1
