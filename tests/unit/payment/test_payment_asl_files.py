"""Static checks of the ASL files: the contract with the stack and the rules moto cannot check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit.payment.payment_cloud import load_event, refund_input
from workflow_core.catalog import parse_event
from workflow_core.events import WorkflowStarted
from workflow_core.order_workflow import PAYMENT

STATEMACHINES = Path(__file__).resolve().parents[3] / "statemachines"
PLACEHOLDERS = {"ChecksFunctionArn", "GatewayFunctionArn", "PaymentsTableName", "EventBusName"}
RETRIED_GATEWAY_ERRORS = {
    "PaymentGatewayUnavailableError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def definition(name: str) -> dict[str, Any]:
    return json.loads((STATEMACHINES / f"{name}.asl.json").read_text())


@pytest.mark.parametrize("name", ["payment", "refund"])
def test_only_the_documented_placeholders_are_used(name: str) -> None:
    text = (STATEMACHINES / f"{name}.asl.json").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= PLACEHOLDERS


@pytest.mark.parametrize("name", ["payment", "refund"])
def test_every_state_says_why_and_every_transition_exists(name: str) -> None:
    states = definition(name)["States"]
    for state_name, state in states.items():
        assert state.get("Comment"), f"{state_name} has no Comment"
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Catch", []) + state.get("Choices", [])]
        assert all(t in states for t in targets if t), f"{state_name} points at a missing state"


@pytest.mark.parametrize("name", ["payment", "refund"])
def test_gateway_retries_back_off_with_full_jitter_on_transient_errors_only(name: str) -> None:
    for state in definition(name)["States"].values():
        if "${GatewayFunctionArn}" not in json.dumps(state.get("Parameters", {})):
            continue
        for retrier in state["Retry"]:
            assert set(retrier["ErrorEquals"]) == RETRIED_GATEWAY_ERRORS
            assert retrier["BackoffRate"] > 1
            assert retrier["MaxDelaySeconds"] > 0
            assert retrier["JitterStrategy"] == "FULL"


def test_the_event_fixtures_satisfy_the_contract() -> None:
    WorkflowStarted.model_validate(load_event("workflow_started.json")["data"])
    assert parse_event(refund_input()).detail_type == "RefundRequested"


GATEWAY_LAMBDA_TIMEOUT = 30  # seconds: infra/constructs/defaults.FUNCTION_TIMEOUT, the gateway's timeout
DYNAMODB_CALL = 5  # seconds: a generous bound on one DynamoDB call from a task state


def worst_case(state: dict[str, Any], call_seconds: int) -> float:
    """Every attempt of a task state timing out, with the longest backoff between them."""
    [retrier] = state["Retry"]
    retries = retrier["MaxAttempts"]
    backoff = sum(
        min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** i, retrier["MaxDelaySeconds"])
        for i in range(retries)
    )
    return float((retries + 1) * call_seconds + backoff)


def test_a_claim_is_taken_over_only_after_a_live_holder_would_have_closed_it() -> None:
    states = definition("refund")["States"]
    # A live execution holds the claim REQUESTED from ClaimRefund until it records the outcome.
    holding = worst_case(states["SettlePayment"], GATEWAY_LAMBDA_TIMEOUT) + max(
        worst_case(states[record], DYNAMODB_CALL) for record in ("RecordSettlement", "RecordRefundFailure")
    )
    [bound] = states["ClaimWaitExhausted"]["Choices"]
    waited = bound["NumericGreaterThanEquals"] * states["WaitForClaim"]["Seconds"]
    assert waited >= 3 * holding, f"wait {waited} s for a claim a live execution holds up to {holding} s"
    # AND the request that takes over still answers inside the controller's compensation deadline
    deadline = PAYMENT.compensation.deadline.total_seconds()  # type: ignore[union-attr]
    assert waited + holding < deadline / 2
