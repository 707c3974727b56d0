"""Decisions on callback steps: ``POST /workflows/{workflowId}/steps/{step}/complete`` and ``/reject``.

A decision is checked against the instance (its declaration must give the step a ``Callback``; the
workflow and the step must be running), then *claimed* for the step's current attempt in the callbacks
table, then delivered: ``StepDecided`` for a human or consumer step, the answer to the task token for a
state machine paused on one. The claim is what makes a decision happen once: two approvers racing write
the same item conditionally and one wins; the loser, and anyone after, is told who decided what and
when. The same caller repeating the same decision is a retry: answered 202 again, delivering what was
not delivered yet (docs/decisions/0029).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from frontdoor.api import check_workflow_id, status_path, validate
from frontdoor.claims import CallbackTable, Claimed, WaitingToken
from frontdoor.decisions import Decision, DecisionRequest, Verdict, decision_event_id
from frontdoor.delivery import DecisionDelivery
from frontdoor.errors import (
    AlreadyDecidedError,
    ExecutionNotWaitingError,
    InvalidRequestError,
    StepNotFoundError,
    StepNotWaitingError,
    WorkflowEndedError,
    WorkflowNotFoundError,
)
from workflow_core.clock import now
from workflow_core.definition import Pattern, Step, WorkflowDefinition
from workflow_core.errors import UnknownWorkflowError
from workflow_core.executions import execution_name
from workflow_core.registry import Registry
from workflow_core.workflow_state import StepState, StepStatus, WorkflowState, WorkflowStatus

StateReader = Callable[[str], WorkflowState | None]


class Callbacks:
    def __init__(
        self,
        *,
        state_reader: StateReader,
        claims: CallbackTable,
        delivery: DecisionDelivery,
        registry: Registry,
    ) -> None:
        self._read_state = state_reader
        self._claims = claims
        self._delivery = delivery
        self._registry = registry

    def decide(
        self, workflow_id: str, step_name: str, verdict: Verdict, body: Any, *, decided_by: str
    ) -> dict[str, Any]:
        """Claim and deliver ``verdict`` on the step's current attempt; returns the 202 body."""
        check_workflow_id(workflow_id)
        request = validate(DecisionRequest, {} if body is None else body, "the decision is invalid")
        if verdict == "reject" and request.reason is None:
            raise InvalidRequestError(
                "the decision is invalid: 1 problem(s)",
                fields=[{"field": "reason", "message": "a rejection needs a reason", "type": "missing"}],
            )
        state = self._read_state(workflow_id)
        if state is None:
            raise WorkflowNotFoundError(f"no workflow {workflow_id!r} is recorded")
        definition = self._definition(state)
        step = _callback_step(definition, step_name)
        if verdict == "complete":
            _check_details(step, request.details)
        current = state.steps.get(step_name, StepState())
        candidate = Decision(
            workflow_id=workflow_id,
            step=step_name,
            attempt=max(current.attempt, 1),
            decision=verdict,
            decided_by=decided_by,
            reason=request.reason,
            details=request.details,
            decided_at=now(),
            event_id=decision_event_id(workflow_id, step_name, max(current.attempt, 1)),
        )
        if current.attempt >= 1:
            earlier = self._claims.claimed(workflow_id, step_name, current.attempt)
            if earlier is not None:
                return self._again(earlier, candidate, state, definition, step)
        _check_waiting(state, step_name, current)
        token = self._token(candidate, step)  # before claiming: a machine not paused yet blocks nobody
        winner = self._claims.claim(candidate)
        if winner is not None:  # another request claimed it between our read and our write
            return self._again(winner, candidate, state, definition, step)
        self._deliver(candidate, state, definition, step, token)
        return _accepted(candidate)

    def _definition(self, state: WorkflowState) -> WorkflowDefinition:
        try:
            return self._registry.get(state.workflow_type, state.definition_version)
        except UnknownWorkflowError as error:
            raise StepNotFoundError(f"the instance's declaration is not deployed: {error}") from None

    def _again(
        self,
        claimed: Claimed,
        candidate: Decision,
        state: WorkflowState,
        definition: WorkflowDefinition,
        step: Step,
    ) -> dict[str, Any]:
        """A decision exists for this attempt: the same caller's retry gets the same answer (and its
        decision delivered, if it was not yet); anyone else learns who decided."""
        decision = claimed.decision
        if not decision.same_as(candidate):
            raise AlreadyDecidedError(
                f"already decided: {decision.decision} by {decision.decided_by} "
                f"at {decision.decided_at.isoformat()}"
            )
        if not claimed.delivered:
            # Never delivered (the first request failed, or is still in flight): deliver only while it
            # can still change something.
            _check_waiting(state, step.name, state.steps.get(step.name, StepState()))
            self._deliver(decision, state, definition, step, self._token(decision, step))
        return _accepted(decision)

    def _token(self, decision: Decision, step: Step) -> WaitingToken | None:
        """The task token the current attempt's execution left; None for a step that waits on none."""
        if step.pattern is not Pattern.ORCHESTRATED:
            return None
        expected = execution_name(decision.workflow_id, decision.step, decision.attempt)
        token = self._claims.waiting_token(decision.workflow_id, decision.step, expected)
        if token is None or token.execution != expected:
            raise ExecutionNotWaitingError(
                f"step {decision.step!r} (attempt {decision.attempt}) is not waiting for a decision yet: its "
                "execution has not paused for one; retry shortly"
            )
        return token

    def _deliver(
        self,
        decision: Decision,
        state: WorkflowState,
        definition: WorkflowDefinition,
        step: Step,
        token: WaitingToken | None,
    ) -> None:
        if token is not None:
            self._delivery.answer(decision, token)
        else:
            self._delivery.publish(decision, context=state.context(), catalog=definition.catalog)
        # Best effort: the decision is delivered whether or not this records it. Unrecorded, a retry by
        # the same caller delivers it again (an event is deduplicated; a token answered twice is refused).
        try:
            self._claims.mark_delivered(decision)
        except Exception:  # the caller's answer must not depend on the bookkeeping
            return


