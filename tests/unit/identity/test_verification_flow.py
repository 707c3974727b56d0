"""statemachines/identity-verification.asl.json on the local ASL interpreter, with a scripted provider.

The provider Lambda answers from a script (a verdict, or an error by class name, shaped as Lambda
reports it); the bus records what the flow publishes. What is checked is what the controller relies on:
one outcome event per execution, in the envelope, its id derived from the execution, the workflow
context copied, and retries only for what is transient.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workflowkit.asl import StateMachineProgram, TaskIntegrations, VirtualRuntime, run_to_completion

ROOT = Path(__file__).resolve().parents[3]
PROVIDER = "arn:aws:lambda:us-east-1:123456789012:function:identity-provider"


def load(name: str, placeholders: dict[str, str]) -> StateMachineProgram:
    text = (ROOT / "statemachines" / f"{name}.asl.json").read_text(encoding="utf-8")
    for placeholder, value in placeholders.items():
        text = text.replace("${" + placeholder + "}", value)
    return StateMachineProgram.parse(text)


FLOW = load("identity-verification", {"ProviderFunctionArn": PROVIDER, "EventBusName": "bus"})
SUBJECT = {"customerId": "cus-1", "document": {"number": "PASS-1"}}
FLOW_INPUT = {
    "metadata": {"eventId": "evt-start", "correlationId": "cus-1"},
    "workflow": {"name": "onboarding", "version": 1, "subject": SUBJECT, "outputs": {}},
    "data": {"workflowId": "cus-1", "workflowType": "onboarding", "version": 1},
}
PASS = {
    "verificationId": "idv_cus-1",
    "result": "PASS",
    "riskLevel": "LOW",
    "reasons": [],
    "provider": "sandbox",
}


class World:
    """A scripted provider Lambda and a bus that records every entry."""

    def __init__(self, *answers: dict[str, Any] | tuple[str, str]) -> None:
        self.answers = list(answers)
        self.calls: list[Any] = []
        self.events: list[dict[str, Any]] = []
        self.integrations = TaskIntegrations(self.invoke, lambda service: self)

    def invoke(self, function: str, payload: Any) -> tuple[str, bool]:
        self.calls.append(payload)
        answer = self.answers.pop(0)
        if isinstance(answer, tuple):
            error_type, message = answer
            return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []}), True
        return json.dumps(answer), False

    def put_events(self, **arguments: Any) -> dict[str, Any]:
        self.events.extend(arguments["Entries"])
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in arguments["Entries"]]}


def run(world: World) -> tuple[str, list[str]]:
    runtime = VirtualRuntime(world.integrations.run_task, seed=3)
    visited: list[str] = []
    result = run_to_completion(
        FLOW,
        FLOW_INPUT,
        runtime,
        name="cus-1-0a1b2c3d-verify-1",
        on_transition=lambda e: visited.append(e.state_name) if e.kind == "entered" else None,
    )
    return result.status, visited


def published(world: World) -> tuple[str, dict[str, Any]]:
    (entry,) = world.events
    return entry["DetailType"], json.loads(entry["Detail"]) if isinstance(entry["Detail"], str) else entry[
        "Detail"
    ]


def test_a_verified_identity_is_announced_with_its_verdict_in_the_envelope() -> None:
    world = World(PASS)
    status, visited = run(world)

    assert status == "SUCCEEDED"
    assert visited == ["VerifyIdentity", "PublishIdentityVerified"]
    assert world.calls == [{"operation": "verify", "applicant": SUBJECT}]
    detail_type, detail = published(world)
    assert detail_type == "IdentityVerified"
    assert world.events[0]["Source"] == "onboarding.identity"
    assert detail["metadata"]["eventId"] == "cus-1-0a1b2c3d-verify-1:IdentityVerified"
    assert detail["metadata"]["causationId"] == "evt-start"  # the controller matches it to the attempt
    assert detail["workflow"] == FLOW_INPUT["workflow"]
    assert detail["data"] == {"customerId": "cus-1", **PASS}


def test_a_flaky_provider_is_retried_with_backoff_then_passes() -> None:
    outage = ("IdentityProviderUnavailableError", "sandbox outage")
    world = World(outage, outage, PASS)
    status, _visited = run(world)

    assert status == "SUCCEEDED"
    assert len(world.calls) == 3
    assert published(world)[0] == "IdentityVerified"


def test_a_provider_down_through_every_retry_is_reported_not_left_to_the_deadline() -> None:
    outage = ("IdentityProviderUnavailableError", "sandbox outage")
    world = World(*[outage] * 5)
    status, _visited = run(world)

    assert status == "SUCCEEDED"
    assert len(world.calls) == 5  # the first call and four retries
    detail_type, detail = published(world)
    assert detail_type == "IdentityVerificationFailed"
    assert detail["data"]["reason"] == "PROVIDER_UNAVAILABLE"
    assert detail["data"]["message"] == "identity provider unavailable: IdentityProviderUnavailableError"


def test_a_rejected_identity_is_not_retried() -> None:
    world = World(("IdentityRejectedError", "DOCUMENT_MISMATCH: no"))
    status, visited = run(world)

    assert status == "SUCCEEDED"
    assert visited[-2:] == ["PublishIdentityVerificationFailed", "VerificationRefused"]
    assert len(world.calls) == 1
    assert published(world)[1]["data"] == {
        "customerId": "cus-1",
        "reason": "REJECTED",
        "message": "DOCUMENT_MISMATCH: no",
    }


def test_an_ineligible_applicant_is_reported_as_an_invalid_application() -> None:
    world = World(("ApplicantIneligibleError", "the applicant is 17"))
    run(world)
    assert published(world)[1]["data"]["reason"] == "INVALID_APPLICATION"
