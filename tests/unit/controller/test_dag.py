"""The decider on the DAG vocabulary: parallel branches, conditional steps, callback (human) steps,
reminders and service levels, undo in reverse order of completion, and compensation failure policies.

The workflow here is declared in the test, in no one's domain: a ``check`` state machine, a conditional
``review`` by people, then ``left`` and ``right`` in parallel, then ``final`` after both.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, Literal

import pytest

from controller.actions import (
    CancelDeadline,
    Escalate,
    PublishEvent,
    ScheduleDeadline,
    StartStateMachine,
    StopStateMachine,
)
from controller.decide import METRIC_PAST_DEADLINE, Decider, Decision
from tests.factories import T0
from workflow_core import lifecycle as lc
from workflow_core.catalog import DomainEvent, EventType
from workflow_core.conditions import fact
from workflow_core.definition import (
    Callback,
    Compensation,
    Step,
    WorkflowDefinition,
    consumer,
    human,
    state_machine,
)
from workflow_core.envelope import ContractModel, EventMetadata, WorkflowContext
from workflow_core.lifecycle import CompensationOutcome, CompensationRequest
from workflow_core.workflow_state import StepStatus, WorkflowState, WorkflowStatus

WF = "case-1"
APPROVER = "arn:aws:iam::123456789012:user/alice"


class Opened(ContractModel):
    case_id: str
    amount: int


class Checked(ContractModel):
    case_id: str
    risk: str


class Refused(ContractModel):
    case_id: str
    reason: str


class Done(ContractModel):
    case_id: str


class Undo(CompensationRequest):
    case_id: str


class Undone(CompensationOutcome):
    case_id: str


class UndoFailed(CompensationOutcome):
    case_id: str
    reason: str


SOURCE = "tests.dag"


def _events() -> tuple[EventType, ...]:
    types: list[EventType] = [
        EventType("Opened", "tests.outside", {1: Opened}),
        EventType("Checked", SOURCE, {1: Checked}),
        EventType("CheckRefused", SOURCE, {1: Refused}),
    ]
    for branch in ("Left", "Right", "Final"):
        types += [
            EventType(f"{branch}Done", SOURCE, {1: Done}),
            EventType(f"{branch}Failed", SOURCE, {1: Refused}),
            EventType(f"{branch}UndoRequested", SOURCE, {1: Undo}),
            EventType(f"{branch}Undone", SOURCE, {1: Undone}),
            EventType(f"{branch}UndoFailed", SOURCE, {1: UndoFailed}),
        ]
    return tuple(types)


def _branch(name: str, after: tuple[str, ...], on_failure: Literal["halt", "continue"] = "halt") -> Step:
    title = name.capitalize()
    return Step(
        name=name,
        runner=consumer(name),
        after=after,
        completed_by=f"{title}Done",
        failed_by=f"{title}Failed",
        deadline=timedelta(minutes=10),
        compensation=Compensation(
            request=f"{title}UndoRequested",
            completed_by=f"{title}Undone",
            failed_by=f"{title}UndoFailed",
            runner=consumer(name),
            deadline=timedelta(minutes=30),
            on_failure=on_failure,
        ),
    )


CHECK = Step(
    name="check",
    runner=state_machine("check"),
    started_by="WorkflowStarted",
    completed_by="Checked",
    failed_by="CheckRefused",
    deadline=timedelta(minutes=5),
)
REVIEW = Step(
    name="review",
    runner=human(),
    after=("check",),
    when=fact("outputs.check.risk").equals("high"),
    deadline=timedelta(hours=48),
    callback=Callback(approvers="officers", reminder=timedelta(hours=24), on_deadline="escalate"),
)


def definition(
    *, left_policy: Literal["halt", "continue"] = "halt", review: Step = REVIEW, final: bool = True
) -> WorkflowDefinition:
    steps = [CHECK, review, _branch("left", ("review",), left_policy), _branch("right", ("review",))]
    if final:
        steps.append(_branch("final", ("left", "right")))
    return WorkflowDefinition(
        name="dag",
        version=1,
        start_event="Opened",
        subject_id="case_id",
        steps=tuple(steps),
        events=_events(),
    )


class Flow:
    def __init__(self, wf: WorkflowDefinition | None = None) -> None:
        self.definition = wf or definition()
        self.decider = Decider(self.definition)
        self.state: WorkflowState | None = None
        self.now = T0
        self.counter = 0

    def feed(self, detail_type: str, data: ContractModel, *, after: timedelta = timedelta(0)) -> Decision:
        self.now += after
        self.counter += 1
        etype = self.definition.catalog.event_type(detail_type)
        context = None
        if self.state is not None:
            context = WorkflowContext(name="dag", version=1, subject=self.state.subject, outputs={})
        event = DomainEvent(
            detail_type=detail_type,
            source=etype.source,
            metadata=EventMetadata(
                event_id=f"e{self.counter}",
                correlation_id=WF,
                schema_version=etype.current_version,
                occurred_at=self.now,
                producer=etype.source,
            ),
            data=data,
            workflow=context,
        )
        decision = self.decider.decide(self.state, event, self.now)
        self.state = decision.state
        return decision

    def open(self, amount: int = 100) -> Decision:
        return self.feed("Opened", Opened(case_id=WF, amount=amount))

    def checked(self, risk: str) -> Decision:
        return self.feed("Checked", Checked(case_id=WF, risk=risk))

    def done(self, branch: str) -> Decision:
        return self.feed(f"{branch.capitalize()}Done", Done(case_id=WF))

    def failed(self, branch: str) -> Decision:
        return self.feed(f"{branch.capitalize()}Failed", Refused(case_id=WF, reason="broken"))

    def undone(self, branch: str) -> Decision:
        attempt = self.st(branch).compensation_attempt
        return self.feed(f"{branch.capitalize()}Undone", Undone(case_id=WF, compensation_attempt=attempt))

    def undo_failed(self, branch: str) -> Decision:
        attempt = self.st(branch).compensation_attempt
        data = UndoFailed(case_id=WF, reason="stuck", compensation_attempt=attempt)
        return self.feed(f"{branch.capitalize()}UndoFailed", data)

    def decide(
        self,
        decision: Literal["complete", "reject"],
        *,
        step: str = "review",
        attempt: int = 1,
        by: str = APPROVER,
        reason: str | None = "looks fine",
        after: timedelta = timedelta(0),
    ) -> Decision:
        data = lc.StepDecided(
            workflow_id=WF,
            step=step,
            attempt=attempt,
            decision=decision,
            decided_by=by,
            reason=reason,
            decided_at=self.now + after,
        )
        return self.feed(lc.STEP_DECIDED, data, after=after)

    def deadline(
        self, step: str, phase: Literal["step", "compensation", "reminder"], after: timedelta
    ) -> Decision:
        st = self.st(step)
        attempt = st.compensation_attempt if phase == "compensation" else st.attempt
        data = lc.StepDeadlineReached(
            workflow_id=WF, step=step, phase=phase, attempt=attempt, deadline=self.now + after
        )
        return self.feed(lc.STEP_DEADLINE_REACHED, data, after=after)

    def st(self, name: str) -> Any:
        assert self.state is not None
        return self.state.steps[name]

    def step(self, name: str) -> StepStatus:
        return self.st(name).status  # type: ignore[no-any-return]

    @property
    def status(self) -> WorkflowStatus:
        assert self.state is not None
        return self.state.status


def published(decision: Decision) -> list[str]:
    return [a.detail_type for a in decision.actions if isinstance(a, PublishEvent)]


def requested_steps(decision: Decision) -> list[str]:
    return [
        a.detail["data"]["step"]
        for a in decision.actions
        if isinstance(a, PublishEvent) and a.detail_type == lc.STEP_REQUESTED
    ]


def schedules(decision: Decision) -> list[str]:
    return [a.schedule_name.rsplit("-", 1)[1] for a in decision.actions if isinstance(a, ScheduleDeadline)]


# --- conditional steps and parallel branches ---------------------------------------------------------
def test_a_step_whose_condition_does_not_hold_is_skipped_and_the_steps_after_it_start_in_parallel() -> None:
    flow = Flow()
    flow.open()
    decision = flow.checked("low")
    assert flow.step("review") is StepStatus.SKIPPED
    assert flow.st("review").reason == "skipped: outputs.check.risk == 'high' does not hold"
    # both branches start in the same decision, each with its own request (distinct ids)
    assert requested_steps(decision) == ["left", "right"]
    ids = [a.detail["metadata"]["eventId"] for a in decision.actions if isinstance(a, PublishEvent)]
    assert len(set(ids)) == len(ids)
    assert flow.step("left") is StepStatus.RUNNING
    assert flow.step("right") is StepStatus.RUNNING
    assert "DecisionRequested" not in published(decision)


def test_a_step_after_two_branches_waits_for_both_then_the_workflow_completes() -> None:
    flow = Flow()
    flow.open()
    flow.checked("low")
    assert requested_steps(flow.done("left")) == []  # right still runs
    assert flow.step("final") is StepStatus.PENDING
    assert requested_steps(flow.done("right")) == ["final"]
    decision = flow.done("final")
    assert published(decision) == ["WorkflowCompleted"]
    assert flow.status is WorkflowStatus.COMPLETED
    assert flow.state is not None
    assert flow.state.completion_order == ["check", "left", "right", "final"]


def test_a_condition_that_cannot_be_evaluated_fails_the_step_instead_of_skipping_it() -> None:
    review = dataclasses.replace(REVIEW, when=fact("outputs.check.risk").above(3))
    flow = Flow(definition(review=review))
    flow.open()
    decision = flow.checked("high")
    assert flow.step("review") is StepStatus.FAILED
    assert "could not be evaluated" in (flow.st("review").reason or "")
    assert flow.status is WorkflowStatus.FAILED  # nothing compensable had been done
    assert published(decision) == ["WorkflowFailed"]


def test_a_workflow_whose_every_step_is_skipped_completes_at_once() -> None:
    lone = dataclasses.replace(REVIEW, after=(), when=fact("subject.amount").above(1000), name="review")
    wf = WorkflowDefinition(
        name="dag", version=1, start_event="Opened", subject_id="case_id", steps=(lone,), events=_events()
    )
    flow = Flow(wf)
    decision = flow.open(amount=5)
    assert flow.step("review") is StepStatus.SKIPPED
    assert published(decision) == ["WorkflowStarted", "WorkflowCompleted"]


# --- human steps: decisions, reminders, service levels ----------------------------------------------
def test_a_human_step_asks_for_a_decision_with_a_deadline_and_a_reminder() -> None:
    flow = Flow()
    flow.open()
    decision = flow.checked("high")
    assert flow.step("review") is StepStatus.RUNNING
    assert published(decision) == ["DecisionRequested"]
    request = next(a for a in decision.actions if isinstance(a, PublishEvent))
    assert request.detail["data"]["approvers"] == "officers"
    assert request.detail["data"]["deadline"] == (T0 + timedelta(hours=48)).isoformat().replace("+00:00", "Z")
    assert schedules(decision) == ["s1", "r1"]
    assert requested_steps(decision) == []  # the branches wait for the review


def test_approval_in_time_completes_the_step_with_the_decision_as_its_output() -> None:
    flow = Flow()
    flow.open()
    flow.checked("high")
    decision = flow.decide("complete", after=timedelta(hours=3))
    assert flow.step("review") is StepStatus.COMPLETED
    output = flow.st("review").output
    assert output["decidedBy"] == APPROVER
    assert output["decision"] == "complete"
    assert requested_steps(decision) == ["left", "right"]
    # the deadline and the reminder (still ahead) are cancelled
    cancelled = [a.schedule_name.rsplit("-", 1)[1] for a in decision.actions if isinstance(a, CancelDeadline)]
    assert cancelled == ["s1", "r1"]


def test_the_reminder_is_announced_while_undecided_and_not_after_a_decision() -> None:
    flow = Flow()
    flow.open()
    flow.checked("high")
    reminder = flow.deadline("review", "reminder", after=timedelta(hours=24))
    assert published(reminder) == ["DecisionReminder"]
    flow.decide("complete", after=timedelta(hours=1))
    stale = flow.deadline("review", "reminder", after=timedelta(hours=1))
    assert published(stale) == []


def test_approval_after_the_service_level_escalates_at_the_deadline_then_completes() -> None:
    flow = Flow()
    flow.open()
    flow.checked("high")
    breach = flow.deadline("review", "step", after=timedelta(hours=48))
    assert published(breach) == ["WorkflowEscalated"]
    assert any(isinstance(a, Escalate) for a in breach.actions)
    assert METRIC_PAST_DEADLINE in breach.metrics
    assert flow.status is WorkflowStatus.RUNNING
    assert flow.step("review") is StepStatus.RUNNING
    assert flow.st("review").overdue
    # a second firing of the same deadline changes nothing
    assert published(flow.deadline("review", "step", after=timedelta(minutes=1))) == []
    decision = flow.decide("complete", after=timedelta(hours=2))
    assert flow.step("review") is StepStatus.COMPLETED
    assert requested_steps(decision) == ["left", "right"]
    # the deadline already fired: there is no schedule left to cancel for it
    assert not [
        a for a in decision.actions if isinstance(a, CancelDeadline) and a.schedule_name.endswith("s1")
    ]


def test_rejection_fails_the_workflow_with_who_rejected_and_why() -> None:
    flow = Flow()
    flow.open()
    flow.checked("high")
    decision = flow.decide("reject", reason="documents forged")
    assert flow.step("review") is StepStatus.FAILED
    assert flow.status is WorkflowStatus.FAILED
    assert flow.state is not None
    assert flow.state.reason == f"review failed: rejected by {APPROVER}: documents forged"
    assert published(decision) == ["WorkflowFailed"]


def test_a_second_decision_a_stale_attempt_and_a_decision_after_the_end_change_nothing() -> None:
    flow = Flow()
    flow.open()
    flow.checked("high")
    flow.decide("complete")
    second = flow.decide("reject", by="arn:aws:iam::123456789012:user/bob")
    assert not second.changed
    assert published(second) == []
    assert flow.st("review").decision["decidedBy"] == APPROVER
    stale = flow.decide("complete", attempt=2)
    assert not stale.changed
    for branch in ("left", "right", "final"):
        flow.done(branch)
    assert flow.status is WorkflowStatus.COMPLETED
    late = flow.decide("reject")
    assert not late.changed
    assert published(late) == []


def test_a_decision_for_a_step_that_takes_none_is_ignored() -> None:
    flow = Flow()
    flow.open()
    decision = flow.decide("complete", step="left")
    assert not decision.changed
    assert flow.step("left") is StepStatus.PENDING


# --- failures across branches -------------------------------------------------------------------------
def test_a_branch_failing_while_the_other_runs_waits_for_it_then_undoes_it() -> None:
    flow = Flow()
    flow.open()
    flow.checked("low")
    failed = flow.failed("right")
    assert flow.status is WorkflowStatus.COMPENSATING
    assert published(failed) == []  # left may be about to complete: wait for it
    late = flow.done("left")
    assert published(late) == ["LeftUndoRequested"]
    assert flow.step("final") is StepStatus.PENDING  # never started
    decision = flow.undone("left")
    assert published(decision) == ["WorkflowCompensated"]
    assert flow.state is not None
    assert flow.state.compensated_steps == ["left"]


def test_a_branch_failing_after_the_other_failed_too_fails_the_workflow_without_undo() -> None:
    flow = Flow()
    flow.open()
    flow.checked("low")
    flow.failed("right")
    decision = flow.failed("left")
    assert flow.status is WorkflowStatus.FAILED
    assert published(decision) == ["WorkflowFailed"]


@pytest.mark.parametrize("last", ["left", "right"])
def test_completed_branches_are_undone_in_reverse_order_of_completion(last: str) -> None:
    first = "right" if last == "left" else "left"
    flow = Flow()
    flow.open()
    flow.checked("low")
    flow.done(first)
    flow.done(last)
    decision = flow.failed("final")
    assert published(decision) == [f"{last.capitalize()}UndoRequested"]
    assert published(flow.undone(last)) == [f"{first.capitalize()}UndoRequested"]
    flow.undone(first)
    assert flow.state is not None
    assert flow.state.compensated_steps == [last, first]


def test_a_state_machine_in_another_branch_is_stopped_and_undone_and_a_waiting_person_is_cancelled() -> None:
    # GIVEN a state machine and a human step in parallel after check, and a consumer failing beside them
    machine = Step(
        name="machine",
        runner=state_machine("machine"),
        after=("check",),
        completed_by="LeftDone",
        failed_by="LeftFailed",
        deadline=timedelta(minutes=10),
        compensation=_branch("left", ()).compensation,
    )
    person = dataclasses.replace(REVIEW, when=None)
    wf = WorkflowDefinition(
        name="dag",
        version=1,
        start_event="Opened",
        subject_id="case_id",
        steps=(CHECK, person, machine, _branch("right", ("check",))),
        events=_events(),
    )
    flow = Flow(wf)
    flow.open()
    started = flow.checked("low")
    assert any(isinstance(a, StartStateMachine) and a.machine == "dag/machine" for a in started.actions)
    decision = flow.failed("right")
    (stop,) = [a for a in decision.actions if isinstance(a, StopStateMachine)]
    assert stop.execution_name.endswith("-machine-1")
    assert flow.step("review") is StepStatus.CANCELLED
    assert flow.step("machine") is StepStatus.COMPENSATING  # it may have acted: undone
    assert published(decision) == ["LeftUndoRequested"]
    flow.feed("LeftUndone", Undone(case_id=WF, compensation_attempt=1))
    assert flow.status is WorkflowStatus.COMPENSATED
    # a decision on the cancelled step changes nothing
    assert not flow.decide("complete").changed


# --- compensation failure policy ------------------------------------------------------------------------
def _both_done_then_final_fails(policy: Literal["halt", "continue"]) -> Flow:
    flow = Flow(definition(left_policy=policy))
    flow.open()
    flow.checked("low")
    flow.done("right")
    flow.done("left")  # left completed last: undone first
    assert published(flow.failed("final")) == ["LeftUndoRequested"]
    return flow


def test_halt_stops_undoing_at_the_failed_compensation_and_escalates() -> None:
    flow = _both_done_then_final_fails("halt")
    decision = flow.undo_failed("left")
    assert published(decision) == ["WorkflowEscalated"]
    assert flow.status is WorkflowStatus.NEEDS_ATTENTION
    assert flow.step("right") is StepStatus.COMPLETED  # not undone: an operator decides


def test_continue_records_and_escalates_the_failed_compensation_and_undoes_the_others() -> None:
    flow = _both_done_then_final_fails("continue")
    decision = flow.undo_failed("left")
    assert published(decision) == ["WorkflowEscalated", "RightUndoRequested"]
    assert flow.status is WorkflowStatus.COMPENSATING
    end = flow.undone("right")
    assert published(end) == []  # no WorkflowCompensated: one undo failed
    assert end.state is not None
    assert end.state.status is WorkflowStatus.NEEDS_ATTENTION
    assert flow.step("left") is StepStatus.COMPENSATION_FAILED
    assert flow.step("right") is StepStatus.COMPENSATED
    assert flow.state is not None
    assert "undo failed for left" in (flow.state.reason or "")
    # the operator settles it by hand: the workflow ends compensated
    resumed = flow.feed(
        lc.OPERATOR_COMMAND_ISSUED,
        lc.OperatorCommandIssued(workflow_id=WF, command="resume", operator="ops", reason="refunded by hand"),
    )
    assert published(resumed) == ["WorkflowCompensated"]


# --- declarations the controller could not run ------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"review": dataclasses.replace(REVIEW, callback=None)}, "needs a Callback"),
        (
            {"review": dataclasses.replace(REVIEW, callback=Callback("x", reminder=timedelta(hours=50)))},
            "reminder must come before the deadline",
        ),
        ({"review": dataclasses.replace(REVIEW, after=("nope",))}, "not earlier steps"),
        ({"review": dataclasses.replace(REVIEW, when=fact("outputs.check.colour").equals(1))}, "not a field"),
        ({"review": dataclasses.replace(REVIEW, when=fact("subject.colour").equals(1))}, "not a field"),
        (
            {"review": dataclasses.replace(REVIEW, after=(), when=fact("outputs.check.risk").equals(1))},
            "does not come after",
        ),
    ],
)
def test_declarations_the_controller_could_not_run_are_refused(change: dict[str, Step], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        definition(review=change["review"])


def test_a_step_started_by_the_completion_of_a_step_that_may_be_skipped_is_refused() -> None:
    gated = dataclasses.replace(
        CHECK, name="gated", when=fact("subject.amount").above(1), started_by=None, after=()
    )
    follower = dataclasses.replace(_branch("left", ()), after=None, started_by="Checked")
    with pytest.raises(ValueError, match="may be skipped"):
        WorkflowDefinition(
            name="dag",
            version=1,
            start_event="Opened",
            subject_id="case_id",
            steps=(gated, follower),
            events=_events(),
        )


def test_a_step_needing_the_output_of_a_step_that_may_be_skipped_is_refused() -> None:
    reader = dataclasses.replace(_branch("left", ("review",)), needs=("review",))
    with pytest.raises(ValueError, match="may be skipped"):
        WorkflowDefinition(
            name="dag",
            version=1,
            start_event="Opened",
            subject_id="case_id",
            steps=(CHECK, REVIEW, reader),
            events=_events(),
        )


# --- steps that gate nothing ---------------------------------------------------------------------------
def _with_side_step() -> WorkflowDefinition:
    side = Step(
        name="side",
        runner=consumer("side"),
        after=("check",),
        completed_by="FinalDone",
        failed_by="FinalFailed",
        deadline=timedelta(minutes=5),
        required=False,
    )
    return WorkflowDefinition(
        name="dag",
        version=1,
        start_event="Opened",
        subject_id="case_id",
        steps=(CHECK, side, _branch("left", ("check",))),
        events=_events(),
    )


def test_a_step_that_is_not_required_fails_without_failing_the_workflow() -> None:
    flow = Flow(_with_side_step())
    flow.open()
    assert requested_steps(flow.checked("low")) == ["side", "left"]
    failed = flow.failed("final")  # the side step's failure event
    assert flow.step("side") is StepStatus.FAILED
    assert flow.status is WorkflowStatus.RUNNING
    assert published(failed) == []
    assert published(flow.done("left")) == ["WorkflowCompleted"]


def test_a_step_that_is_not_required_still_completes_with_the_workflow_waiting_for_it() -> None:
    flow = Flow(_with_side_step())
    flow.open()
    flow.checked("low")
    assert published(flow.done("left")) == []  # the side step still runs: the workflow waits for it
    late = flow.deadline("side", "step", after=timedelta(minutes=5))
    assert flow.step("side") is StepStatus.TIMED_OUT
    assert published(late) == ["WorkflowCompleted"]


def test_a_step_after_one_that_is_not_required_is_refused() -> None:
    follower = _branch("left", ("side",))
    with pytest.raises(ValueError, match="not required"):
        WorkflowDefinition(
            name="dag",
            version=1,
            start_event="Opened",
            subject_id="case_id",
            steps=(CHECK, _with_side_step().steps[1], follower),
            events=_events(),
        )


def test_a_step_given_up_on_after_a_step_it_started_completed_is_still_undone_after_it() -> None:
    # GIVEN left, then right started by left's completion; the controller never hears left complete
    left = dataclasses.replace(_branch("left", ()), after=None, started_by="WorkflowStarted")
    right = dataclasses.replace(_branch("right", ()), after=None, started_by="LeftDone")
    wf = WorkflowDefinition(
        name="dag",
        version=1,
        start_event="Opened",
        subject_id="case_id",
        steps=(left, right),
        events=_events(),
    )
    flow = Flow(wf)
    flow.open()
    flow.done("right")  # right heard LeftDone and completed; the controller only sees right's outcome
    # WHEN left's deadline passes (recorded as given up on after right completed)
    decision = flow.deadline("left", "step", after=timedelta(minutes=10))
    # THEN right, which came after left in the DAG, is undone first all the same
    assert published(decision) == ["RightUndoRequested"]
    assert published(flow.undone("right")) == ["LeftUndoRequested"]


def _partner_step() -> Step:
    """A consumer's step a partner decides, whose deadline only escalates, with an undo."""
    return dataclasses.replace(
        _branch("left", ("check",)),
        deadline=timedelta(hours=24),
        callback=Callback(approvers="partners", reminder=timedelta(hours=12), on_deadline="escalate"),
    )


