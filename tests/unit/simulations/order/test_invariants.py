"""The order plug-in's invariants catch what they promise to catch (and stay quiet on a consistent run)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from simulations.order.contention import check_contention
from simulations.order.invariants import (
    check_decisions,
    check_money,
    check_notify,
    check_shipments,
    check_stock,
)


def status(state: str, *, took: timedelta = timedelta(seconds=5)) -> dict[str, Any]:
    start = "2026-01-05T09:00:00+00:00"
    end = (timedelta(hours=9) + took).total_seconds()
    hours, rest = divmod(int(end), 3600)
    minutes, seconds = divmod(rest, 60)
    return {
        "status": state,
        "createdAt": start,
        "updatedAt": f"2026-01-05T{hours:02d}:{minutes:02d}:{seconds:02d}+00:00",
    }


def tables(
    payments: list[dict[str, Any]] = (),
    inventory: list[dict[str, Any]] = (),
    shipments: list[dict[str, Any]] = (),
) -> Any:  # type: ignore[assignment]
    return SimpleNamespace(payments=list(payments), inventory=list(inventory), shipments=list(shipments))


PAYMENT_RUN = "arn:aws:states:us-east-1:123456789012:execution:order-payment:{order}-payment-1"
REFUND_RUN = "arn:aws:states:us-east-1:123456789012:execution:order-refund:{order}-refund-1"


def call(
    order: str,
    operation: str,
    *,
    caller: str | None = None,
    outcome: str = "CAPTURED",
    amount: int = 100,
    attempts: int = 1,
    state: str = "ANSWERED",
) -> dict[str, Any]:
    """The gateway's record of one call (``payment.gateways.call_log``)."""
    caller = caller or (PAYMENT_RUN if operation == "capture" else REFUND_RUN).format(order=order)
    key = f"{order}:{operation}"
    moved = outcome in ("CAPTURED", "REFUNDED", "REPLAYED")
    return {
        "pk": f"ORDER#{order}",
        "sk": f"CALL#{operation}#{caller}#{key}",
        "operation": operation,
        "caller": caller,
        "idempotencyKey": key,
        "attempts": attempts,
        "state": state,
        "outcome": outcome,
        **({"moved": True, "amountMinor": amount} if moved else {}),
    }


def capture(order: str, amount: int = 100) -> list[dict[str, Any]]:
    """A capture as the gateway keeps it, and the payment execution's call that made it."""
    taken = {
        "pk": f"ORDER#{order}",
        "sk": "GATEWAY#capture",
        "amountMinor": amount,
        "paymentId": f"pay_{order}",
    }
    return [taken, call(order, "capture", amount=amount)]


def refund(order: str, amount: int = 100) -> list[dict[str, Any]]:
    """A refund as the gateway keeps it, and the refund execution's settle call that made it."""
    given = {"pk": f"ORDER#{order}", "sk": "GATEWAY#refund", "amountMinor": amount, "status": "REFUNDED"}
    return [given, call(order, "settle", outcome="REFUNDED", amount=amount)]


def test_consistent_money_passes() -> None:
    payments = [*capture("a"), *capture("b"), *refund("b")]
    assert check_money(tables(payments), {"a": status("COMPLETED"), "b": status("COMPENSATED")}) == []


def test_money_violations_are_caught() -> None:
    payments = [
        *capture("kept"),  # compensated but never refunded
        *capture("over_refunded"),
        *refund("over_refunded", 150),  # refunded more than captured
        *capture("both"),
        *refund("both"),  # shipped and refunded
        {"pk": "ORDER#hold", "sk": "GATEWAY#authorize", "status": "AUTHORIZED"},
    ]
    statuses = {
        "kept": status("COMPENSATED"),
        "over_refunded": status("COMPENSATED"),
        "both": status("COMPLETED"),
        "hold": status("FAILED"),
        "free": status("COMPLETED"),  # shipped without any payment
    }
    found = {v.subject for v in check_money(tables(payments), statuses)}
    assert found == {"kept", "over_refunded", "both", "hold", "free"}


