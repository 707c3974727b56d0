"""Static checks of the ASL files: the contract with the stack and the rules moto cannot check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from order_workflow import ORDER_WORKFLOW, PAYMENT
from order_workflow.events import PaymentProcessed
from tests.unit.payment.payment_cloud import load_event, refund_input
from workflow_core.lifecycle import SOURCE_CONTROLLER, WorkflowStarted
from workflow_core.registry import deployed, event_type, parse_event

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
    # WorkflowStarted v2: the ids in the data, the order as the subject of the order workflow's context
    detail = load_event("workflow_started.json")
    started = parse_event({"detail-type": "WorkflowStarted", "source": SOURCE_CONTROLLER, "detail": detail})
    assert isinstance(started.data, WorkflowStarted)
    assert started.metadata.schema_version == event_type("WorkflowStarted").current_version == 2
    assert started.workflow is not None
    assert deployed().of_event(started).key == ORDER_WORKFLOW.key
    assert ORDER_WORKFLOW.subject_model.model_validate(started.workflow.subject).order_id == "o-1001"  # type: ignore[attr-defined]
    # RefundRequested: in the same workflow, with the payment step's output in the context
    requested = parse_event(refund_input())
    assert requested.detail_type == "RefundRequested"
    assert requested.workflow is not None
    assert deployed().of_event(requested).key == ORDER_WORKFLOW.key
    assert requested.workflow.subject == started.workflow.subject
    PaymentProcessed.model_validate(requested.workflow.outputs["payment"])


def published_entries(name: str) -> list[dict[str, Any]]:
    """Every PutEvents entry a machine may publish."""
    return [
        entry
        for state in definition(name)["States"].values()
        if state.get("Resource") == "arn:aws:states:::events:putEvents"
        for entry in state["Parameters"]["Entries"]
    ]


@pytest.mark.parametrize(("name", "context"), [("payment", "$.workflow"), ("refund", "$.detail.workflow")])
def test_every_published_event_carries_the_input_workflow_context_at_the_current_schema_version(
    name: str, context: str
) -> None:
    entries = published_entries(name)
    assert len(entries) == 2  # the step's (or the compensation's) success and failure outcomes
    for entry in entries:
        detail = entry["Detail"]
        assert detail["workflow.$"] == context, entry["DetailType"]
        assert detail["metadata"]["schemaVersion"] == event_type(entry["DetailType"]).current_version
        assert entry["Source"] == event_type(entry["DetailType"]).source


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
