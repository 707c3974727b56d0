"""Inventory: reserve on PaymentProcessed, release on request; never oversell, never double-apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inventory.reservations import InventoryService
from inventory.stock import read_stock, seed_stock
from tests.unit.consumers.consumer_support import BusTap, LambdaContext, Tables, scan_all
from workflow_core.catalog import parse_event
from workflow_core.errors import InvalidEventError
from workflow_core.publisher import RecordingPublisher, derived_event_id

MakeEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def service(tables: Tables, publisher: RecordingPublisher, fixed_clock: Any) -> InventoryService:
    return InventoryService(table=tables.inventory, publisher=publisher)


def stock(tables: Tables, sku: str) -> dict[str, int] | None:
    return read_stock(tables.inventory, sku)


# --- reserve ------------------------------------------------------------------------------------------
def test_reserves_all_lines_in_one_transaction_merging_duplicate_skus(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN stock for both SKUs of an order that lists SKU-RED twice (2 + 1 units)
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    # WHEN payment is processed
    service.handle(parse_event(eventbridge_event("payment_processed")))
    # THEN one InventoryReserved with an id derived from the cause, and stock moved to reserved
    (event,) = publisher.events
    assert event.detail_type == "InventoryReserved"
    assert event.metadata.event_id == derived_event_id("evt-payment-processed", "InventoryReserved")
    assert event.metadata.correlation_id == "ord-1001"
    assert event.metadata.causation_id == "evt-payment-processed"
    assert event.detail()["data"]["reservationId"] == "res_ord-1001"
    assert stock(tables, "SKU-RED") == {"available": 2, "reserved": 3}
    assert stock(tables, "SKU-BLUE") == {"available": 1, "reserved": 1}
    reservation = service.load("ord-1001")
    assert reservation is not None
    assert reservation.status == "RESERVED"
    assert dict(reservation.lines) == {"SKU-BLUE": 1, "SKU-RED": 3}


def test_out_of_stock_fails_with_the_short_skus_and_changes_nothing(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN SKU-RED has only 2 of the 3 units the order needs
    seed_stock(tables.inventory, {"SKU-RED": 2, "SKU-BLUE": 2})
    before = scan_all(tables.inventory)
    # WHEN payment is processed
    service.handle(parse_event(eventbridge_event("payment_processed")))
    # THEN InventoryReservationFailed OUT_OF_STOCK names SKU-RED, and no stock or reservation changed
    (event,) = publisher.events
    assert event.detail_type == "InventoryReservationFailed"
    assert event.detail()["data"] == {"orderId": "ord-1001", "reason": "OUT_OF_STOCK", "skus": ["SKU-RED"]}
    assert scan_all(tables.inventory) == before


def test_unknown_sku_fails_as_unknown_sku(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN SKU-BLUE is not in the catalogue at all (and SKU-RED is short too)
    seed_stock(tables.inventory, {"SKU-RED": 1})
    # WHEN payment is processed
    service.handle(parse_event(eventbridge_event("payment_processed")))
    # THEN the unknown SKU is the reason: no restock would fix it
    (event,) = publisher.events
    assert event.detail()["data"]["reason"] == "UNKNOWN_SKU"
    assert event.detail()["data"]["skus"] == ["SKU-BLUE"]
    assert service.load("ord-1001") is None


def test_redelivered_trigger_with_a_new_event_id_reannounces_without_touching_stock(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN an order already reserved
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    after_first = scan_all(tables.inventory)
    # WHEN the same trigger is replayed from the archive under a new event id
    service.handle(parse_event(eventbridge_event("payment_processed", event_id="evt-replayed")))
    # THEN InventoryReserved is announced again (new id, same reservation) and stock is unchanged
    assert publisher.detail_types() == ["InventoryReserved", "InventoryReserved"]
    assert publisher.events[1].metadata.event_id == derived_event_id("evt-replayed", "InventoryReserved")
    assert publisher.events[1].detail()["data"]["reservationId"] == "res_ord-1001"
    assert scan_all(tables.inventory) == after_first


def test_two_orders_competing_for_the_last_unit_reserve_exactly_one(
    tables: Tables, eventbridge_event: MakeEvent, fixed_clock: Any
) -> None:
    # GIVEN one unit left, and two orders each wanting it, handled by two Lambda containers
    seed_stock(tables.inventory, {"SKU-LAST": 1})
    line = [{"sku": "SKU-LAST", "quantity": 1, "unitPriceMinor": 100}]
    outcomes: list[str] = []
    for order_id in ("ord-a", "ord-b"):
        container = InventoryService(table=tables.inventory, publisher=(recorder := RecordingPublisher()))
        event = eventbridge_event("payment_processed", event_id=f"evt-{order_id}", order_id=order_id)
        event["detail"]["data"]["order"]["items"] = line
        container.handle(parse_event(event))
        outcomes += recorder.detail_types()
    # THEN exactly one reservation holds the unit and the other order is refused; stock never negative
    assert sorted(outcomes) == ["InventoryReservationFailed", "InventoryReserved"]
    assert read_stock(tables.inventory, "SKU-LAST") == {"available": 0, "reserved": 1}
    reservations = [i for i in scan_all(tables.inventory) if str(i["pk"]).startswith("RES#")]
    assert len(reservations) == 1


def test_a_retry_for_another_step_is_rejected(
    service: InventoryService, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a StepRetryRequested for the shipping step (a wiring error if it reaches inventory)
    event = parse_event(eventbridge_event("step_retry_requested_inventory", step="shipping"))
    # WHEN / THEN it is a terminal contract error, not a reservation
    with pytest.raises(InvalidEventError):
        service.handle(event)


# --- release ------------------------------------------------------------------------------------------
def test_release_returns_the_stock_and_flips_the_reservation(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a reserved order
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    # WHEN the controller requests the release
    service.handle(parse_event(eventbridge_event("inventory_release_requested")))
    # THEN InventoryReleased(released=True), stock back to where it was, reservation RELEASED
    released = publisher.events[-1]
    assert released.detail_type == "InventoryReleased"
    assert released.detail()["data"] == {
        "orderId": "ord-1001",
        "reservationId": "res_ord-1001",
        "released": True,
    }
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}
    assert stock(tables, "SKU-BLUE") == {"available": 2, "reserved": 0}
    reservation = service.load("ord-1001")
    assert reservation is not None
    assert reservation.status == "RELEASED"


def test_a_second_release_request_returns_nothing_twice(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a reservation already released
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    service.handle(parse_event(eventbridge_event("inventory_release_requested")))
    # WHEN another release request arrives under a new id
    service.handle(
        parse_event(eventbridge_event("inventory_release_requested", event_id="evt-release-again"))
    )
    # THEN it is answered released=False and the stock is not returned a second time
    assert publisher.events[-1].detail()["data"]["released"] is False
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}


def test_release_before_reserve_leaves_a_tombstone_that_blocks_the_late_trigger(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN the release request overtook the trigger (reordering)
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("inventory_release_requested")))
    # THEN nothing was reserved, so nothing was released
    assert publisher.events[-1].detail()["data"] == {"orderId": "ord-1001", "released": False}
    # WHEN the late PaymentProcessed arrives
    outcome = service.handle(parse_event(eventbridge_event("payment_processed")))
    # THEN it reserves nothing (no one would ever release it) and announces nothing
    assert outcome is None
    assert publisher.detail_types() == ["InventoryReleased"]
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}
    # AND an explicit retry of the step (attempt 2) may reserve again
    service.handle(parse_event(eventbridge_event("step_retry_requested_inventory")))
    assert publisher.detail_types() == ["InventoryReleased", "InventoryReserved"]
    assert stock(tables, "SKU-RED") == {"available": 2, "reserved": 3}


def test_release_fails_explicitly_when_stock_records_no_longer_match(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a reservation whose SKU-BLUE stock record an operator deleted
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    tables.inventory.delete_item(Key={"pk": "SKU#SKU-BLUE"})
    # WHEN the release is requested
    service.handle(parse_event(eventbridge_event("inventory_release_requested")))
    # THEN InventoryReleaseFailed names the SKU, and nothing was half-released
    failed = publisher.events[-1]
    assert failed.detail_type == "InventoryReleaseFailed"
    assert "SKU-BLUE" in failed.detail()["data"]["reason"]
    reservation = service.load("ord-1001")
    assert reservation is not None
    assert reservation.status == "RESERVED"
    assert stock(tables, "SKU-RED") == {"available": 2, "reserved": 3}


# --- stock seeding ---------------------------------------------------------------------------------------
def test_seed_stock_sets_available_and_keeps_reserved_units(tables: Tables) -> None:
    # GIVEN a SKU with reserved units
    seed_stock(tables.inventory, {"SKU-RED": 5})
    tables.inventory.update_item(
        Key={"pk": "SKU#SKU-RED"}, UpdateExpression="SET reserved = :r", ExpressionAttributeValues={":r": 2}
    )
    # WHEN an operator re-seeds it
    seed_stock(tables.inventory, {"SKU-RED": 10})
    # THEN available is set and reserved units are kept
    assert read_stock(tables.inventory, "SKU-RED") == {"available": 10, "reserved": 2}
    with pytest.raises(ValueError, match="non-negative"):
        seed_stock(tables.inventory, {"SKU-RED": -1})


# --- through the Lambda handler (SQS batch -> idempotency -> service -> EventBridge) ----------------------
@pytest.mark.usefixtures("fixed_clock")
def test_handler_applies_a_duplicated_delivery_once(
    load_handler: Callable[[str], Any],
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
) -> None:
    # GIVEN stock, and the same PaymentProcessed delivered twice (at-least-once), plus once more later
    handler = load_handler("inventory.handler")
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    event = eventbridge_event("payment_processed")
    # WHEN the handler processes a batch holding both copies, then a redelivery in a later batch
    first = handler.lambda_handler(sqs_batch(event, event), LambdaContext())
    second = handler.lambda_handler(sqs_batch(event), LambdaContext())
    # THEN every record succeeded, stock moved once, and one InventoryReserved reached the bus
    assert first == {"batchItemFailures": []}
    assert second == {"batchItemFailures": []}
    assert stock(tables, "SKU-RED") == {"available": 2, "reserved": 3}
    published = bus.events()
    assert [e["detail-type"] for e in published] == ["InventoryReserved"]
    assert published[0]["source"] == "commerce.inventory"
    assert published[0]["detail"]["metadata"]["eventId"] == derived_event_id(
        "evt-payment-processed", "InventoryReserved"
    )


@pytest.mark.usefixtures("fixed_clock")
def test_handler_dead_letters_bad_events_without_changing_state(
    load_handler: Callable[[str], Any],
    tables: Tables,
    bus: BusTap,
    eventbridge_event: MakeEvent,
    sqs_batch: Callable[..., dict[str, Any]],
) -> None:
    # GIVEN a batch: a malformed event, an unknown schema version, not-JSON, and one good event
    handler = load_handler("inventory.handler")
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    good = eventbridge_event("payment_processed", event_id="evt-good", order_id="ord-good")
    batch = sqs_batch(
        eventbridge_event("payment_processed_malformed"), eventbridge_event("payment_processed_v9"), "{", good
    )
    before_idempotency = scan_all(tables.idempotency)
    # WHEN the handler processes it
    response = handler.lambda_handler(batch, LambdaContext())
    # THEN the three bad records are batch item failures (-> DLQ after maxReceiveCount) ...
    assert response == {"batchItemFailures": [{"itemIdentifier": f"msg-{i}"} for i in range(3)]}
    # ... and only the good one changed state
    reservations = [i["pk"] for i in scan_all(tables.inventory) if str(i["pk"]).startswith("RES#")]
    assert reservations == ["RES#ord-good"]
    assert len(scan_all(tables.idempotency)) == len(before_idempotency) + 1
    assert bus.detail_types() == ["InventoryReserved"]