def test_a_second_capture_call_from_a_second_execution_is_a_double_charge_even_if_deduplicated() -> None:
    # GIVEN an order the gateway captured once, but which a second payment execution asked to capture too:
    # the gateway (idempotent per order) answered it with the first capture
    attempt_2 = "arn:aws:states:us-east-1:123456789012:execution:order-payment:o-1-payment-2"
    second = call("o-1", "capture", caller=attempt_2, outcome="REPLAYED")
    payments = [*capture("o-1"), second]
    # THEN the money invariant counts two charging calls: a processor keyed on the call would charge twice
    (violation,) = check_money(tables(payments), {"o-1": status("COMPLETED")})
    assert (violation.invariant, violation.subject) == ("money", "o-1")
    assert violation.detail.startswith("charged by 2 calls: ")
    assert "REPLAYED" in violation.detail


def test_retries_of_one_call_are_one_call() -> None:
    # GIVEN the payment execution's capture retried by Step Functions three times (the same caller and key)
    taken = {"pk": "ORDER#o-1", "sk": "GATEWAY#capture", "amountMinor": 100, "paymentId": "pay_o-1"}
    payments = [taken, call("o-1", "capture", outcome="REPLAYED", attempts=3)]
    # THEN it charged once
    assert check_money(tables(payments), {"o-1": status("COMPLETED")}) == []


def test_a_call_that_died_in_flight_counts_as_having_moved_money() -> None:
    died = call("o-1", "capture", caller="another-execution", outcome="", state="IN_FLIGHT")
    died.pop("outcome")
    (violation,) = check_money(tables([*capture("o-1"), died]), {"o-1": status("COMPLETED")})
    assert violation.detail.startswith("charged by 2 calls")


def test_refunds_by_two_calls_and_captures_by_none_are_caught() -> None:
    # GIVEN an order refunded by the payment execution's own settlement and again by a refund execution
    twice = [*capture("o-1"), *refund("o-1"), call("o-1", "settle", caller="payment-run", outcome="REPLAYED")]
    # AND an order whose capture no recorded call made (a gateway path that skips the record)
    unrecorded = [{"pk": "ORDER#o-2", "sk": "GATEWAY#capture", "amountMinor": 100, "paymentId": "pay_o-2"}]
    statuses = {"o-1": status("COMPENSATED"), "o-2": status("COMPLETED")}
    found = {
        (v.subject, v.detail.split(":")[0]) for v in check_money(tables([*twice, *unrecorded]), statuses)
    }
    assert found == {
        ("o-1", "refunded by 2 calls"),
        ("o-1", "calls gave back 200 of 100 taken"),
        ("o-2", "captured, but by no call the gateway recorded"),
    }
    # AND a refund call the issuer refused moved nothing: no violation for it
    refused = [
        *capture("o-3"),
        *refund("o-3"),
        call("o-3", "settle", caller="operator-retry", outcome="REFUSED"),
    ]
    assert check_money(tables(refused), {"o-3": status("COMPENSATED")}) == []


def test_stock_must_be_conserved_and_match_live_reservations() -> None:
    inventory = [
        {"pk": "SKU#ok", "available": 8, "reserved": 2},
        {"pk": "SKU#lost", "available": 5, "reserved": 0},
        {"pk": "RES#o1", "status": "RESERVED", "items": [{"sku": "ok", "quantity": 2}]},
    ]
    violations = check_stock(tables(inventory=inventory), {"o1": status("COMPLETED")}, {"ok": 10, "lost": 10})
    assert [(v.invariant, v.subject) for v in violations] == [("stock", "lost")]


