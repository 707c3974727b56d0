"""The sandbox processor: deterministic by token, idempotent per (order, operation)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from payment.errors import PaymentDeclinedError, PaymentGatewayUnavailableError, RefundRejectedError
from payment.gateway import handle
from payment.gateways import (
    AuthorizationStatus,
    GatewayCall,
    GatewaySettings,
    SandboxGateway,
    Settlement,
    SettlementOutcome,
    build_gateway,
)
from tests.factories import order
from tests.unit.payment.payment_cloud import create_payments_table
from workflow_core.errors import InvalidTaskInputError

# One state machine execution asking, under one key per order and operation (as the ASL passes them).
CALL = GatewayCall(
    caller="arn:aws:states:us-east-1:123456789012:execution:payment:o-1-payment-1", idempotency_key="o-1"
)


def _items(order_id: str) -> list[dict[str, Any]]:
    response = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName="payments",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )
    return list(response["Items"])


def items(gateway: SandboxGateway, order_id: str) -> list[str]:
    """The processor's own items of the order (not its record of calls)."""
    return sorted(item["sk"]["S"] for item in _items(order_id) if not item["sk"]["S"].startswith("CALL#"))


def calls(order_id: str) -> list[tuple[str, str, int, str, bool]]:
    """The order's recorded calls: (operation, caller, attempts, outcome, moved money)."""
    return sorted(
        (
            item["operation"]["S"],
            item["caller"]["S"],
            int(item["attempts"]["N"]),
            item.get("outcome", {}).get("S", ""),
            item.get("moved", {}).get("BOOL", False),
        )
        for item in _items(order_id)
        if item["sk"]["S"].startswith("CALL#")
    )


def test_authorizing_twice_holds_once(sandbox: SandboxGateway) -> None:
    # GIVEN an order authorized once
    first = sandbox.authorize(order("o-1"))

    # WHEN the same authorization is requested again (a Step Functions retry)
    second = sandbox.authorize(order("o-1"))

    # THEN the original authorization comes back and only one exists
    assert second == first
    assert (first.payment_id, first.authorization_id, first.amount_minor) == ("pay_o-1", "auth_o-1_1", 3300)
    assert items(sandbox, "o-1") == ["GATEWAY#authorize"]


def test_capturing_twice_charges_once(sandbox: SandboxGateway) -> None:
    # GIVEN an authorized order
    sandbox.authorize(order("o-1"))

    # WHEN capture is requested twice
    first, second = sandbox.capture("o-1", call=CALL), sandbox.capture("o-1", call=CALL)

    # THEN one capture exists and both calls report it
    assert first == second
    assert (first.capture_id, first.amount_minor) == ("cap_o-1", 3300)
    assert items(sandbox, "o-1") == ["GATEWAY#authorize", "GATEWAY#capture"]


def test_a_declined_card_is_declined_every_time(sandbox: SandboxGateway) -> None:
    # GIVEN the decline test card WHEN authorized twice THEN both raise, and nothing can be captured
    for _ in range(2):
        with pytest.raises(PaymentDeclinedError, match="declined"):
            sandbox.authorize(order("o-1", token="tok_chargeDeclined"))
    with pytest.raises(PaymentDeclinedError, match="no open authorization"):
        sandbox.capture("o-1", call=CALL)


def test_an_unknown_token_is_declined(sandbox: SandboxGateway) -> None:
    with pytest.raises(PaymentDeclinedError, match="unknown test token"):
        sandbox.authorize(order("o-1", token="tok_bogus"))


def test_a_flaky_processor_fails_the_first_attempt_only(sandbox: SandboxGateway) -> None:
    # GIVEN the flaky test card
    flaky = order("o-1", token="tok_gatewayFlaky")

    # WHEN authorized: the first attempt times out, the retry succeeds, a third replays the second
    with pytest.raises(PaymentGatewayUnavailableError):
        sandbox.authorize(flaky)
    second = sandbox.authorize(flaky)

    # THEN the state lives in the table, so a fresh gateway object (another Lambda instance) agrees
    other_instance = SandboxGateway(
        table_name="payments", client=boto3.client("dynamodb", region_name="us-east-1")
    )
    assert other_instance.authorize(flaky) == second


def test_void_releases_an_open_hold_and_a_later_attempt_may_authorize_again(sandbox: SandboxGateway) -> None:
    # GIVEN an authorized order
    sandbox.authorize(order("o-1"))

    # WHEN the hold is voided (twice: compensation retried)
    voided = sandbox.void("o-1")
    again = sandbox.void("o-1")

    # THEN it is released, capture is refused, and a new payment attempt gets a fresh authorization
    assert (voided.voided, voided.status, again.voided) == (True, AuthorizationStatus.VOIDED, True)
    with pytest.raises(PaymentDeclinedError, match="VOIDED"):
        sandbox.capture("o-1", call=CALL)
    assert sandbox.authorize(order("o-1")).authorization_id == "auth_o-1_2"


