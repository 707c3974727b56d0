"""Inventory: reserve on PaymentProcessed, release on request; never oversell, never double-apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from inventory.reservations import InventoryService
from inventory.stock import read_stock, seed_stock
from order_workflow import ORDER_WORKFLOW
from tests.unit.consumers.consumer_support import (
    REGION,
    BusTap,
    LambdaContext,
    Tables,
    emitted_metrics,
    never_made_table,
    scan_all,
)
from workflow_core.errors import InvalidEventError
from workflow_core.item_table import ItemTable
from workflow_core.publisher import RecordingPublisher, derived_event_id
from workflow_core.registry import parse_event

MakeEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture(params=["boto3 Table", "ItemTable"])
def service(
    request: pytest.FixtureRequest, tables: Tables, publisher: RecordingPublisher, fixed_clock: Any
) -> InventoryService:
    """The service on boto3's Table, and on the ItemTable the deployed function gives it (plain client)."""
    table: Any = tables.inventory
    if request.param == "ItemTable":
        client = boto3.client("dynamodb", region_name=REGION)
        table = ItemTable(table.name, client=client, resource_table=never_made_table)
    return InventoryService(table=table, publisher=publisher)


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
        event["detail"]["workflow"]["subject"]["items"] = line
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
        "compensationAttempt": 1,
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
    assert publisher.events[-1].detail()["data"] == {
        "orderId": "ord-1001",
        "released": False,
        "compensationAttempt": 1,
    }
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


# --- attempts: a trigger of an attempt the workflow already undid never reserves -------------------------
def retry(make: MakeEvent, attempt: int) -> Any:
    return parse_event(
        make("step_retry_requested_inventory", event_id=f"evt-retry-{attempt}", attempt=attempt)
    )


def release(make: MakeEvent, *, step_attempt: int, compensation_attempt: int = 1) -> Any:
    event_id = f"evt-release-{step_attempt}-{compensation_attempt}"
    return parse_event(
        make(
            "inventory_release_requested",
            event_id=event_id,
            stepAttempt=step_attempt,
            compensationAttempt=compensation_attempt,
        )
    )


def test_a_delayed_retry_of_the_attempt_already_released_reserves_nothing(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN attempt 1 reserved; an operator retried the step (attempt 2), then the workflow compensated
    # it: the release names stepAttempt 2 and overtakes the retry's trigger
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    service.handle(release(eventbridge_event, step_attempt=2))
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}
    before = scan_all(tables.inventory)
    # WHEN the delayed StepRetryRequested(attempt 2) arrives
    outcome = service.handle(retry(eventbridge_event, 2))
    # THEN it reserves nothing and announces nothing: attempt 2 is already undone
    assert outcome is None
    assert publisher.detail_types() == ["InventoryReserved", "InventoryReleased"]
    assert scan_all(tables.inventory) == before
    reservation = service.load("ord-1001")
    assert reservation is not None
    assert (reservation.status, reservation.undone_through) == ("RELEASED", 2)


def test_a_retry_newer_than_the_release_reserves_for_the_controller_to_compensate(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN attempt 1 reserved and released (stepAttempt 1)
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    service.handle(release(eventbridge_event, step_attempt=1))
    # WHEN a retry for attempt 2 arrives (the release did not cover it)
    outcome = service.handle(retry(eventbridge_event, 2))
    # THEN it reserves; the controller sees this late completion and compensates it
    assert outcome is not None
    assert outcome.detail_type == "InventoryReserved"
    assert stock(tables, "SKU-RED") == {"available": 2, "reserved": 3}
    # AND the release of attempt 2 returns the stock and refuses attempt 2 from then on
    service.handle(release(eventbridge_event, step_attempt=2, compensation_attempt=2))
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}
    assert service.handle(retry(eventbridge_event, 2)) is None
    assert publisher.detail_types() == [
        "InventoryReserved",
        "InventoryReleased",
        "InventoryReserved",
        "InventoryReleased",
    ]