def _callback_step(definition: WorkflowDefinition, name: str) -> Step:
    try:
        step = definition.step(name)
    except KeyError:
        steps = [s.name for s in definition.steps]
        raise StepNotFoundError(
            f"a {definition.name} workflow (v{definition.version}) has no step {name!r}; its steps: {steps}"
        ) from None
    if step.callback is None:
        raise StepNotFoundError(f"step {name!r} of a {definition.name} workflow takes no callbacks")
    return step


def _check_details(step: Step, details: dict[str, Any]) -> None:
    """A completion's details against the model the step's Callback declares (if it declares one)."""
    assert step.callback is not None
    model = step.callback.details
    if model is None:
        return
    try:
        model.model_validate(details)
    except ValidationError as error:
        raise InvalidRequestError(
            f"the details are invalid for step {step.name!r}: {error.error_count()} problem(s)",
            fields=[
                {
                    "field": ".".join(str(p) for p in ("details", *problem["loc"])),
                    "message": str(problem["msg"]).removeprefix("Value error, "),
                    "type": problem["type"],
                }
                for problem in error.errors()
            ],
        ) from None


def _check_waiting(state: WorkflowState, step: str, current: StepState) -> None:
    if state.status is not WorkflowStatus.RUNNING:
        raise WorkflowEndedError(
            f"workflow {state.workflow_id!r} is {state.status.value}; the decision changes nothing"
        )
    if current.status is not StepStatus.RUNNING:
        raise StepNotWaitingError(
            f"step {step!r} is {current.status.value}: it is not waiting for a decision"
        )


def _accepted(decision: Decision) -> dict[str, Any]:
    return {
        "workflowId": decision.workflow_id,
        "step": decision.step,
        "attempt": decision.attempt,
        "decision": decision.decision,
        "decidedBy": decision.decided_by,
        "statusPath": status_path(decision.workflow_id),
    }
