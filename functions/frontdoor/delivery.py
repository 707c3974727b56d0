"""Delivering a claimed decision to its step: an event for a human or consumer step, the task token's
answer for a state machine paused on one.

Both deliveries are repeatable: the event has one id per step attempt (the controller and consumers
deduplicate it), and a token answered twice is refused by Step Functions as no longer waiting. What
cannot be delivered now for a transient reason raises :class:`DeliveryUnavailableError` (503), leaving the
claim in place for the same caller's retry.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from frontdoor.claims import WaitingToken
from frontdoor.decisions import Decision
from frontdoor.errors import DeliveryUnavailableError, ExecutionNotWaitingError
from workflow_core.catalog import EventCatalog
from workflow_core.envelope import WorkflowContext
from workflow_core.errors import PublishError
from workflow_core.lifecycle import STEP_DECIDED, StepDecided
from workflow_core.publisher import EventPublisher, new_event

PRODUCER = "frontdoor"
# Step Functions' answers for a token nobody waits on any more: the task timed out, its execution ended
# (or the token was answered already), or the text is no token at all. None of these is retryable.
NOT_WAITING = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class DecisionDelivery:
    def __init__(self, *, publisher: EventPublisher, states: Any) -> None:
        self._publisher = publisher
        self._states = states  # a boto3 Step Functions client

    def publish(self, decision: Decision, *, context: WorkflowContext, catalog: EventCatalog) -> None:
        """``StepDecided`` in the instance's context, so the rules matching its workflow route it."""
        data = StepDecided(
            workflow_id=decision.workflow_id,
            step=decision.step,
            attempt=decision.attempt,
            decision=decision.decision,
            decided_by=decision.decided_by,
            reason=decision.reason,
            decided_at=decision.decided_at,
            details=decision.details,
        )
        event = new_event(
            STEP_DECIDED,
            data,
            event_id=decision.event_id,
            correlation_id=decision.workflow_id,
            caused_by=None,
            producer=PRODUCER,
            workflow=context,
            catalog=catalog,
        )
        try:
            self._publisher.publish([event])
        except PublishError as error:
            raise DeliveryUnavailableError(
                f"the decision is recorded but the event bus did not accept it; retry: {error}"
            ) from None

    def answer(self, decision: Decision, token: WaitingToken) -> None:
        """``SendTaskSuccess`` for a complete and a reject alike: the machine's Choice routes on the
        decision, so the decider's identity reaches the outcome event the machine publishes."""
        output = json.dumps(decision.task_output(), separators=(",", ":"))
        try:
            self._states.send_task_success(taskToken=token.task_token, output=output)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in NOT_WAITING:
                raise ExecutionNotWaitingError(
                    f"the step's execution is no longer waiting for a decision ({code})"
                ) from None
            raise DeliveryUnavailableError(
                f"the decision is recorded but Step Functions did not take it ({code}); retry"
            ) from None
        except BotoCoreError as error:
            raise DeliveryUnavailableError(
                f"the decision is recorded but Step Functions could not be reached; retry: {error}"
            ) from None