def test_void_reports_a_capture_it_cannot_undo(sandbox: SandboxGateway) -> None:
    # GIVEN a captured order, and an order never authorized
    sandbox.authorize(order("o-1"))
    sandbox.capture("o-1", call=CALL)

    # WHEN voided THEN the caller learns it must refund instead, or that there was nothing to void
    assert sandbox.void("o-1").status == AuthorizationStatus.CAPTURED
    assert sandbox.void("o-2").voided is False
    assert sandbox.void("o-2").status == AuthorizationStatus.NONE


def test_refunding_twice_refunds_once(sandbox: SandboxGateway) -> None:
    # GIVEN a captured order
    sandbox.authorize(order("o-1"))
    sandbox.capture("o-1", call=CALL)

    # WHEN refunded by the payment machine's compensation and again by the refund machine
    first = sandbox.refund("o-1", call=CALL)
    second = sandbox.refund("o-1", call=CALL, payment_id="pay_o-1", amount_minor=3300)

    # THEN one refund exists
    assert first == second
    assert (first.refund_id, first.amount_minor) == ("re_o-1", 3300)
    assert items(sandbox, "o-1") == ["GATEWAY#authorize", "GATEWAY#capture", "GATEWAY#refund"]


@pytest.mark.parametrize(
    ("token", "kwargs", "message"),
    [
        ("tok_refundFails", {}, "refused the refund"),
        ("tok_visa", {"payment_id": "pay_other"}, "is not the capture"),
        ("tok_visa", {"amount_minor": 5000}, "outside the captured 3300"),
    ],
)
def test_refund_rejections(sandbox: SandboxGateway, token: str, kwargs: dict[str, Any], message: str) -> None:
    # GIVEN a captured order WHEN a refund the processor refuses is requested THEN RefundRejectedError
    sandbox.authorize(order("o-1", token=token))
    sandbox.capture("o-1", call=CALL)
    with pytest.raises(RefundRejectedError, match=message):
        sandbox.refund("o-1", call=CALL, **kwargs)


def test_a_rejected_refund_stays_rejected(sandbox: SandboxGateway) -> None:
    sandbox.authorize(order("o-1", token="tok_refundFails"))
    sandbox.capture("o-1", call=CALL)
    for _ in range(2):
        with pytest.raises(RefundRejectedError):
            sandbox.refund("o-1", call=CALL)


def test_nothing_captured_nothing_to_refund(sandbox: SandboxGateway) -> None:
    sandbox.authorize(order("o-1"))
    with pytest.raises(RefundRejectedError, match="no captured payment"):
        sandbox.refund("o-1", call=CALL)


def test_settle_refunds_a_capture_once(sandbox: SandboxGateway) -> None:
    # GIVEN a captured order (no ledger: the gateway does not need one)
    sandbox.authorize(order("o-1"))
    sandbox.capture("o-1", call=CALL)

    # WHEN settled twice (a retry, or the payment machine's compensation then the refund machine)
    first, second = sandbox.settle("o-1", call=CALL), sandbox.settle("o-1", call=CALL)

    # THEN the capture was refunded in full, once
    assert (
        first
        == second
        == Settlement(
            order_id="o-1",
            outcome=SettlementOutcome.REFUNDED,
            amount_minor=3300,
            payment_id="pay_o-1",
            refund_id="re_o-1",
        )
    )
    assert items(sandbox, "o-1") == ["GATEWAY#authorize", "GATEWAY#capture", "GATEWAY#refund"]


def test_settle_voids_a_hold_and_a_capture_in_flight_then_fails(sandbox: SandboxGateway) -> None:
    # GIVEN an authorized, uncaptured order (its payment execution is still running)
    sandbox.authorize(order("o-1"))

    # WHEN settled
    settled = sandbox.settle("o-1", call=CALL)

    # THEN the hold is released, no money went back because none was taken, and the capture is refused
    assert (settled.outcome, settled.amount_minor, settled.payment_id) == (
        SettlementOutcome.VOIDED,
        0,
        "pay_o-1",
    )
    with pytest.raises(PaymentDeclinedError, match="VOIDED"):
        sandbox.capture("o-1", call=CALL)
    assert sandbox.settle("o-1", call=CALL) == settled


