"""The callbacks table: who claimed each step attempt's decision, and the task tokens state machines leave.

Item shapes (partition key ``workflowId``, sort key ``sk``):

- ``DECISION#<step>#<attempt>``: the decision claimed for that attempt (:class:`frontdoor.decisions.Decision`,
  its details as JSON text), written once with ``attribute_not_exists(sk)``: of two approvers racing, one
  write succeeds and the other reads the winner's claim. ``deliveredAt`` is added once it was delivered.
- ``TOKEN#<step>#<execution name>``: written by a state machine paused on ``.waitForTaskToken`` (the
  task itself is an ``aws-sdk:dynamodb:putItem``): ``execution`` (``$$.Execution.Name``) and ``taskToken``
  (``$$.Task.Token``). Keyed by the execution, so the front door reads exactly the current attempt's:
  a stopped attempt's late write lands beside it and is never mistaken for it (docs/decisions/0029).

The front door may only GetItem and PutItem here; nothing is ever deleted (the claims are the record of
who decided, beside the controller's history).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from frontdoor.decisions import Decision
from workflow_core.clock import now

PARTITION_KEY = "workflowId"
SORT_KEY = "sk"
DECISION_PREFIX = "DECISION#"
TOKEN_PREFIX = "TOKEN#"


def decision_sk(step: str, attempt: int) -> str:
    return f"{DECISION_PREFIX}{step}#{attempt}"


def token_sk(step: str, execution: str) -> str:
    return f"{TOKEN_PREFIX}{step}#{execution}"


@dataclass(frozen=True)
class Claimed:
    """The claim of a step attempt's decision as stored: the decision, and whether it was delivered."""

    decision: Decision
    delivered: bool


@dataclass(frozen=True)
class WaitingToken:
    """A task token a state machine's execution left for the step's decision."""

    execution: str
    task_token: str


class CallbackTable:
    """Claims and tokens over one DynamoDB table (a boto3 ``Table`` resource)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def claimed(self, workflow_id: str, step: str, attempt: int) -> Claimed | None:
        item = self._get(workflow_id, decision_sk(step, attempt))
        return None if item is None else _claimed(item)

    def claim(self, decision: Decision) -> Claimed | None:
        """Claim the decision of its step attempt; None when claimed now, else the claim that won."""
        try:
            self._table.put_item(
                Item=_item(decision),
                ConditionExpression="attribute_not_exists(#sk)",
                ExpressionAttributeNames={"#sk": SORT_KEY},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            winner = self.claimed(decision.workflow_id, decision.step, decision.attempt)
            assert winner is not None  # claims are never deleted
            return winner
        return None

    def mark_delivered(self, decision: Decision) -> None:
        """Record that ``decision`` reached its step (only ever over its own claim)."""
        self._table.put_item(
            Item={**_item(decision), "deliveredAt": now().isoformat()},
            ConditionExpression="#eventId = :eventId",
            ExpressionAttributeNames={"#eventId": "eventId"},
            ExpressionAttributeValues={":eventId": decision.event_id},
        )

    def waiting_token(self, workflow_id: str, step: str, execution: str) -> WaitingToken | None:
        """The task token ``execution`` left for ``step``; None until it paused."""
        item = self._get(workflow_id, token_sk(step, execution))
        if item is None or not item.get("execution") or not item.get("taskToken"):
            return None
        return WaitingToken(execution=str(item["execution"]), task_token=str(item["taskToken"]))

    def _get(self, workflow_id: str, sk: str) -> dict[str, Any] | None:
        response = self._table.get_item(Key={PARTITION_KEY: workflow_id, SORT_KEY: sk}, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


def _item(decision: Decision) -> dict[str, Any]:
    item: dict[str, Any] = {
        PARTITION_KEY: decision.workflow_id,
        SORT_KEY: decision_sk(decision.step, decision.attempt),
        "step": decision.step,
        "attempt": decision.attempt,
        "decision": decision.decision,
        "decidedBy": decision.decided_by,
        "decidedAt": decision.decided_at.isoformat(),
        "eventId": decision.event_id,
        # JSON text: DynamoDB would turn numbers into Decimals and refuse floats.
        "details": json.dumps(decision.details, separators=(",", ":"), sort_keys=True),
    }
    if decision.reason is not None:
        item["reason"] = decision.reason
    return item


def _claimed(item: dict[str, Any]) -> Claimed:
    decision = Decision(
        workflow_id=str(item[PARTITION_KEY]),
        step=str(item["step"]),
        attempt=int(item["attempt"]),
        decision=item["decision"],
        decided_by=str(item["decidedBy"]),
        reason=item.get("reason"),
        details=json.loads(str(item.get("details") or "{}")),
        decided_at=datetime.fromisoformat(str(item["decidedAt"])),
        event_id=str(item["eventId"]),
    )
    return Claimed(decision=decision, delivered="deliveredAt" in item)
