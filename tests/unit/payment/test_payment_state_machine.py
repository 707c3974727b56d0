"""The payment state machine, run by moto's interpreter with the real task handlers in-process."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

from order_workflow.events import PaymentFailed, PaymentProcessed
from payment.errors import PaymentGatewayUnavailableError
from payment.gateways import GatewayCall, SandboxGateway
from tests.unit.payment.payment_cloud import PaymentCloud, payment_input
from workflow_core.catalog import DomainEvent
from workflow_core.envelope import WorkflowContext
from workflow_core.registry import parse_event


def outcome(cloud: PaymentCloud, started: dict[str, Any]) -> DomainEvent:
    """The one event the execution published, which carries the workflow context it was started with."""
    published = cloud.published()
    assert len(published) == 1, [e["detail-type"] for e in published]
    event = parse_event(published[0])
    assert event.workflow == WorkflowContext.model_validate(started["workflow"])
    assert event.workflow.name == "order"
    return event


def test_happy_path_captures_books_and_publishes_payment_processed(cloud: PaymentCloud) -> None:
    # GIVEN an order paid with a card that works
    started = payment_input("o-1001", token="tok_visa")

    # WHEN the controller starts the payment
    execution = cloud.run("payment", started, name="o-1001-payment-1")

    # THEN it succeeds through every forward step
    assert execution["status"] == "SUCCEEDED"
    assert cloud.states_entered(execution) == [
        "ValidateOrder",
        "FraudScreen",
        "Authorize",
        "Capture",
        "RecordLedger",
        "PublishPaymentProcessed",
    ]
    # AND publishes a PaymentProcessed (schema v2) that satisfies the contract, tied to its cause
    event = outcome(cloud, started)
    assert event.detail_type == "PaymentProcessed"
    assert isinstance(event.data, PaymentProcessed)
    assert event.metadata.schema_version == 2
    assert event.data.order_id == "o-1001"
    assert event.data.payment_id == "pay_o-1001"
    assert (event.data.amount_minor, event.data.currency) == (3300, "EUR")
    # AND the order reaches the next step in the workflow context, not in the event's data
    assert event.workflow is not None
    assert event.workflow.subject == started["workflow"]["subject"]
    assert event.workflow.subject["orderId"] == "o-1001"
    assert event.metadata.event_id == "o-1001-payment-1:PaymentProcessed"
    assert event.metadata.correlation_id == "o-1001"
    assert event.metadata.causation_id == started["metadata"]["eventId"]
    assert event.metadata.producer == "payments.orchestrator"
    # AND the ledger books exactly the captured amount
    ledger = cloud.items("o-1001")["LEDGER"]
    assert (ledger["orderId"], ledger["customerId"]) == ("o-1001", "c-42")
    assert ledger["paymentId"] == "pay_o-1001"
    assert ledger["amountMinor"] == "3300"
    assert ledger["executionName"] == "o-1001-payment-1"
    # AND the gateway recorded one capture call, made by this execution under the order's capture key
    (call,) = cloud.calls("o-1001")
    assert (call["operation"], call["idempotencyKey"], call["outcome"], call["moved"]) == (
        "capture",
        "o-1001:capture",
        "CAPTURED",
        True,
    )
    assert call["caller"] == execution["executionArn"]


def failure(cloud: PaymentCloud, started: dict[str, Any]) -> PaymentFailed:
    event = outcome(cloud, started)
    assert event.detail_type == "PaymentFailed"
    assert isinstance(event.data, PaymentFailed)
    assert event.data.order_id == started["workflow"]["subject"]["orderId"]
    assert event.metadata.causation_id == started["metadata"]["eventId"]
    return event.data


def gateway_calls(cloud: PaymentCloud, operation: str) -> list[dict[str, Any]]:
    return [i["event"] for i in cloud.invocations if i["event"].get("operation") == operation]


def test_declined_card_publishes_payment_failed_without_capture(cloud: PaymentCloud) -> None:
    # GIVEN an order paid with a card the issuer declines
    started = payment_input("o-2001", token="tok_chargeDeclined")

    # WHEN the payment runs
    execution = cloud.run("payment", started, name="o-2001-payment-1")

    # THEN the orchestration succeeds and reports the decline, with nothing to undo
    assert execution["status"] == "SUCCEEDED"
    failed = failure(cloud, started)
    assert (failed.reason, failed.compensation) == ("DECLINED", "NONE")
    assert failed.message == "the card was declined"
    assert "Capture" not in cloud.states_entered(execution)
    assert "GATEWAY#capture" not in cloud.items("o-2001")


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ({"amountMinor": 9999}, "INVALID_ORDER"),
        ({"currency": "JPY"}, "INVALID_ORDER"),
        (
            {
                "shippingAddress": {
                    "line1": "1 Main St",
                    "city": "Pyongyang",
                    "postalCode": "1",
                    "country": "KP",
                }
            },
            "FRAUD_SUSPECTED",
        ),
    ],
)
def test_rejected_order_never_reaches_the_gateway(
    cloud: PaymentCloud, order: dict[str, Any], reason: str
) -> None:
    # GIVEN an order the checks reject
    started = payment_input("o-3001", **order)

    # WHEN the payment runs
    execution = cloud.run("payment", started, name="o-3001-payment-1")

    # THEN PaymentFailed carries the reason and the checks' message, and no money moved
    failed = failure(cloud, started)
    assert (failed.reason, failed.compensation) == (reason, "NONE")
    assert "o-3001" in failed.message
    assert execution["status"] == "SUCCEEDED"
    assert not [i for i in cloud.invocations if i["function"] == "payment-gateway"]


def test_flaky_gateway_is_retried_with_backoff_then_succeeds(cloud: PaymentCloud) -> None:
    # GIVEN a card whose processor times out on the first authorization of each order
    started = payment_input("o-4001", token="tok_gatewayFlaky")

    # WHEN the payment runs
    execution = cloud.run("payment", started, name="o-4001-payment-1")

    # THEN Authorize was retried once, after a jittered wait no longer than the first interval
    assert execution["status"] == "SUCCEEDED"
    assert len(gateway_calls(cloud, "authorize")) == 2
    assert len(cloud.retry_waits) == 1
    assert 0 <= cloud.retry_waits[0] <= 2
    # AND the payment went through once
    assert outcome(cloud, started).detail_type == "PaymentProcessed"
    assert "GATEWAY#authorize#OUTAGE" in cloud.items("o-4001")


def test_capture_outage_voids_the_authorization(cloud: PaymentCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a processor whose capture endpoint stays down
    def capture_down(self: SandboxGateway, order_id: str, *, call: GatewayCall) -> None:
        raise PaymentGatewayUnavailableError("capture endpoint down")

    monkeypatch.setattr(SandboxGateway, "capture", capture_down)

    # WHEN the payment runs
    started = payment_input("o-5001")
    execution = cloud.run("payment", started, name="o-5001-payment-1")

    # THEN capture is retried with capped, jittered backoff, then the hold is released
    assert len(gateway_calls(cloud, "capture")) == 5  # 1 + MaxAttempts 4
    assert len(cloud.retry_waits) == 4
    assert all(0 <= wait <= 30 for wait in cloud.retry_waits)
    entered = cloud.states_entered(execution)
    assert entered[entered.index("Capture") + 1 :] == [
        "DescribeCaptureError",
        "SettlePayment",
        "SettledHow",
        "MarkVoided",
        "PublishPaymentFailed",
        "PaymentNotTaken",
    ]
    failed = failure(cloud, started)
    assert (failed.reason, failed.compensation) == ("GATEWAY_ERROR", "VOIDED")
    assert cloud.items("o-5001")["GATEWAY#authorize"]["status"] == "VOIDED"


def test_ledger_failure_after_capture_refunds_the_capture(
    cloud: PaymentCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a payments table that rejects the ledger write
    original = DynamoDBBackend.put_item

    def put_item(
        self: DynamoDBBackend, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        if item_attrs.get("sk") == {"S": "LEDGER"}:
            raise RuntimeError("disk full")
        return original(self, table_name, item_attrs, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_item)

    # WHEN the payment runs
    started = payment_input("o-6001")
    execution = cloud.run("payment", started, name="o-6001-payment-1")

    # THEN the captured money is refunded and the failure says so
    assert "SettlePayment" in cloud.states_entered(execution)
    assert len(gateway_calls(cloud, "settle")) == 1
    failed = failure(cloud, started)
    assert (failed.reason, failed.compensation) == ("LEDGER_ERROR", "REFUNDED")
    assert cloud.items("o-6001")["GATEWAY#refund"]["status"] == "REFUNDED"


def test_a_new_attempt_after_success_does_not_charge_again(cloud: PaymentCloud) -> None:
    # GIVEN an order already paid by attempt 1
    started = payment_input("o-7001")
    cloud.run("payment", started, name="o-7001-payment-1")
    first = outcome(cloud, started)

    # WHEN the controller starts attempt 2 (e.g. attempt 1's outcome was lost to a deadline)
    execution = cloud.run("payment", started, name="o-7001-payment-2")

    # THEN attempt 2 reports the same payment, found already booked, with its own event id
    assert execution["status"] == "SUCCEEDED"
    second = outcome(cloud, started)
    assert isinstance(first.data, PaymentProcessed)
    assert isinstance(second.data, PaymentProcessed)
    assert second.data.payment_id == first.data.payment_id
    assert second.event_id == "o-7001-payment-2:PaymentProcessed" != first.event_id
    # AND the processor holds exactly one authorization and one capture
    items = cloud.items("o-7001")
    assert sorted(items) == ["GATEWAY#authorize", "GATEWAY#capture", "LEDGER"]
    assert items["LEDGER"]["executionName"] == "o-7001-payment-1"


def test_duplicate_start_with_the_same_name_is_refused(cloud: PaymentCloud) -> None:
    # GIVEN a payment that already ran
    started = payment_input("o-8001")
    cloud.run("payment", started, name="o-8001-payment-1")

    # WHEN the controller's start is delivered again with the same execution name
    # THEN Step Functions refuses it (the controller treats ExecutionAlreadyExists as "already started")
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        cloud.run("payment", started, name="o-8001-payment-1")
    # AND the order was charged and announced once
    assert len(cloud.published()) == 1
    assert len(gateway_calls(cloud, "capture")) == 1
