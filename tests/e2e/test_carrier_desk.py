"""Order v2 end to end: a carrier desk decides manual bookings through the callback route, and the
customer's notice once paid (the notify step) never decides how an order ends.

The carrier desk is a role session holding only the stack's ``CarrierDeskApproverPolicyArn``; its
decision goes through ``POST /workflows/{id}/steps/shipping/complete|reject`` as API Gateway would
authorise it, reaches shipping as ``StepDecided``, and shipping reports the step's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, STOCK_PER_SKU, order_for
from tests.e2e.test_order_scenarios import assert_nothing_lost, items, notices, timeline
from workflowkit import LocalCloud
from workflowkit.faults import Faults

ORDER_ID = "o-gl-1"
# Long after the booking, well before the shipping step's 24 h deadline.
DESK_ANSWERS_AFTER = timedelta(hours=2)


def booked_by_hand(cloud: LocalCloud, orders: OrderDriver, scenario: str = "carrier_confirmed") -> None:
    """Submit an order whose carrier books by hand, and run until its booking waits for the desk."""
    orders.submit_http(order_for(SCENARIOS[scenario], ORDER_ID))
    cloud.run_for(DESK_ANSWERS_AFTER)
    status = orders.status(ORDER_ID)
    assert status is not None
    assert status["steps"]["shipping"]["status"] == "RUNNING"
    assert items(cloud, "ShipmentsTableName", ORDER_ID)["item"]["status"] == "PENDING_CONFIRMATION"


def finished(cloud: LocalCloud, orders: OrderDriver) -> dict[str, Any]:
    cloud.run_until_quiescent()
    status = orders.status(ORDER_ID)
    assert status is not None
    return status


def test_a_booking_the_carrier_desk_confirms_completes_the_order(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN an order to Greenland, its booking waiting for the carrier
    booked_by_hand(cloud, orders)
    # WHEN the carrier desk confirms it, with the carrier's estimate and booking number
    desk = orders.carrier_desk()
    code, answer = orders.decide(
        ORDER_ID,
        "shipping",
        "complete",
        principal=desk,
        details={"estimatedDelivery": "2026-12-10", "reference": "TUS-88412"},
    )
    assert code == 202, answer
    status = finished(cloud, orders)
    # THEN the order completes, the shipment is scheduled with the desk's estimate and reference
    assert status["status"] == "COMPLETED"
    assert {name: step["status"] for name, step in status["steps"].items()} == {
        "payment": "COMPLETED",
        "inventory": "COMPLETED",
        "shipping": "COMPLETED",
        "notify": "COMPLETED",
    }
    shipment = items(cloud, "ShipmentsTableName", ORDER_ID)["item"]
    assert (shipment["status"], shipment["carrierReference"]) == ("SCHEDULED", "TUS-88412")
    assert shipment["estimatedDelivery"].startswith("2026-12-10")
    # AND the decision is on the step's record, with who took it; the timeline shows it before the outcome
    decision = status["steps"]["shipping"]["decision"]
    assert (decision["decision"], decision["decidedBy"]) == ("complete", desk.arn)
    assert timeline(status)[-2:] == ["StepDecided", "ShippingScheduled"]
    assert notices(cloud, ORDER_ID) == ["order-confirmed", "payment-confirmed"]
    assert_nothing_lost(cloud)


def test_a_confirmation_with_a_typo_in_its_details_is_400_and_the_desk_can_send_it_again(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN a booking waiting for the carrier
    booked_by_hand(cloud, orders)
    desk = orders.carrier_desk()
    # WHEN the desk misspells a detail: the front door refuses it before anything is claimed
    code, answer = orders.decide(
        ORDER_ID, "shipping", "complete", principal=desk, details={"estimatedDelivry": "2026-12-10"}
    )
    assert code == 400, answer
    assert [f["field"] for f in answer["fields"]] == ["details"]
    assert "a typo?" in answer["fields"][0]["message"]
    # THEN nothing was decided: the corrected confirmation is accepted and the order completes
    code, answer = orders.decide(
        ORDER_ID, "shipping", "complete", principal=desk, details={"estimatedDelivery": "2026-12-10"}
    )
    assert code == 202, answer
    assert finished(cloud, orders)["status"] == "COMPLETED"


def test_a_booking_the_carrier_declines_is_compensated_with_the_reason(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN an order to Iceland, its booking waiting for the carrier
    booked_by_hand(cloud, orders, "carrier_declined")
    # WHEN the carrier desk declines it
    code, answer = orders.decide(
        ORDER_ID,
        "shipping",
        "reject",
        principal=orders.carrier_desk(),
        reason="no capacity on the next sailing",
    )
    assert code == 202, answer
    status = finished(cloud, orders)
    # THEN the stock is released and the payment refunded, newest first; the reason names the refusal
    assert status["status"] == "COMPENSATED"
    assert status["steps"]["shipping"]["status"] == "FAILED"
    assert status["compensatedSteps"] == ["inventory", "payment"]
    assert "CARRIER_DECLINED" in status["reason"]
    assert "no capacity on the next sailing" in status["reason"]
    assert timeline(status)[-4:] == ["StepDecided", "ShippingFailed", "InventoryReleased", "PaymentRefunded"]
    payments = items(cloud, "PaymentsTableName", ORDER_ID)
    assert payments["GATEWAY#refund"]["amountMinor"] == payments["GATEWAY#capture"]["amountMinor"]
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU, "reserved": 0}
    # AND the booking is cancelled for good: nothing is shipped
    shipment = items(cloud, "ShipmentsTableName", ORDER_ID)["item"]
    assert shipment["status"] == "CANCELLED"
    assert shipment["cancelReason"] == "CARRIER_DECLINED: no capacity on the next sailing"
    assert_nothing_lost(cloud)


def test_an_unconfirmed_booking_is_compensated_at_24_hours_and_a_late_confirmation_changes_nothing(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN nobody answers the booking
    orders.submit_http(order_for(SCENARIOS["timeout"], ORDER_ID))
    status = finished(cloud, orders)
    # THEN at 24 h it is undone like any missed deadline
    assert cloud.clock.elapsed() >= timedelta(hours=24)
    assert status["status"] == "COMPENSATED"
    assert status["compensatedSteps"] == ["shipping", "inventory", "payment"]
    # AND a confirmation that comes after is refused and changes nothing
    code, _ = orders.decide(ORDER_ID, "shipping", "complete", principal=orders.carrier_desk())
    assert code == 409
    assert finished(cloud, orders)["status"] == "COMPENSATED"
    assert items(cloud, "ShipmentsTableName", ORDER_ID)["item"]["status"] == "CANCELLED"


def test_only_the_carrier_desk_may_decide(cloud: LocalCloud, orders: OrderDriver) -> None:
    booked_by_hand(cloud, orders)
    for name, policy in (("client", "ClientPolicyArn"), ("operator", "WorkflowOperatorPolicyArn")):
        code, _ = orders.decide(ORDER_ID, "shipping", "complete", principal=cloud.principal(name, policy))
        assert code == 403, name
    status = orders.status(ORDER_ID)
    assert status is not None
    assert status["steps"]["shipping"]["status"] == "RUNNING"


# --- the notify step gates nothing -----------------------------------------------------------------------
class NoticeRefused(Faults):
    """SNS refuses the order-confirmed-once-paid message: ``code`` says how."""

    def __init__(self, code: str) -> None:
        self.code = code

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        if service == "sns" and operation == "Publish" and _template(params) == "payment-confirmed":
            raise ClientError({"Error": {"Code": self.code, "Message": "refused by the test"}}, operation)


def _template(params: Any) -> str | None:
    try:
        return str(json.loads(params["Message"])["template"])
    except (KeyError, TypeError, ValueError):
        return None


@pytest.fixture
def refused(cdk_out: Path, request: pytest.FixtureRequest) -> Iterator[tuple[LocalCloud, OrderDriver]]:
    with LocalCloud(cdk_out=cdk_out, seed=7, faults=NoticeRefused(request.param)) as local:
        driver = OrderDriver(local)
        driver.stock()
        yield local, driver


@pytest.mark.parametrize("refused", ["KMSDisabled"], indirect=True)
def test_a_notice_refused_for_good_fails_the_notify_step_not_the_order(
    refused: tuple[LocalCloud, OrderDriver],
) -> None:
    cloud, orders = refused
    orders.submit_http(order_for(SCENARIOS["happy"], ORDER_ID))
    status = finished(cloud, orders)
    # THEN the notify step failed with the reason, and the order completed all the same
    assert status["status"] == "COMPLETED"
    assert status["steps"]["notify"]["status"] == "FAILED"
    assert "SEND_REJECTED" in status["steps"]["notify"]["reason"]
    assert status["compensatedSteps"] == []
    assert notices(cloud, ORDER_ID) == ["order-confirmed", "payment-confirmed"]  # the second one FAILED
    assert_nothing_lost(cloud)


@pytest.mark.parametrize("refused", ["Throttled"], indirect=True)
def test_a_notice_that_never_goes_out_times_the_notify_step_out_not_the_order(
    refused: tuple[LocalCloud, OrderDriver],
) -> None:
    cloud, orders = refused
    orders.submit_http(order_for(SCENARIOS["happy"], ORDER_ID))
    status = finished(cloud, orders)
    # THEN the retries run out (the request is dead-lettered) and the step misses its deadline; the order
    # completes once the workflow stops waiting for it, nothing undone
    assert status["status"] == "COMPLETED"
    assert status["steps"]["notify"]["status"] == "TIMED_OUT"
    assert status["compensatedSteps"] == []
    assert [event.detail_type for event, _ in cloud.ledger.dead_letters()] == ["StepRequested"]
