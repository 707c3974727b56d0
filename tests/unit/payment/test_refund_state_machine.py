"""The refund state machine: the compensation of the payment step, started by RefundRequested."""

from __future__ import annotations

from typing import Any

from tests.unit.payment.payment_cloud import PaymentCloud, payment_input, refund_input
from workflow_core.catalog import DomainEvent, parse_event
from workflow_core.events import PaymentRefunded, RefundFailed


def paid(cloud: PaymentCloud, order_id: str, *, token: str = "tok_visa") -> None:
    execution = cloud.run("payment", payment_input(order_id, token=token), name=f"{order_id}-payment-1")
    assert execution["status"] == "SUCCEEDED"
    assert [e["detail-type"] for e in cloud.published()] == ["PaymentProcessed"]


def published(cloud: PaymentCloud) -> list[DomainEvent]:
    return [parse_event(e) for e in cloud.published()]


def refund_calls(cloud: PaymentCloud) -> list[dict[str, Any]]:
    return [i["event"] for i in cloud.invocations if i["event"].get("operation") == "refund"]


def test_refund_returns_the_booked_capture_and_publishes_payment_refunded(cloud: PaymentCloud) -> None:
    # GIVEN a paid order
    paid(cloud, "o-1001")

    # WHEN the controller requests its refund
    execution = cloud.run("refund", refund_input("o-1001"), name="refund-run-1")

    # THEN the captured amount goes back and PaymentRefunded satisfies the contract
    assert execution["status"] == "SUCCEEDED"
    [event] = published(cloud)
    assert event.detail_type == "PaymentRefunded"
    assert isinstance(event.data, PaymentRefunded)
    assert (event.data.payment_id, event.data.refund_id, event.data.amount_minor) == (
        "pay_o-1001",
        "re_o-1001",
        3300,
    )
    # AND its id derives from the request, so a redrive republishes the same id
    assert event.event_id == "evt-inv-o-1001:RefundRequested:PaymentRefunded"
    assert event.metadata.causation_id == "evt-inv-o-1001:RefundRequested"
    assert event.correlation_id == "o-1001"
    # AND the claim is closed
    claim = cloud.items("o-1001")["REFUND"]
    assert (claim["status"], claim["refundId"], claim["executionName"]) == (
        "REFUNDED",
        "re_o-1001",
        "refund-run-1",
    )


def test_duplicate_refund_request_refunds_once(cloud: PaymentCloud) -> None:
    # GIVEN a paid order whose refund already ran
    paid(cloud, "o-2001")
    cloud.run("refund", refund_input("o-2001"), name="refund-run-1")

    # WHEN EventBridge delivers the same RefundRequested again (a new, unnamed execution)
    duplicate = cloud.run("refund", refund_input("o-2001"), name="refund-run-2")

    # THEN the duplicate stops at the claim: one refund, one PaymentRefunded
    assert duplicate["status"] == "SUCCEEDED"
    assert cloud.states_entered(duplicate) == ["ClaimRefund", "AlreadyClaimed"]
    assert [e.detail_type for e in published(cloud)] == ["PaymentRefunded"]
    assert len(refund_calls(cloud)) == 1


def test_rejected_refund_is_recorded_and_reported_as_refund_failed(cloud: PaymentCloud) -> None:
    # GIVEN an order paid with a card whose issuer refuses refunds
    paid(cloud, "o-3001", token="tok_refundFails")

    # WHEN its refund is requested
    execution = cloud.run("refund", refund_input("o-3001"), name="refund-run-1")

    # THEN RefundFailed tells the controller (which escalates) why; no retry was spent on it
    assert execution["status"] == "SUCCEEDED"
    [event] = published(cloud)
    assert event.detail_type == "RefundFailed"
    assert isinstance(event.data, RefundFailed)
    assert event.data.reason == "REFUND_REJECTED"
    assert "refused" in event.data.message
    assert cloud.retry_waits == []
    claim = cloud.items("o-3001")["REFUND"]
    assert (claim["status"], claim["failureReason"]) == ("FAILED", "REFUND_REJECTED")


def test_refund_without_a_booked_capture_reports_nothing_captured(cloud: PaymentCloud) -> None:
    # GIVEN an order that was never paid
    # WHEN its refund is requested
    execution = cloud.run("refund", refund_input("o-4001"), name="refund-run-1")

    # THEN nothing is sent to the processor and RefundFailed says there was nothing to refund
    assert execution["status"] == "SUCCEEDED"
    [event] = published(cloud)
    assert isinstance(event.data, RefundFailed)
    assert event.data.reason == "NOTHING_CAPTURED"
    assert refund_calls(cloud) == []
