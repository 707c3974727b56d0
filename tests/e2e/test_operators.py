"""Operator commands through the status API: resume, retry-step and cancel, end to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, STOCK_PER_SKU, order_for
from tests.e2e.test_order_scenarios import items, notices, run
from workflowkit import LocalCloud


def command(cloud: LocalCloud, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = cloud.http(
        "POST", f"/workflows/{workflow_id}/commands", body, caller="arn:aws:iam::123456789012:user/ops"
    )
    assert response["statusCode"] == 202, response
    cloud.run_until_quiescent()
    return response


def test_resume_after_a_refund_settled_by_hand_completes_the_compensation(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    assert run(cloud, orders, "compensation_failure")["status"] == "NEEDS_ATTENTION"
    command(cloud, "o-1", {"command": "resume", "reason": "refunded by bank transfer"})
    status = orders.status("o-1")
    assert status is not None
    assert status["status"] == "COMPENSATED"
    assert status["steps"]["payment"]["status"] == "COMPENSATED"
    assert "settled by arn:aws:iam::123456789012:user/ops" in status["steps"]["payment"]["reason"]
    # Told once paid (the notify step), then of the review, then of the refund
    assert sorted(notices(cloud, "o-1")) == [
        "order-cancelled-refunded",
        "order-under-review",
        "payment-confirmed",
    ]


def test_retry_step_runs_the_failed_refund_again(cloud: LocalCloud, orders: OrderDriver) -> None:
    assert run(cloud, orders, "compensation_failure")["status"] == "NEEDS_ATTENTION"
    first_request = items(cloud, "PaymentsTableName", "o-1")["REFUND"]["requestEventId"]
    command(cloud, "o-1", {"command": "retry-step", "step": "payment", "reason": "issuer asked to retry"})
    status = orders.status("o-1")
    assert status is not None
    # The sandbox issuer rejects this card's refunds every time: a second attempt ran, and failed again.
    assert status["steps"]["payment"]["compensationAttempt"] == 2
    assert items(cloud, "PaymentsTableName", "o-1")["REFUND"]["requestEventId"] != first_request
    assert status["status"] == "NEEDS_ATTENTION"


def test_cancel_undoes_what_a_running_workflow_did(cloud: LocalCloud, orders: OrderDriver) -> None:
    # GIVEN an order waiting for a carrier's manual confirmation (shipping running, 24 h deadline)
    orders.submit_http(order_for(SCENARIOS["timeout"], "o-1"))
    cloud.run_for(timedelta(hours=1))
    running = orders.status("o-1")
    assert running is not None
    assert running["status"] == "RUNNING"
    # WHEN an operator cancels it
    command(cloud, "o-1", {"command": "cancel", "reason": "customer called to cancel"})
    # THEN the shipment is cancelled, the stock released and the payment refunded, long before the deadline
    status = orders.status("o-1")
    assert status is not None
    assert status["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["shipping", "inventory", "payment"]
    assert items(cloud, "ShipmentsTableName", "o-1")["item"]["status"] == "CANCELLED"
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU, "reserved": 0}
    assert cloud.clock.elapsed() < timedelta(hours=24)


def test_a_command_the_workflow_cannot_take_is_recorded_and_changes_nothing(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    assert run(cloud, orders, "happy")["status"] == "COMPLETED"
    command(cloud, "o-1", {"command": "cancel", "reason": "too late"})
    status = orders.status("o-1")
    assert status is not None
    assert status["status"] == "COMPLETED"
    assert "rejected" in status["timeline"][-1]["notes"][0]


def test_two_commands_in_the_same_instant_are_two_requests(cloud: LocalCloud, orders: OrderDriver) -> None:
    # API Gateway gives each request its own id; the local one was the virtual millisecond, so a second
    # command at the same instant carried the first's event id and the controller dropped it unseen.
    assert run(cloud, orders, "happy")["status"] == "COMPLETED"
    ops = "arn:aws:iam::123456789012:user/ops"
    for reason in ("first look", "second look"):
        response = cloud.http(
            "POST", "/workflows/o-1/commands", {"command": "cancel", "reason": reason}, caller=ops
        )
        assert response["statusCode"] == 202, response
    cloud.run_until_quiescent()
    status = orders.status("o-1")
    assert status is not None
    notes = [note for record in status["timeline"] for note in record.get("notes") or []]
    assert sum("rejected" in note for note in notes) == 2, notes
