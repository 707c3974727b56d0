"""The order workflow end to end, on the synthesized app: real ASL, real handlers, virtual time.

Each scenario submits one ordinary order through the HTTP API and checks what a business relies on:
the workflow's final status, what was undone and in which order, the money, the stock, the shipment,
the customer notice, and that every event was processed or dead-lettered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3

from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, STOCK_PER_SKU, order_for
from workflowkit import LocalCloud


def run(cloud: LocalCloud, orders: OrderDriver, scenario: str, order_id: str = "o-1") -> dict[str, Any]:
    orders.submit_http(order_for(SCENARIOS[scenario], order_id))
    cloud.run_until_quiescent()
    status = orders.status(order_id)
    assert status is not None
    return status


def items(cloud: LocalCloud, output: str, order_id: str) -> dict[str, dict[str, Any]]:
    """The order's items in one of the app's tables, by sort key (or "item" for single-key tables)."""
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(cloud.outputs[output])
    found = [i for i in table.scan()["Items"] if i.get("orderId") == order_id]
    return {str(i.get("sk", "item")): i for i in found}


# The notify step's outcomes (order v2): that branch runs beside inventory and shipping, so where its event
# falls in the timeline depends on delivery order; the chain's own order does not.
NOTIFY_EVENTS = ("OrderConfirmationSent", "OrderConfirmationFailed")


def timeline(status: dict[str, Any]) -> list[str]:
    """The detail-types the controller handled, the notify branch's aside."""
    return [entry["detailType"] for entry in status["timeline"] if entry["detailType"] not in NOTIFY_EVENTS]


def notices(cloud: LocalCloud, order_id: str) -> list[str]:
    """The templates of the customer notices sent for the order (one item per notice)."""
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(
        cloud.outputs["NotificationsTableName"]
    )
    return sorted(str(i["template"]) for i in table.scan()["Items"] if i.get("orderId") == order_id)


def assert_nothing_lost(cloud: LocalCloud) -> None:
    assert [e.detail_type for e in cloud.ledger.unaccounted()] == []
    assert cloud.ledger.dead_letters() == []


def test_happy_path_pays_reserves_ships_and_tells_the_customer(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    status = run(cloud, orders, "happy")
    assert status["status"] == "COMPLETED"
    assert {name: step["status"] for name, step in status["steps"].items()} == {
        "payment": "COMPLETED",
        "inventory": "COMPLETED",
        "shipping": "COMPLETED",
        "notify": "COMPLETED",
    }
    assert timeline(status) == [
        "OrderSubmitted",
        "PaymentProcessed",
        "InventoryReserved",
        "ShippingScheduled",
    ]
    payments = items(cloud, "PaymentsTableName", "o-1")
    assert payments["GATEWAY#capture"]["amountMinor"] == order_for(SCENARIOS["happy"], "o-1")["amountMinor"]
    assert "GATEWAY#refund" not in payments
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU - 1, "reserved": 1}
    assert items(cloud, "ShipmentsTableName", "o-1")["item"]["status"] == "SCHEDULED"
    # Told once paid (the notify step), and again once shipped (the outcome)
    assert notices(cloud, "o-1") == ["order-confirmed", "payment-confirmed"]
    assert_nothing_lost(cloud)


def test_declined_payment_fails_without_touching_stock(cloud: LocalCloud, orders: OrderDriver) -> None:
    status = run(cloud, orders, "declined")
    assert status["status"] == "FAILED"
    assert status["steps"]["payment"]["status"] == "FAILED"
    assert "DECLINED" in status["reason"]
    assert "GATEWAY#capture" not in items(cloud, "PaymentsTableName", "o-1")
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU, "reserved": 0}
    assert notices(cloud, "o-1") == ["order-failed"]
    assert_nothing_lost(cloud)


def test_out_of_stock_refunds_the_captured_payment(cloud: LocalCloud, orders: OrderDriver) -> None:
    status = run(cloud, orders, "out_of_stock")
    assert status["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["payment"]
    assert timeline(status) == [
        "OrderSubmitted",
        "PaymentProcessed",
        "InventoryReservationFailed",
        "PaymentRefunded",
    ]
    payments = items(cloud, "PaymentsTableName", "o-1")
    assert payments["GATEWAY#refund"]["amountMinor"] == payments["GATEWAY#capture"]["amountMinor"]
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU, "reserved": 0}
    assert notices(cloud, "o-1") == ["order-cancelled-refunded", "payment-confirmed"]
    assert_nothing_lost(cloud)


def test_shipping_failure_releases_stock_then_refunds(cloud: LocalCloud, orders: OrderDriver) -> None:
    status = run(cloud, orders, "shipping_failure")
    assert status["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["inventory", "payment"]  # reverse order of the steps
    assert timeline(status)[-3:] == ["ShippingFailed", "InventoryReleased", "PaymentRefunded"]
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU, "reserved": 0}
    assert items(cloud, "PaymentsTableName", "o-1")["REFUND"]["status"] == "REFUNDED"
    assert_nothing_lost(cloud)


def test_missed_24_hour_shipping_deadline_cancels_releases_and_refunds(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN a carrier that books by hand and never confirms
    status = run(cloud, orders, "timeout")
    # THEN after the 24-hour deadline (virtual time) everything done is undone, newest first
    assert cloud.clock.elapsed() >= timedelta(hours=24)
    assert status["status"] == "COMPENSATED"
    assert status["steps"]["shipping"]["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["shipping", "inventory", "payment"]
    assert timeline(status)[-4:] == [
        "StepDeadlineReached",
        "ShipmentCancelled",
        "InventoryReleased",
        "PaymentRefunded",
    ]
    assert items(cloud, "ShipmentsTableName", "o-1")["item"]["status"] == "CANCELLED"
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU, "reserved": 0}
    assert notices(cloud, "o-1") == ["order-cancelled-refunded", "payment-confirmed"]
    assert_nothing_lost(cloud)


def test_failed_refund_escalates_to_a_human(cloud: LocalCloud, orders: OrderDriver) -> None:
    status = run(cloud, orders, "compensation_failure")
    assert status["status"] == "NEEDS_ATTENTION"
    assert status["steps"]["payment"]["status"] == "COMPENSATION_FAILED"
    assert items(cloud, "PaymentsTableName", "o-1")["REFUND"]["status"] == "FAILED"
    escalations = [e for e in cloud.ledger.events.values() if e.detail_type == "WorkflowEscalated"]
    assert [e.correlation_id for e in escalations] == ["o-1"]
    assert notices(cloud, "o-1") == ["order-under-review", "payment-confirmed"]
    assert_nothing_lost(cloud)


def test_status_api_returns_the_timeline(cloud: LocalCloud, orders: OrderDriver) -> None:
    run(cloud, orders, "happy")
    response = cloud.http("GET", "/workflows/o-1")
    assert response["statusCode"] == 200
    assert response["json"]["status"] == "COMPLETED"
    assert next(t["detailType"] for t in response["json"]["timeline"]) == "OrderSubmitted"
    assert cloud.http("GET", "/workflows/unknown")["statusCode"] == 404
