"""statemachines/review.asl.json on the local ASL interpreter: it pauses on a task token in the callbacks
table, files the officer's decision with the customer's identity check, and announces it with who
decided and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workflowkit.asl import (
    ExecutionResult,
    ExecutionStatus,
    StateMachineProgram,
    TaskContext,
    VirtualRuntime,
    local_context,
)

ROOT = Path(__file__).resolve().parents[3]
OFFICER = "arn:aws:iam::123456789012:user/compliance-officer-1"
PLACEHOLDERS = {
    "CallbacksTableName": "callbacks",
    "VerificationsTableName": "verifications",
    "EventBusName": "bus",
}
FLOW_INPUT = {
    "metadata": {"eventId": "evt-review-start", "correlationId": "cus-1"},
    "workflow": {"name": "onboarding", "version": 1, "subject": {"customerId": "cus-1"}, "outputs": {}},
    "data": {"workflowId": "cus-1", "workflowType": "onboarding", "version": 1},
}


def program() -> StateMachineProgram:
    text = (ROOT / "statemachines" / "review.asl.json").read_text(encoding="utf-8")
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace("${" + placeholder + "}", value)
    return StateMachineProgram.parse(text)


class Review:
    """One execution of the review flow whose tasks are recorded and answered at once."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, TaskContext]] = []
        self.runtime = VirtualRuntime(self._task)
        self.results: list[ExecutionResult] = []
        context = local_context(self.runtime, "cus-1-0a1b2c3d-review-1", "review")
        program().start(FLOW_INPUT, context, self.runtime, self.results.append)

    def _task(self, resource: str, parameters: Any, task: TaskContext) -> Any:
        self.calls.append((resource, parameters, task))
        return {}

    def decide(self, decision: str, reason: str | None) -> None:
        answer = {
            "decision": decision,
            "decidedBy": OFFICER,
            "reason": reason,
            "decidedAt": "2026-01-05T11:00:00+00:00",
            "details": {"case": "KYC-7"},
        }
        self.runtime.task_tokens.send_success(self.token, json.dumps(answer))
        self.runtime.run()

    @property
    def token(self) -> str:
        (task,) = [task for _, _, task in self.calls if task.task_token is not None]
        assert task.task_token is not None
        return task.task_token

    def call(self, resource_suffix: str) -> Any:
        (parameters,) = [p for r, p, _ in self.calls if r.endswith(resource_suffix)]
        return parameters

    def published(self) -> dict[str, Any]:
        (entry,) = self.call("events:putEvents")["Entries"]
        detail = entry["Detail"]
        return {
            "DetailType": entry["DetailType"],
            **(json.loads(detail) if isinstance(detail, str) else detail),
        }


def test_the_flow_waits_with_its_token_where_the_front_door_looks_for_it() -> None:
    review = Review()

    assert [resource for resource, _, _ in review.calls] == ["arn:aws:states:::aws-sdk:dynamodb:putItem"]
    parameters = review.call("dynamodb:putItem")
    assert parameters["TableName"] == "callbacks"
    assert parameters["Item"]["workflowId"] == {"S": "cus-1"}
    assert parameters["Item"]["sk"] == {"S": "TOKEN#review#cus-1-0a1b2c3d-review-1"}
    assert parameters["Item"]["execution"] == {"S": "cus-1-0a1b2c3d-review-1"}
    assert parameters["Item"]["taskToken"] == {"S": review.token}
    assert review.results == []  # waiting: the SLA is the controller's, no timeout here


@pytest.mark.parametrize(
    ("decision", "reason", "announced"),
    [("complete", "documents checked", "ReviewApproved"), ("reject", "source of funds", "ReviewRejected")],
)
def test_the_decision_is_filed_then_announced_with_who_decided(
    decision: str, reason: str, announced: str
) -> None:
    review = Review()
    review.decide(decision, reason)

    (result,) = review.results
    assert result.status is ExecutionStatus.SUCCEEDED
    filed = review.call("dynamodb:updateItem")
    assert filed["TableName"] == "verifications"
    assert filed["Key"] == {"pk": {"S": "CHECK#cus-1"}}
    assert filed["ExpressionAttributeValues"][":by"] == {"S": OFFICER}
    assert filed["ExpressionAttributeValues"][":decision"] == {"S": decision}
    event = review.published()
    assert event["DetailType"] == announced
    assert event["metadata"]["eventId"] == f"cus-1-0a1b2c3d-review-1:{announced}"
    assert event["metadata"]["causationId"] == "evt-review-start"
    assert event["data"]["decidedBy"] == OFFICER
    assert event["data"]["reason"] == reason
    assert event["data"]["details"] == {"case": "KYC-7"}
    if decision == "reject":
        assert event["data"]["message"] == f"rejected by {OFFICER}"


def test_an_approval_without_a_reason_is_announced_with_none() -> None:
    review = Review()
    review.decide("complete", None)
    assert review.published()["data"]["reason"] is None


def test_a_decision_that_is_neither_fails_the_execution_instead_of_guessing() -> None:
    review = Review()
    review.decide("maybe", None)

    (result,) = review.results
    assert result.status is ExecutionStatus.FAILED
    assert result.error == "UnknownReviewDecision"
    assert not [r for r, _, _ in review.calls if r.endswith("events:putEvents")]
