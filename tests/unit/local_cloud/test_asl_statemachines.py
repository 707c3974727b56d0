"""The repository's own state machines (payment, refund) on the interpreter, with scripted tasks.

Tasks run through the standard TaskIntegrations, so Lambda results and DynamoDB errors arrive shaped as
in AWS; the Lambdas and the AWS clients are fakes that answer from a script and record what they got.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from workflowkit.asl import (
    ExecutionResult,
    StateMachineProgram,
    TaskIntegrations,
    TransitionEvent,
    VirtualRuntime,
    run_to_completion,
)

ROOT = Path(__file__).resolve().parents[3]
CHECKS = "arn:aws:lambda:us-east-1:123456789012:function:payment-checks"
GATEWAY = "arn:aws:lambda:us-east-1:123456789012:function:payment-gateway"
PLACEHOLDERS = {
    "${ChecksFunctionArn}": CHECKS,
    "${GatewayFunctionArn}": GATEWAY,
    "${PaymentsTableName}": "payments",
    "${EventBusName}": "commerce",
}


def load(name: str) -> StateMachineProgram:
    text = (ROOT / "statemachines" / f"{name}.asl.json").read_text(encoding="utf-8")
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return StateMachineProgram.parse(text)


PAYMENT = load("payment")
REFUND = load("refund")

LambdaScript = Callable[[dict[str, Any]], Any]


def lambda_error(error_type: str, message: str) -> Exception:
    return _LambdaError(error_type, message)


class _LambdaError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def client_error(code: str, operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "The conditional request failed"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


class World:
    """Fake Lambdas (by operation) and AWS clients, with a record of every call in order."""

    def __init__(self, lambdas: dict[str, LambdaScript | list[Any]]) -> None:
        self.lambdas = lambdas
        self.calls: list[tuple[str, Any]] = []
        self.put_item_errors: list[str | None] = []
        self.get_item_answers: list[dict[str, Any] | None] = []
        self.events: list[dict[str, Any]] = []
        self.integrations = TaskIntegrations(self.invoke, lambda service: self)

    def invoke(self, function: str, payload: Any) -> tuple[str, bool]:
        operation = payload["operation"]
        self.calls.append((operation, payload))
        script = self.lambdas[operation]
        outcome = script.pop(0) if isinstance(script, list) else script(payload)
        if isinstance(outcome, _LambdaError):
            body = {"errorMessage": str(outcome), "errorType": outcome.error_type, "stackTrace": []}
            return json.dumps(body), True
        return json.dumps(outcome), False

    # The DynamoDB and EventBridge client methods TaskIntegrations calls.
    def put_item(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("put_item", arguments))
        error = self.put_item_errors.pop(0) if self.put_item_errors else None
        if error:
            raise client_error(error, "PutItem")
        return {"ResponseMetadata": {}}

    def get_item(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("get_item", arguments))
        item = self.get_item_answers.pop(0) if len(self.get_item_answers) > 1 else self.get_item_answers[0]
        return {"Item": item} if item is not None else {}

    def update_item(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("update_item", arguments))
        return {}

    def put_events(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("put_events", arguments))
        self.events.extend(arguments["Entries"])
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in arguments["Entries"]]}


def execute(
    program: StateMachineProgram, world: World, execution_input: Any, *, name: str = "o-1-payment-1"
) -> tuple[ExecutionResult, list[str], list[TransitionEvent]]:
    runtime = VirtualRuntime(world.integrations.run_task, seed=3)
    events: list[TransitionEvent] = []
    result = run_to_completion(program, execution_input, runtime, name=name, on_transition=events.append)
    visited = [event.state_name for event in events if event.kind == "entered"]
    return result, visited, events


def duration(result: ExecutionResult) -> timedelta:
    assert result.start_time is not None
    assert result.stop_time is not None
    return result.stop_time - result.start_time


# --- payment ----------------------------------------------------------------------------------------------

ORDER = {
    "orderId": "o-1",
    "customerId": "c-1",
    "totalMinor": 2500,
    "currency": "EUR",
    "lines": [{"sku": "a", "qty": 1}],
}
# The controller starts the flow with the workflow's start announcement; the order is the context's subject.
CONTEXT = {"name": "order", "version": 1, "subject": ORDER, "outputs": {}}
PAYMENT_INPUT = {
    "data": {"workflowId": "o-1", "workflowType": "order", "version": 1},
    "workflow": CONTEXT,
    "metadata": {"correlationId": "corr-1", "eventId": "evt-1"},
}
AUTHORIZED = {"paymentId": "pay-1", "authorizationId": "auth-1", "amountMinor": 2500, "currency": "EUR"}
CAPTURED = {"captureId": "cap-1", "amountMinor": 2500, "currency": "EUR"}


def payment_world(**overrides: LambdaScript | list[Any]) -> World:
    scripts: dict[str, LambdaScript | list[Any]] = {
        "validate": lambda _: {"valid": True},
        "fraud": lambda _: {"decision": "ALLOW"},
        "authorize": lambda _: AUTHORIZED,
        "capture": lambda _: CAPTURED,
        "settle": lambda _: {"outcome": "VOIDED", "refundId": None, "amountMinor": 0},
    }
    scripts.update(overrides)
    return World(scripts)


def test_payment_happy_path_books_the_ledger_and_announces_payment_processed() -> None:
    world = payment_world()
    result, visited, _ = execute(PAYMENT, world, PAYMENT_INPUT)

    assert result.status == "SUCCEEDED"
    assert visited == [
        "ValidateOrder",
        "FraudScreen",
        "Authorize",
        "Capture",
        "RecordLedger",
        "PublishPaymentProcessed",
    ]
    output = json.loads(result.output or "")
    assert output["checks"] == {"validation": {"valid": True}, "fraud": {"decision": "ALLOW"}}
    assert output["authorization"] == AUTHORIZED
    assert output["capture"] == CAPTURED
    assert [operation for operation, _ in world.calls] == [
        "validate",
        "fraud",
        "authorize",
        "capture",
        "put_item",
        "put_events",
    ]
    ledger = dict(world.calls)["put_item"]
    assert ledger["TableName"] == "payments"
    assert ledger["ConditionExpression"] == "attribute_not_exists(pk)"
    assert ledger["Item"]["pk"] == {"S": "ORDER#o-1"}
    assert ledger["Item"]["amountMinor"] == {"N": "2500"}
    assert ledger["Item"]["executionName"] == {"S": "o-1-payment-1"}
    assert ledger["Item"]["recordedAt"] == {"S": "2026-01-05T09:00:00.000Z"}
    (event,) = world.events
    assert (event["EventBusName"], event["Source"], event["DetailType"]) == (
        "commerce",
        "commerce.payments",
        "PaymentProcessed",
    )
    detail = json.loads(event["Detail"])
    assert detail["metadata"]["eventId"] == "o-1-payment-1:PaymentProcessed"
    assert detail["metadata"]["causationId"] == "evt-1"
    assert detail["data"] == {
        "orderId": "o-1",
        "paymentId": "pay-1",
        "amountMinor": 2500,
        "currency": "EUR",
    }
    assert detail["metadata"]["schemaVersion"] == 2
    assert detail["workflow"] == CONTEXT  # carried unchanged to the next step
    assert event["Resources"][-1].endswith(":execution:local:o-1-payment-1")


def test_payment_invalid_order_is_reported_without_touching_the_processor() -> None:
    world = payment_world(validate=lambda _: lambda_error("InvalidOrderError", "totalMinor must be positive"))
    result, visited, _ = execute(PAYMENT, world, PAYMENT_INPUT)

    assert result.status == "SUCCEEDED"
    assert visited == ["ValidateOrder", "DescribeInvalidOrder", "PublishPaymentFailed", "PaymentNotTaken"]
    assert [operation for operation, _ in world.calls] == ["validate", "put_events"]
    detail = json.loads(world.events[0]["Detail"])
    assert world.events[0]["DetailType"] == "PaymentFailed"
    assert detail["data"] == {
        "orderId": "o-1",
        "reason": "INVALID_ORDER",
        "message": "totalMinor must be positive",
        "compensation": "NONE",
    }


def test_payment_ledger_conflict_means_already_booked_and_still_announces() -> None:
    world = payment_world()
    world.put_item_errors = ["ConditionalCheckFailedException"]
    result, visited, _ = execute(PAYMENT, world, PAYMENT_INPUT)

    assert result.status == "SUCCEEDED"
    assert visited[-2:] == ["RecordLedger", "PublishPaymentProcessed"]
    assert "error" not in json.loads(result.output or "")  # the catcher's ResultPath is null
    assert world.events[0]["DetailType"] == "PaymentProcessed"


def test_payment_throttled_checks_are_retried_on_virtual_time() -> None:
    throttled = [lambda_error("Lambda.TooManyRequestsException", "Rate exceeded")] * 2 + [{"valid": True}]
    world = payment_world(validate=throttled)
    result, visited, events = execute(PAYMENT, world, PAYMENT_INPUT)

    assert result.status == "SUCCEEDED"
    assert visited[:2] == ["ValidateOrder", "FraudScreen"]
    delays = [event.delay_seconds for event in events if event.kind == "retrying"]
    assert len(delays) == 2
    assert all(
        d is not None and 0 <= d <= limit for d, limit in zip(delays, [1, 2], strict=True)
    )  # full jitter
    assert duration(result) == timedelta(seconds=sum(d or 0 for d in delays))


def test_payment_capture_failure_settles_the_hold_and_reports_it_voided() -> None:
    unavailable = lambda _: lambda_error("PaymentGatewayUnavailableError", "gateway down")  # noqa: E731
    world = payment_world(capture=unavailable)
    result, visited, events = execute(PAYMENT, world, PAYMENT_INPUT)

    assert result.status == "SUCCEEDED"
    assert visited == [
        "ValidateOrder",
        "FraudScreen",
        "Authorize",
        "Capture",
        "DescribeCaptureError",
        "SettlePayment",
        "SettledHow",
        "MarkVoided",
        "PublishPaymentFailed",
        "PaymentNotTaken",
    ]
    assert [operation for operation, _ in world.calls].count("capture") == 5  # 1 + MaxAttempts 4
    assert len([e for e in events if e.kind == "retrying" and e.state_name == "Capture"]) == 4
    detail = json.loads(world.events[0]["Detail"])
    assert detail["data"]["reason"] == "GATEWAY_ERROR"
    assert detail["data"]["message"] == "capture failed: PaymentGatewayUnavailableError"
    assert detail["data"]["compensation"] == "VOIDED"


def test_payment_failed_compensation_fails_the_execution() -> None:
    declined = lambda _: lambda_error("PaymentDeclinedError", "card declined")  # noqa: E731
    world = payment_world(authorize=declined)
    result, visited, _ = execute(PAYMENT, world, PAYMENT_INPUT)
    assert result.status == "SUCCEEDED"
    assert visited == [
        "ValidateOrder",
        "FraudScreen",
        "Authorize",
        "DescribeDeclined",
        "PublishPaymentFailed",
        "PaymentNotTaken",
    ]

    broken = lambda _: lambda_error("PaymentGatewayUnavailableError", "down")  # noqa: E731
    world = payment_world(capture=broken, settle=broken)
    result, visited, _ = execute(PAYMENT, world, PAYMENT_INPUT)
    assert (result.status, result.error) == ("FAILED", "PaymentCompensationFailed")
    assert visited[-2:] == ["SettlePayment", "CompensationFailed"]


# --- refund ----------------------------------------------------------------------------------------------

REQUEST: dict[str, Any] = {
    "detail-type": "RefundRequested",
    "detail": {
        "metadata": {"eventId": "req-2", "correlationId": "corr-1"},
        "workflow": {"name": "order", "version": 1, "subject": {"orderId": "o-1"}, "outputs": {}},
        "data": {"orderId": "o-1", "reason": "OUT_OF_STOCK"},
    },
}
SETTLED = {"outcome": "REFUNDED", "paymentId": "pay-1", "refundId": "ref-1", "amountMinor": 2500}


def claim(status: str, holder: str, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": "ORDER#o-1"}, "status": {"S": status}, "requestEventId": {"S": holder}, **extra}


def test_refund_happy_path_claims_settles_records_and_announces() -> None:
    world = World({"settle": lambda _: SETTLED})
    result, visited, _ = execute(REFUND, world, REQUEST, name="refund-1")

    assert result.status == "SUCCEEDED"
    assert visited == [
        "HasCompensationAttempt",
        "DefaultCompensationAttempt",
        "ClaimRefund",
        "SettlePayment",
        "RecordSettlement",
        "PublishPaymentRefunded",
    ]
    put = dict(world.calls)["put_item"]
    assert put["Item"]["compensationAttempt"] == {"N": "1"}  # the default for requests without one
    update = dict(world.calls)["update_item"]
    assert json.loads(update["ExpressionAttributeValues"][":settlement"]["S"]) == SETTLED
    assert update["ExpressionAttributeValues"][":amount"] == {"N": "2500"}
    detail = json.loads(world.events[0]["Detail"])
    assert detail["metadata"]["eventId"] == "req-2:PaymentRefunded"
    assert detail["data"]["compensationAttempt"] == 1
    assert detail["data"]["outcome"] == "REFUNDED"


def test_refund_waits_for_another_requests_claim_then_reannounces_its_settlement() -> None:
    world = World({"settle": lambda _: pytest.fail("must not settle twice")})
    world.put_item_errors = ["ConditionalCheckFailedException"]
    world.get_item_answers = [
        claim("REQUESTED", "req-1"),
        claim("REFUNDED", "req-1", settlement={"S": json.dumps(SETTLED)}),
    ]
    request = {
        **REQUEST,
        "detail": {**REQUEST["detail"], "data": {**REQUEST["detail"]["data"], "compensationAttempt": 2}},
    }
    result, visited, _ = execute(REFUND, world, request, name="refund-2")

    assert result.status == "SUCCEEDED"
    assert visited == [
        "HasCompensationAttempt",
        "ClaimRefund",
        "ReadClaim",
        "ClaimedHow",
        "ClaimWaitStarted",
        "StartClaimWait",
        "WaitForClaim",
        "ReadClaim",
        "ClaimedHow",
        "HasRecordedSettlement",
        "RecallSettlement",
        "UseRecordedSettlement",
        "PublishPaymentRefunded",
    ]
    assert duration(result) == timedelta(seconds=10)  # one WaitForClaim, on virtual time
    detail = json.loads(world.events[0]["Detail"])
    assert detail["data"]["compensationAttempt"] == 2
    assert (detail["data"]["refundId"], detail["data"]["amountMinor"]) == ("ref-1", 2500)


def test_refund_takes_over_a_claim_held_too_long_after_ninety_waits() -> None:
    world = World({"settle": lambda _: SETTLED})
    world.put_item_errors = ["ConditionalCheckFailedException", None]
    world.get_item_answers = [claim("REQUESTED", "req-1")]  # the holder never finishes
    result, visited, _ = execute(REFUND, world, REQUEST, name="refund-3")

    assert result.status == "SUCCEEDED"
    assert visited.count("WaitForClaim") == 90
    assert visited[-4:] == ["TakeOverClaim", "SettlePayment", "RecordSettlement", "PublishPaymentRefunded"]
    assert duration(result) == timedelta(seconds=900)
    take_over = [arguments for operation, arguments in world.calls if operation == "put_item"][-1]
    assert take_over["Item"]["takenOverFrom"] == {"S": "req-1"}


@pytest.mark.parametrize(
    ("stored", "last_state", "status"),
    [
        (claim("REQUESTED", "req-2"), "AlreadyClaimed", "SUCCEEDED"),  # a redelivery of this very request
        (claim("ARCHIVED", "req-1"), "UnknownClaim", "FAILED"),
    ],
)
def test_refund_claim_outcomes(stored: dict[str, Any], last_state: str, status: str) -> None:
    world = World({})
    world.put_item_errors = ["ConditionalCheckFailedException"]
    world.get_item_answers = [stored]
    result, visited, _ = execute(REFUND, world, REQUEST, name="refund-4")
    assert (result.status, visited[-1]) == (status, last_state)
    if status == "FAILED":
        assert result.error == "RefundClaimUnknown"


def test_refund_rejected_is_recorded_and_reported_as_refund_failed() -> None:
    world = World({"settle": lambda _: lambda_error("RefundRejectedError", "capture too old")})
    result, visited, _ = execute(REFUND, world, REQUEST, name="refund-5")

    assert result.status == "SUCCEEDED"
    assert visited[-5:] == [
        "SettlePayment",
        "DescribeRefundRejected",
        "RecordRefundFailure",
        "PublishRefundFailed",
        "RefundNotMade",
    ]
    update = dict(world.calls)["update_item"]
    assert update["ExpressionAttributeValues"][":reason"] == {"S": "REFUND_REJECTED"}
    assert update["ExpressionAttributeValues"][":message"] == {"S": "capture too old"}
    assert world.events[0]["DetailType"] == "RefundFailed"