def test_a_reservation_held_by_a_compensated_workflow_is_caught() -> None:
    inventory = [
        {"pk": "SKU#x", "available": 9, "reserved": 1},
        {"pk": "RES#o1", "status": "RESERVED", "items": [{"sku": "x", "quantity": 1}]},
    ]
    violations = check_stock(tables(inventory=inventory), {"o1": status("COMPENSATED")}, {"x": 10})
    assert [v.subject for v in violations] == ["o1"]


def test_a_completed_order_that_does_not_hold_its_reservation_is_caught() -> None:
    inventory = [
        {"pk": "SKU#x", "available": 10, "reserved": 0},
        {"pk": "RES#o1", "status": "RELEASED", "items": [{"sku": "x", "quantity": 1}]},
    ]
    violations = check_stock(tables(inventory=inventory), {"o1": status("COMPLETED")}, {"x": 10})
    assert [(v.subject, v.detail) for v in violations] == [
        ("o1", "completed (shipped) without holding its reservation")
    ]


T0 = "2026-01-05T09:00:00+00:00"


def at_second(n: float) -> str:
    return (datetime.fromisoformat(T0) + timedelta(seconds=n)).isoformat()


def reservation(
    order: str, quantity: int, *, reserved: float, released: float | None = None
) -> dict[str, Any]:
    item = {
        "pk": f"RES#{order}",
        "reservationId": f"res_{order}",
        "status": "RELEASED" if released is not None else "RESERVED",
        "items": [{"sku": "TEA", "quantity": quantity}],
        "reservedAt": at_second(reserved),
    }
    return item | ({"releasedAt": at_second(released)} if released is not None else {})


def refused(order: str, *, at: float, quantity: int = 2) -> dict[str, Any]:
    """An order whose reservation inventory refused for OUT_OF_STOCK at second ``at``."""
    return {
        "status": "COMPENSATED",
        "subject": {"orderId": order, "items": [{"sku": "TEA", "quantity": quantity}]},
        "steps": {"inventory": {"status": "FAILED", "reason": "OUT_OF_STOCK"}},
        "timeline": [{"detailType": "InventoryReservationFailed", "occurredAt": at_second(at)}],
    }


def test_an_out_of_stock_refusal_is_earned_only_when_the_shelf_was_short() -> None:
    # GIVEN 5 tea samplers on the shelf; a took 2 at second 1, b took 2 at second 2, b's were released at 9
    inventory = [reservation("a", 2, reserved=1), reservation("b", 2, reserved=2, released=9)]
    statuses = {
        "short": refused("short", at=5),  # 1 left, 2 asked: earned
        "plenty": refused("plenty", at=10),  # b's 2 back: 3 left, 2 asked: not earned
        "early": refused("early", at=0.5),  # nothing taken yet: not earned
    }
    violations = check_contention(inventory, statuses, {"TEA": 5})
    assert [(v.invariant, v.subject) for v in violations] == [
        ("contention", "early"),
        ("contention", "plenty"),
    ]
    assert violations[1].detail.endswith("but TEA 3 left of 2 asked")


def test_an_out_of_stock_without_a_recorded_refusal_is_caught() -> None:
    status = {**refused("o1", at=1), "timeline": []}
    (violation,) = check_contention([], {"o1": status}, {"TEA": 0})
    assert violation.detail == "OUT_OF_STOCK, but no InventoryReservationFailed recorded"


def test_a_live_shipment_for_an_undone_order_is_caught() -> None:
    shipments = [
        {"pk": "ORDER#a", "orderId": "a", "status": "SCHEDULED"},
        {"pk": "ORDER#b", "orderId": "b", "status": "PENDING_CONFIRMATION"},
        {"pk": "ORDER#c", "orderId": "c", "status": "CANCELLED"},
    ]
    statuses = {"a": status("COMPLETED"), "b": status("COMPENSATED"), "c": status("COMPENSATED")}
    assert [v.subject for v in check_shipments(tables(shipments=shipments), statuses)] == ["b"]


