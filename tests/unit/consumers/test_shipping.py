"""Shipping: book a carrier once stock is reserved, cancel on request; one shipment per order, ever."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shipping.errors import ShipmentNotFoundError, ShipmentNotPendingError
from shipping.shipments import ShippingService
from tests.unit.consumers.consumer_support import NOW, BusTap, LambdaContext, Tables, scan_all
from workflow_core.catalog import parse_event
from workflow_core.publisher import RecordingPublisher, derived_event_id

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
    address = event["detail"]["data"]["order"]["shippingAddress"]
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
    assert first == {"orderId": "ord-1001", "shipmentId": "shp_ord-1001", "cancelled": True}
    assert second == {"orderId": "ord-1001", "shipmentId": "shp_ord-1001", "cancelled": False}


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
    assert publisher.events[-1].detail()["data"] == {"orderId": "ord-1001", "cancelled": False}
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