def test_settle_refunds_a_capture_made_after_an_earlier_void(sandbox: SandboxGateway) -> None:
    # GIVEN a hold voided by a settlement, then a later payment attempt that authorized and captured
    sandbox.authorize(order("o-1"))
    sandbox.settle("o-1", call=CALL)
    sandbox.authorize(order("o-1"))
    sandbox.capture("o-1", call=CALL)

    # WHEN settled again THEN that capture is refunded
    settled = sandbox.settle("o-1", call=CALL)
    assert (settled.outcome, settled.amount_minor) == (SettlementOutcome.REFUNDED, 3300)


@pytest.mark.parametrize("token", [None, "tok_chargeDeclined"])
def test_settle_with_nothing_held(sandbox: SandboxGateway, token: str | None) -> None:
    # GIVEN an order never authorized, or declined WHEN settled THEN nothing was held
    if token:
        with pytest.raises(PaymentDeclinedError):
            sandbox.authorize(order("o-1", token=token))
    assert sandbox.settle("o-1", call=CALL) == Settlement(
        order_id="o-1", outcome=SettlementOutcome.NOTHING_HELD, amount_minor=0
    )


def test_settle_of_a_card_that_refuses_refunds(sandbox: SandboxGateway) -> None:
    # GIVEN two orders on a card whose issuer refuses refunds: one held, one captured
    sandbox.authorize(order("o-1", token="tok_refundFails"))
    sandbox.authorize(order("o-2", token="tok_refundFails"))
    sandbox.capture("o-2", call=CALL)

    # WHEN settled THEN the hold is voided (a void is never rejected) and the capture's refund is rejected
    assert sandbox.settle("o-1", call=CALL).outcome == SettlementOutcome.VOIDED
    for _ in range(2):
        with pytest.raises(RefundRejectedError, match="refused"):
            sandbox.settle("o-2", call=CALL)


def test_the_handler_speaks_camel_case_payloads(sandbox: SandboxGateway) -> None:
    # GIVEN the payloads the state machines send
    authorize = {"operation": "authorize", "order": order("o-1").to_wire()}

    # WHEN handled THEN results come back in the shape the ASL selects from
    assert handle(authorize, gateway=sandbox)["paymentId"] == "pay_o-1"
    call = {"caller": "exec-1", "idempotencyKey": "o-1:capture"}
    capture = {"operation": "capture", "orderId": "o-1", "call": call}
    assert handle(capture, gateway=sandbox)["captureId"] == "cap_o-1"
    assert handle({"operation": "void", "orderId": "o-1"}, gateway=sandbox) == {
        "orderId": "o-1",
        "voided": False,
        "status": "CAPTURED",
        "paymentId": "pay_o-1",
    }
    refund = {
        "operation": "refund",
        "orderId": "o-1",
        "call": call,
        "paymentId": "pay_o-1",
        "amountMinor": 3300,
    }
    assert handle(refund, gateway=sandbox)["refundId"] == "re_o-1"
    assert handle({"operation": "settle", "orderId": "o-1", "call": call}, gateway=sandbox) == {
        "orderId": "o-1",
        "outcome": "REFUNDED",
        "paymentId": "pay_o-1",
        "refundId": "re_o-1",
        "amountMinor": 3300,
    }
    assert handle({"operation": "settle", "orderId": "o-2", "call": call}, gateway=sandbox) == {
        "orderId": "o-2",
        "outcome": "NOTHING_HELD",
        "paymentId": None,
        "refundId": None,
        "amountMinor": 0,
    }


def test_a_money_call_must_say_who_asks_and_under_which_key(sandbox: SandboxGateway) -> None:
    sandbox.authorize(order("o-1"))
    for operation in ("capture", "settle", "refund"):
        with pytest.raises(InvalidTaskInputError, match="call"):
            handle({"operation": operation, "orderId": "o-1"}, gateway=sandbox)
    assert calls("o-1") == []


@pytest.mark.parametrize(
    "event",
    [None, [], {}, {"operation": "charge", "orderId": "o-1"}, {"operation": "authorize", "order": {}}],
)
def test_a_request_of_another_shape_is_a_typed_error_that_moves_nothing(
    sandbox: SandboxGateway, event: Any
) -> None:
    # The fuzz suite's finding: pydantic's ValidationError surfaced as the task's error, a name no state
    # machine catches on purpose
    with pytest.raises(InvalidTaskInputError, match="does not match the contract"):
        handle(event, gateway=sandbox)
    assert calls("o-1") == []