def _with_partner() -> WorkflowDefinition:
    return WorkflowDefinition(
        name="dag",
        version=1,
        start_event="Opened",
        subject_id="case_id",
        steps=(CHECK, _partner_step(), _branch("right", ("check",))),
        events=_events(),
    )


def test_a_consumer_step_waiting_past_its_deadline_is_given_up_when_another_branch_fails() -> None:
    # GIVEN a partner-decided consumer step (escalate at its deadline) beside a branch that fails
    flow = Flow(_with_partner())
    flow.open()
    flow.checked("low")
    decision = flow.failed("right")
    # THEN the workflow does not wait for a decision nobody may take any more: the step is given up on
    # (it may have acted: undone), not waited for forever
    assert flow.step("left") is StepStatus.COMPENSATING
    assert published(decision) == ["LeftUndoRequested"]
    flow.undone("left")
    assert flow.status is WorkflowStatus.COMPENSATED


def test_no_reminder_or_escalation_asks_for_a_decision_once_the_workflow_stopped_running() -> None:
    flow = Flow(_with_partner())
    flow.open()
    flow.checked("low")
    flow.feed(
        lc.OPERATOR_COMMAND_ISSUED,
        lc.OperatorCommandIssued(workflow_id=WF, command="cancel", operator="ops", reason="customer left"),
    )
    assert published(flow.deadline("left", "reminder", after=timedelta(hours=12))) == []
    assert published(flow.deadline("left", "step", after=timedelta(hours=12))) == []