def _with_notify(notify: str, *, payment_seen: str, reason: str | None = None) -> dict[str, Any]:
    """An order v2 instance whose controller saw PaymentProcessed while ``payment_seen`` (its status)."""
    return {
        "status": "COMPLETED" if payment_seen == "RUNNING" else "COMPENSATED",
        "reason": reason,
        "steps": {"payment": {"status": "COMPLETED"}, "notify": {"status": notify}},
        "timeline": [
            {"detailType": "PaymentProcessed", "statusBefore": payment_seen, "statusAfter": payment_seen}
        ],
    }


def test_an_order_paid_while_running_whose_customer_was_never_notified_is_caught() -> None:

    assert check_notify({"o-1": _with_notify("COMPLETED", payment_seen="RUNNING")}) == []
    (violation,) = check_notify({"o-1": _with_notify("PENDING", payment_seen="RUNNING")})
    assert "never notified" in violation.detail


def test_a_payment_seen_after_the_order_began_undoing_starts_no_notice() -> None:
    # the inventory failure overtook PaymentProcessed: the order was undoing, "paid" would be wrong

    assert check_notify({"o-1": _with_notify("PENDING", payment_seen="COMPENSATING")}) == []


def test_an_order_ended_by_its_notice_is_caught() -> None:

    status = _with_notify("FAILED", payment_seen="RUNNING", reason="notify failed: SEND_REJECTED")
    (violation,) = check_notify({"o-1": status})
    assert "ended on its notice" in violation.detail


DESK = "arn:aws:sts::123456789012:assumed-role/carrier-desk/s"


def _decided(
    status: str, verdict: str, *, reason: str | None = None, recorded: bool = True
) -> dict[str, Any]:
    decision = {"decision": verdict, "decidedBy": DESK} if recorded else None
    return {"status": status, "reason": reason, "steps": {"shipping": {"decision": decision}}}


def test_carrier_desk_decisions_that_took_effect_pass() -> None:
    statuses = {
        "a": _decided("COMPLETED", "complete"),
        "b": _decided("COMPENSATED", "reject", reason="shipping failed: CARRIER_DECLINED: no slot"),
    }
    shipments = [{"orderId": "a", "status": "SCHEDULED"}, {"orderId": "b", "status": "CANCELLED"}]
    decisions = [("a", "complete", 202), ("b", "reject", 202)]
    assert check_decisions(tables(shipments=shipments), statuses, decisions) == []


def test_a_refused_unrecorded_or_ineffective_desk_decision_is_caught() -> None:
    statuses = {
        "refused": _decided("COMPENSATED", "complete"),
        "unrecorded": _decided("COMPLETED", "complete", recorded=False),
        "ignored": _decided("COMPENSATED", "complete"),
        "shipped": _decided("COMPENSATED", "reject", reason="shipping failed: CARRIER_DECLINED: x"),
    }
    shipments = [
        {"orderId": "unrecorded", "status": "SCHEDULED"},
        {"orderId": "ignored", "status": "CANCELLED"},
        {"orderId": "shipped", "status": "SCHEDULED"},
    ]
    decisions = [
        ("refused", "complete", 409),
        ("unrecorded", "complete", 202),
        ("ignored", "complete", 202),
        ("shipped", "reject", 202),
    ]
    found = {v.subject: v.detail for v in check_decisions(tables(shipments=shipments), statuses, decisions)}
    assert "answered 409" in found["refused"]
    assert "not on the shipping step's record" in found["unrecorded"]
    assert "confirmed, but the order is COMPENSATED" in found["ignored"]
    assert "declined, but" in found["shipped"]


def test_payments_read_apart_from_their_order_are_an_error_not_a_split_order() -> None:
    # GIVEN a scan that returned an order's payment items apart from each other
    payments = [*capture("a"), *capture("b"), *refund("a")]
    # THEN the money check refuses it rather than checking order "a" twice, half each time
    with pytest.raises(AssertionError, match="apart"):
        check_money(tables(payments), {"a": status("COMPENSATED"), "b": status("COMPLETED")})