@pytest.mark.parametrize("order_id", ["\ud800", "o 1", "", "o" * 65])
def test_an_order_id_no_order_has_is_a_typed_error_that_reaches_no_store(
    sandbox: SandboxGateway, order_id: str
) -> None:
    # The fuzz suite's finding: a lone surrogate as the order id reached the processor's table and
    # failed there with UnicodeEncodeError; the gateway holds it to what an Order's id may be
    sandbox.authorize(order("o-1"))
    call = {"caller": CALL.caller, "idempotencyKey": CALL.idempotency_key}
    for request in (
        {"operation": "capture", "orderId": order_id, "call": call},
        {"operation": "void", "orderId": order_id},
        {"operation": "refund", "orderId": order_id, "call": call, "paymentId": "\udfff"},
    ):
        with pytest.raises(InvalidTaskInputError, match="orderId"):
            handle(request, gateway=sandbox)
    assert calls("o-1") == []


def test_every_call_is_recorded_its_retries_counted_as_one_call(sandbox: SandboxGateway) -> None:
    # GIVEN an authorized order
    sandbox.authorize(order("o-1"))
    # WHEN its payment execution captures, and a Step Functions retry of the same task captures again
    sandbox.capture("o-1", call=CALL)
    sandbox.capture("o-1", call=CALL)
    # THEN one call is recorded, with two attempts, which took the money
    assert calls("o-1") == [("capture", CALL.caller, 2, "REPLAYED", True)]


def test_a_second_caller_is_a_second_call_even_when_the_gateway_deduplicates_it(
    sandbox: SandboxGateway,
) -> None:
    # GIVEN an order captured by its payment execution
    sandbox.authorize(order("o-1"))
    first = sandbox.capture("o-1", call=CALL)
    # WHEN a second payment execution asks to capture the order under the same key
    second = GatewayCall(caller="exec-of-attempt-2", idempotency_key=CALL.idempotency_key)
    again = sandbox.capture("o-1", call=second)
    # THEN the gateway charged once (the replay returns the first capture) ...
    assert again == first
    assert items(sandbox, "o-1") == ["GATEWAY#authorize", "GATEWAY#capture"]
    # ... and recorded both calls, each answered with the money taken: a processor that deduplicates on
    # the key of the call would have kept it to one, one that does not would have charged twice
    assert calls("o-1") == [
        ("capture", CALL.caller, 1, "CAPTURED", True),
        ("capture", "exec-of-attempt-2", 1, "REPLAYED", True),
    ]


def test_refused_and_settled_calls_record_that_no_money_moved(sandbox: SandboxGateway) -> None:
    # GIVEN an order on a card whose refunds are refused, captured; and one only authorized
    sandbox.authorize(order("o-1", token="tok_refundFails"))
    sandbox.capture("o-1", call=CALL)
    sandbox.authorize(order("o-2"))
    # WHEN each is settled
    with pytest.raises(RefundRejectedError):
        sandbox.settle("o-1", call=CALL)
    sandbox.settle("o-2", call=CALL)
    # THEN the rejected refund and the voided hold are recorded, neither as money moved
    assert calls("o-1") == [
        ("capture", CALL.caller, 1, "CAPTURED", True),
        ("settle", CALL.caller, 1, "REFUSED", False),
    ]
    assert calls("o-2") == [("settle", CALL.caller, 1, "VOIDED", False)]


def test_only_the_sandbox_ships() -> None:
    with pytest.raises(ValueError, match="not a known gateway"):
        build_gateway(GatewaySettings(gateway="stripe", payments_table_name="payments"), dynamodb_client=None)


class _Throttling:
    """The gateway's DynamoDB client, with ``operation`` throttled past the SDK's own retries while on."""

    def __init__(self, client: Any, operation: str) -> None:
        self._client, self._operation, self.on = client, operation, True

    def __getattr__(self, name: str) -> Any:
        if self.on and name == self._operation:
            response: Any = {
                "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }

            def throttled(**_: Any) -> Any:
                raise ClientError(response, name)

            return throttled
        return getattr(self._client, name)


def test_a_table_throttled_past_the_sdks_retries_is_an_outage_the_flow_retries(aws: None) -> None:
    # GIVEN the capture's transaction throttled past botocore's attempts (found by the chaos profile: the
    # raw ClientError matched no Retry, the flow's Catch failed the payment for a transient cause)
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_payments_table(client)
    throttling = _Throttling(client, "transact_write_items")
    gateway = SandboxGateway(table_name="payments", client=throttling)
    gateway.authorize(order("o-1"))
    # WHEN captured: the processor is unavailable for now, the name the state machine's Retry lists
    with pytest.raises(PaymentGatewayUnavailableError, match="ProvisionedThroughputExceededException"):
        gateway.capture("o-1", call=CALL)
    # THEN once the table answers again, the retry captures, once
    throttling.on = False
    assert gateway.capture("o-1", call=CALL).amount_minor == 3300
    assert items(gateway, "o-1") == ["GATEWAY#authorize", "GATEWAY#capture"]
