"""Inventory when DynamoDB refuses its writes for contention (docs/decisions/0019).

Reservations and stock counters are written by transactions: another order taking the same SKU, or a
release of the same order, can be in progress on an item, and DynamoDB then cancels the transaction
(``TransactionConflict``) or refuses a single write of the reservation (``TransactionConflictException``).
moto never does; the local cloud's engine does when told which items are busy, so the inventory table's
client here is answered by that engine (over moto's table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from inventory.reservations import InventoryService
from inventory.stock import read_stock, seed_stock
from tests.unit.consumers.consumer_support import REGION, TABLE_ENV, Tables, never_made_table
from tests.unit.local_cloud.test_ddb_boto3 import describer, wire
from workflow_core.contention import Backoff, ContendedWriteError
from workflow_core.errors import RetryableError
from workflow_core.item_table import ItemTable
from workflow_core.publisher import RecordingPublisher
from workflow_core.registry import parse_event
from workflowkit.ddb import DynamoEngine
from workflowkit.faults import TransactionConflicts

MakeEvent = Callable[..., dict[str, Any]]


def red_stock(_operation: str, _table: str, key: dict[str, Any]) -> bool:
    return bool(key["pk"]["S"] == "SKU#SKU-RED")


@dataclass
class Inventory:
    service: InventoryService
    engine: DynamoEngine
    table: Any
    publisher: RecordingPublisher
    pauses: list[float]

    def busy(self, faults: TransactionConflicts) -> TransactionConflicts:
        self.engine.item_faults = faults.dynamodb_item
        return faults

    def stock(self, sku: str) -> dict[str, int] | None:
        return read_stock(self.table, sku)


@pytest.fixture(params=["boto3 Table", "ItemTable"])
def inventory(request: pytest.FixtureRequest, tables: Tables, fixed_clock: Any) -> Inventory:
    """The inventory service on a table answered by the local cloud's engine; pauses recorded, not slept.

    On boto3's Table, and on the ItemTable the deployed function uses (its own plain client answered by
    the engine too; boto3's Table never made for it).
    """
    engine = DynamoEngine(describer(boto3.client("dynamodb", region_name=REGION)))
    resource = boto3.resource("dynamodb", region_name=REGION)
    wire(resource.meta.client, engine)
    name = TABLE_ENV["INVENTORY_TABLE_NAME"]
    table: Any = resource.Table(name)
    if request.param == "ItemTable":
        client = boto3.client("dynamodb", region_name=REGION)
        wire(client, engine)
        table = ItemTable(name, client=client, resource_table=never_made_table)
    seed_stock(table, {"SKU-RED": 5, "SKU-BLUE": 2})
    pauses: list[float] = []
    publisher = RecordingPublisher()
    service = InventoryService(table=table, publisher=publisher, backoff=Backoff(sleep=pauses.append))
    return Inventory(service, engine, table, publisher, pauses)


def test_a_reservation_cancelled_by_conflicts_on_its_stock_is_retried_and_reserves_once(
    inventory: Inventory, eventbridge_event: MakeEvent
) -> None:
    # GIVEN another order's transaction holds SKU-RED for the first two reservation attempts
    inventory.busy(TransactionConflicts(rate=1.0, where=red_stock, limit=2))
    # WHEN payment is processed
    inventory.service.handle(parse_event(eventbridge_event("payment_processed")))
    # THEN the reservation went through in this invocation, after two jittered pauses, exactly once
    assert inventory.engine.contended == {"TransactWriteItems": 2}
    assert len(inventory.pauses) == 2
    assert inventory.publisher.detail_types() == ["InventoryReserved"]
    assert inventory.stock("SKU-RED") == {"available": 2, "reserved": 3}
    assert inventory.stock("SKU-BLUE") == {"available": 1, "reserved": 1}


def test_a_conflict_beside_a_short_sku_is_decided_again_not_read_as_out_of_stock(
    inventory: Inventory, eventbridge_event: MakeEvent
) -> None:
    # GIVEN SKU-BLUE is short while SKU-RED is busy: [None, ConditionalCheckFailed, TransactionConflict]
    seed_stock(inventory.table, {"SKU-BLUE": 0})
    inventory.busy(TransactionConflicts(rate=1.0, where=red_stock, limit=1))

    # AND the shelf is restocked while the service backs off
    def restock(seconds: float) -> None:
        inventory.pauses.append(seconds)
        seed_stock(inventory.table, {"SKU-BLUE": 2})

    inventory.service._backoff = Backoff(sleep=restock)
    # WHEN payment is processed
    inventory.service.handle(parse_event(eventbridge_event("payment_processed")))
    # THEN the cancelled attempt was not taken for a refusal: decided again, the order is reserved
    assert len(inventory.pauses) == 1
    assert inventory.publisher.detail_types() == ["InventoryReserved"]
    assert inventory.stock("SKU-BLUE") == {"available": 1, "reserved": 1}


def test_a_release_whose_transaction_conflicts_returns_the_stock_once(
    inventory: Inventory, eventbridge_event: MakeEvent
) -> None:
    inventory.service.handle(parse_event(eventbridge_event("payment_processed")))
    inventory.busy(
        TransactionConflicts(rate=1.0, where=red_stock, operations={"TransactWriteItems"}, limit=3)
    )
    inventory.service.handle(parse_event(eventbridge_event("inventory_release_requested")))
    assert len(inventory.pauses) == 3
    assert inventory.publisher.detail_types() == ["InventoryReserved", "InventoryReleased"]
    assert inventory.publisher.events[-1].detail()["data"]["released"] is True
    assert inventory.stock("SKU-RED") == {"available": 5, "reserved": 0}
    assert inventory.stock("SKU-BLUE") == {"available": 2, "reserved": 0}


def test_a_single_write_refused_while_a_transaction_holds_the_reservation_is_retried(
    inventory: Inventory, eventbridge_event: MakeEvent
) -> None:
    # GIVEN a released reservation
    inventory.service.handle(parse_event(eventbridge_event("payment_processed")))
    inventory.service.handle(parse_event(eventbridge_event("inventory_release_requested")))
    # WHEN a release naming a later attempt records it while a transaction holds the reservation item
    faults = inventory.busy(TransactionConflicts(rate=1.0, operations={"UpdateItem"}, limit=1))
    release_2 = eventbridge_event("inventory_release_requested", event_id="evt-release-2", stepAttempt=2)
    inventory.service.handle(parse_event(release_2))
    # THEN the refused UpdateItem was made again on a fresh read and the later attempt is recorded
    assert faults.conflicts == {"UpdateItem": 1}
    assert len(inventory.pauses) == 1
    reservation = inventory.service.load("ord-1001")
    assert reservation is not None
    assert reservation.undone_through == 2
    assert inventory.publisher.events[-1].detail()["data"]["released"] is False


def test_conflicts_that_outlast_the_retries_fail_retryably_and_change_nothing(
    inventory: Inventory, eventbridge_event: MakeEvent
) -> None:
    inventory.busy(TransactionConflicts(rate=1.0, where=red_stock))
    with pytest.raises(ContendedWriteError) as raised:
        inventory.service.handle(parse_event(eventbridge_event("payment_processed")))
    assert isinstance(raised.value, RetryableError)
    assert len(inventory.pauses) == Backoff().attempts - 1
    assert inventory.publisher.events == []
    assert inventory.service.load("ord-1001") is None
    assert inventory.stock("SKU-RED") == {"available": 5, "reserved": 0}
