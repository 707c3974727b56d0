"""The task functions state machines call (payment checks, the payment gateway, identity verification),
invoked through Lambda's Invoke API as Step Functions' ``lambda:invoke`` does, with hostile payloads.

THEN each answers a result, or a function error whose ``errorType`` is one of the kit's typed errors
(the names the state machines' ``Retry``/``Catch`` match; docs: workflow_core/errors.py), never a
Python one (``ValueError``, ``AttributeError``, pydantic's ``ValidationError``...); and a payload that
breaks the function's documented input (its module docstring; for the gateway its request models) is
refused without a trace: no table, event, execution, schedule or notification changes.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulations.onboarding.scenarios import SCENARIOS as ONBOARDING
from simulations.onboarding.scenarios import application_for
from simulations.order.scenarios import SCENARIOS as ORDERS
from simulations.order.scenarios import order_for
from tests.fuzz.strategies import broken_detail, hostile_text, json_values
from tests.fuzz.support import TASK_HANDLERS, ContractValidator, FuzzApp, error_family

ORDER = order_for(ORDERS["happy"], "fz-task-order")
CALL = {
    "caller": "arn:aws:states:us-east-1:123456789012:execution:fuzz:1",
    "idempotencyKey": "fz-task-order:1",
}
# Requests each function's docstring documents, one per operation.
DOCUMENTED = {
    "payment.checks.lambda_handler": [
        {"operation": "validate", "order": ORDER},
        {"operation": "fraud", "order": ORDER},
    ],
    "payment.gateway.lambda_handler": [
        {"operation": "authorize", "order": ORDER},
        {"operation": "capture", "orderId": ORDER["orderId"], "call": CALL},
        {"operation": "void", "orderId": ORDER["orderId"]},
        {"operation": "refund", "orderId": ORDER["orderId"], "call": CALL, "amountMinor": 100},
        {"operation": "settle", "orderId": ORDER["orderId"], "call": CALL},
    ],
    "identity.verification.lambda_handler": [
        {"operation": "verify", "applicant": application_for(ONBOARDING["pass"], "fz-task-customer")},
    ],
}


@cache
def _input_schema(handler: str) -> ContractValidator:
    """The function's documented input as JSON Schema (built from the contract models it names)."""
    from pydantic import TypeAdapter  # noqa: PLC0415

    from workflow_core.registry import deployed  # noqa: PLC0415 - the cloud's own copy of the app's code

    schemas = deployed().catalog.json_schemas()
    if handler == "payment.gateway.lambda_handler":
        from payment.gateway import GatewayRequest  # noqa: PLC0415

        return ContractValidator(TypeAdapter(GatewayRequest).json_schema(by_alias=True))
    if handler == "payment.checks.lambda_handler":
        operations, member, event = ["validate", "fraud"], "order", schemas["OrderSubmitted.v2"]
    else:
        operations, member, event = ["verify"], "applicant", schemas["CustomerRegistered.v1"]
    return ContractValidator(
        {
            "type": "object",
            "required": ["operation", member],
            "properties": {"operation": {"enum": operations}, member: event["properties"]["data"]},
            "$defs": event.get("$defs", {}),
        }
    )


@st.composite
def payloads(draw: st.DrawFn, handler: str) -> Any:
    documented = draw(st.sampled_from(DOCUMENTED[handler]))
    kind = draw(st.sampled_from(["any json", "broken", "hostile text", "big number"]))
    if kind == "any json":
        return draw(json_values)
    if kind == "broken":
        return draw(broken_detail(documented))
    changed = json.loads(json.dumps(documented))
    if kind == "big number":
        changed[draw(st.sampled_from(sorted(changed)))] = draw(st.integers(min_value=2**63, max_value=2**80))
        return changed
    target = changed.get("order") or changed.get("applicant") or changed
    key = draw(st.sampled_from(sorted(k for k, v in target.items() if isinstance(v, str))))
    target[key] = draw(hostile_text)
    return changed


@pytest.mark.parametrize("handler", TASK_HANDLERS)
@given(data=st.data())
def test_a_task_answers_a_result_or_a_typed_error_and_a_refused_input_leaves_no_trace(
    app: FuzzApp, handler: str, data: st.DataObject
) -> None:
    payload = data.draw(payloads(handler), label="payload")
    lambda_client = boto3.client("lambda", region_name=app.cloud.region)
    before = app.state()

    response = lambda_client.invoke(FunctionName=app.functions[handler], Payload=json.dumps(payload))

    answer = json.loads(response["Payload"].read())
    if "FunctionError" not in response:
        return
    typed = error_family("workflow_core.errors", "WorkflowKitError")
    assert answer["errorType"] in typed, f"an untyped error: {answer['errorType']}: {answer['errorMessage']}"
    if not _input_schema(handler).is_valid(payload):
        assert app.state() == before, "a refused input left a trace"