def test_a_repeated_release_keeps_the_highest_undone_attempt(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN attempt 1 reserved and released (stepAttempt 1)
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(parse_event(eventbridge_event("payment_processed")))
    service.handle(release(eventbridge_event, step_attempt=1))
    # WHEN a release for stepAttempt 3 follows, then a stale one for stepAttempt 2
    service.handle(release(eventbridge_event, step_attempt=3, compensation_attempt=2))
    service.handle(release(eventbridge_event, step_attempt=2, compensation_attempt=3))
    # THEN attempts up to 3 stay undone: retries 2 and 3 reserve nothing, 4 may
    reservation = service.load("ord-1001")
    assert reservation is not None
    assert reservation.undone_through == 3
    assert service.handle(retry(eventbridge_event, 2)) is None
    assert service.handle(retry(eventbridge_event, 3)) is None
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}
    outcome = service.handle(retry(eventbridge_event, 4))
    assert outcome is not None
    assert outcome.detail_type == "InventoryReserved"


def test_a_tombstone_refuses_every_attempt_its_release_named(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a release for stepAttempt 2 overtook both triggers: nothing is reserved, a tombstone is left
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    service.handle(release(eventbridge_event, step_attempt=2))
    # WHEN the late PaymentProcessed (attempt 1) and StepRetryRequested (attempt 2) arrive
    assert service.handle(parse_event(eventbridge_event("payment_processed"))) is None
    assert service.handle(retry(eventbridge_event, 2)) is None
    # THEN neither reserves nor announces anything
    assert publisher.detail_types() == ["InventoryReleased"]
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}


def test_every_release_outcome_echoes_its_compensation_attempt(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    # a tombstone (nothing reserved yet)
    service.handle(release(eventbridge_event, step_attempt=1, compensation_attempt=2))
    # a release that returns stock, then its re-announcement to a later compensation attempt
    service.handle(retry(eventbridge_event, 2))
    service.handle(release(eventbridge_event, step_attempt=2, compensation_attempt=3))
    service.handle(release(eventbridge_event, step_attempt=2, compensation_attempt=4))
    released = [e.detail()["data"] for e in publisher.events if e.detail_type == "InventoryReleased"]
    assert [(d["released"], d["compensationAttempt"]) for d in released] == [
        (False, 2),
        (True, 3),
        (False, 4),
    ]
    # a failed release (the stock records no longer match) echoes it too
    service.handle(retry(eventbridge_event, 3))
    tables.inventory.delete_item(Key={"pk": "SKU#SKU-BLUE"})
    service.handle(release(eventbridge_event, step_attempt=3, compensation_attempt=5))
    failed = publisher.events[-1]
    assert failed.detail_type == "InventoryReleaseFailed"
    assert failed.detail()["data"]["compensationAttempt"] == 5


def test_a_reservation_written_before_undone_through_existed_counts_its_own_attempt_as_undone(
    service: InventoryService, tables: Tables, publisher: RecordingPublisher, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a RELEASED item of attempt 2 without undoneThrough (written by the previous version)
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    tables.inventory.put_item(
        Item={"pk": "RES#ord-1001", "orderId": "ord-1001", "status": "RELEASED", "attempt": 2}
    )
    # THEN attempt 2 is refused, attempt 3 reserves
    assert service.handle(retry(eventbridge_event, 2)) is None
    outcome = service.handle(retry(eventbridge_event, 3))
    assert outcome is not None
    assert outcome.detail_type == "InventoryReserved"


def test_the_router_handles_exactly_what_the_workflow_subscribes_inventory_to(
    service: InventoryService,
) -> None:
    assert set(service.router.detail_types) == set(ORDER_WORKFLOW.consumer_subscriptions()["inventory"])


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
    # GIVEN an order released for stepAttempt 2 before anything was reserved
    handler = load_handler("inventory.handler")
    seed_stock(tables.inventory, {"SKU-RED": 5, "SKU-BLUE": 2})
    handler.lambda_handler(
        sqs_batch(eventbridge_event("inventory_release_requested", stepAttempt=2)), LambdaContext()
    )
    capsys.readouterr()
    # WHEN a batch brings the delayed retry of attempt 2, plus two records that fail
    batch = sqs_batch(
        eventbridge_event("step_retry_requested_inventory"),
        eventbridge_event("payment_processed_malformed"),
        "{",
    )
    response = handler.lambda_handler(batch, LambdaContext())
    # THEN the retry is refused silently (a metric, no event, no reservation) ...
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}, {"itemIdentifier": "msg-2"}]}
    assert bus.detail_types() == ["InventoryReleased"]
    assert stock(tables, "SKU-RED") == {"available": 5, "reserved": 0}
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["StaleTriggerIgnored"] == 1
    # ... and each failed record is counted for the alarm
    assert metrics["RecordsFailed"] == 2
    assert metrics["RecordsReceived"] == 3