def test_a_completion_from_a_superseded_attempt_stops_the_current_execution() -> None:
    # GIVEN check's first execution superseded by an operator's retry (attempt 2 running)
    flow = Flow()
    first = flow.open()
    (start,) = [a for a in first.actions if isinstance(a, StartStateMachine)]
    flow.feed(
        lc.OPERATOR_COMMAND_ISSUED,
        lc.OperatorCommandIssued(
            workflow_id=WF, command="retry-step", step="check", operator="ops", reason="slow"
        ),
    )
    assert flow.st("check").attempt == 2
    # WHEN the first attempt's completion arrives after all (caused by the first execution's input)
    etype = flow.definition.catalog.event_type("Checked")
    event = DomainEvent(
        detail_type="Checked",
        source=etype.source,
        metadata=EventMetadata(
            event_id="late-check",
            correlation_id=WF,
            causation_id=start.input["metadata"]["eventId"],
            schema_version=1,
            occurred_at=flow.now,
            producer=etype.source,
        ),
        data=Checked(case_id=WF, risk="low"),
        workflow=WorkflowContext(name="dag", version=1, subject={"caseId": WF, "amount": 100}, outputs={}),
    )
    decision = flow.decider.decide(flow.state, event, flow.now)
    flow.state = decision.state
    # THEN the step is completed (its effect exists) and the second execution is stopped, not left running
    assert flow.step("check") is StepStatus.COMPLETED
    (stop,) = [a for a in decision.actions if isinstance(a, StopStateMachine)]
    assert stop.execution_name.endswith("-check-2")


def test_a_decision_that_reaches_the_controller_after_the_consumers_outcome_is_still_on_the_record() -> None:
    # GIVEN a partner-decided consumer step: the decision goes to the consumer and to the controller
    # through two queues, with no order between them (found by the chaos profile: a delayed delivery)
    flow = Flow(_with_partner())
    flow.open()
    flow.checked("low")
    flow.done("right")
    # WHEN the consumer acts on the decision and its outcome reaches the controller first
    flow.done("left")
    assert flow.status is WorkflowStatus.COMPLETED
    decision = flow.decide("complete", step="left", by="arn:aws:iam::123456789012:user/partner")
    # THEN the step's record still names who decided it, and nothing else changes
    assert flow.st("left").decision["decidedBy"] == "arn:aws:iam::123456789012:user/partner"
    assert flow.step("left") is StepStatus.COMPLETED
    assert published(decision) == []
    # AND a second decision (or one of another attempt) does not overwrite it
    flow.decide("reject", step="left", by="someone-else", reason="late")
    flow.decide("complete", step="left", attempt=2, by="someone-else")
    assert flow.st("left").decision["decidedBy"] == "arn:aws:iam::123456789012:user/partner"
