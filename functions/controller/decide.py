"""The controller's decisions: (state, event, now) -> (new state, actions). Pure: no I/O, no clock.

Every transition is derived from the workflow definition: which step an event completes, fails or
starts, which compensation undoes a step, how long each may take. Duplicates and late arrivals are
normal input: an outcome for a step that already has one is recorded and changes nothing; a step that
completes after the workflow gave up on it is queued for compensation.

Steps form a DAG (docs/decisions/0028). A step with ``started_by`` starts on that event; any other step
starts when every step in its ``after`` is completed or skipped, if its ``when`` condition holds
(otherwise it is skipped). When a step fails: steps waiting for a decision are cancelled, running state
machines are stopped (and undone: they may have acted), running consumers are waited for (their
outcome or their deadline); then every step that did or may have done its work is undone in reverse
sequence of completion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from controller.actions import (
    Action,
    CancelDeadline,
    Escalate,
    PublishEvent,
    ScheduleDeadline,
    StartStateMachine,
    StopStateMachine,
    execution_name,
    iso_seconds,
    schedule_name,
)
from workflow_core import lifecycle as ev
from workflow_core.catalog import DomainEvent
from workflow_core.conditions import ConditionError, facts_of
from workflow_core.definition import Pattern, Step, WorkflowDefinition
from workflow_core.envelope import ContractModel, EventMetadata
from workflow_core.errors import WorkflowNotFoundError
from workflow_core.publisher import OutgoingEvent, derived_event_id, new_event
from workflow_core.workflow_state import StepState, StepStatus, WorkflowState, WorkflowStatus

PRODUCER = "workflow.controller"
SCHEDULER_PRODUCER = "workflow.scheduler"

# Metric names the controller emits (EMF); the stack alarms on WorkflowsPastDeadline.
METRIC_PAST_DEADLINE = "WorkflowsPastDeadline"
# A start event whose subject id names an instance of another workflow: refused, counted.
METRIC_ID_TAKEN = "WorkflowIdTaken"

_DONE_STEP = frozenset(
    {StepStatus.COMPLETED, StepStatus.COMPENSATING, StepStatus.COMPENSATED, StepStatus.COMPENSATION_FAILED}
)
# A step that lets the steps after it start.
_SATISFIED = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED})
# How a step that is not required may end without failing the workflow.
_GAVE_UP = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT})


@dataclass
class Decision:
    state: WorkflowState | None
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    changed: bool = False


class Decider:
    def __init__(self, definition: WorkflowDefinition) -> None:
        self._definition = definition
        self._step_outcomes = definition.step_outcome_events()
        self._compensation_outcomes = definition.compensation_outcome_events()

    # --- entry point -------------------------------------------------------------------------------
    def decide(self, state: WorkflowState | None, event: DomainEvent, now: datetime) -> Decision:
        d = self._definition
        if event.detail_type == d.start_event and event.workflow is None:
            return self._start(state, event, now)
        if state is None:
            raise WorkflowNotFoundError(f"no workflow {event.correlation_id!r} for {event.detail_type}")
        run = _Run(self._definition, state.copy_for_update(), event, now)
        if event.detail_type in self._step_outcomes:
            step, outcome = self._step_outcomes[event.detail_type]
            if outcome == "completed":
                run.step_completed(step)
            else:
                run.step_failed(step, _reason(event))
        elif event.detail_type in self._compensation_outcomes:
            step, outcome = self._compensation_outcomes[event.detail_type]
            if outcome == "compensated":
                run.compensation_completed(step)
            else:
                run.compensation_failed(step, _reason(event))
        elif event.detail_type == d.deadline_event:
            run.deadline_reached(cast(ev.StepDeadlineReached, event.data))
        elif event.detail_type == d.operator_event:
            run.operator_command(cast(ev.OperatorCommandIssued, event.data))
        elif event.detail_type == ev.STEP_DECIDED:
            run.decision_received(cast(ev.StepDecided, event.data))
        # An event can also start the next step (one step's completion is the next one's trigger).
        for step in d.steps:
            if step.started_by == event.detail_type:
                run.step_started(step)
        run.start_ready_steps()
        run.settle()
        return run.decision()

    def _start(self, state: WorkflowState | None, event: DomainEvent, now: datetime) -> Decision:
        if state is not None:
            if state.workflow_type != self._definition.name:
                note = f"id taken by a {state.workflow_type} workflow; {event.detail_type} ignored"
                return Decision(state, notes=[note], metrics=[METRIC_ID_TAKEN])
            return Decision(state, notes=["this subject already has a workflow; start ignored"])
        d = self._definition
        state = WorkflowState(
            workflow_id=workflow_id_of(d, event),
            workflow_type=d.name,
            definition_version=d.version,
            status=WorkflowStatus.RUNNING,
            created_at=now,
            updated_at=now,
            subject=event.data.to_wire(),
            steps={step.name: StepState() for step in d.steps},
        )
        run = _Run(d, state, event, now)
        started = run.emit(
            d.started_event,
            ev.WorkflowStarted(workflow_id=state.workflow_id, workflow_type=d.name, version=d.version),
            # Start events come from outside: two workflows' producers may reuse an event id.
            key=d.name,
        )
        run.metrics.append(d.started_event)
        for step in d.steps:
            if step.started_by == d.started_event:
                run.step_started(step, trigger=started)
        run.start_ready_steps()
        run.settle()  # every step may have been skipped
        run.changed = True
        return run.decision()


class _Run:
    """One decision in progress: the mutable copy of the state plus the actions it implies."""

    def __init__(
        self, definition: WorkflowDefinition, state: WorkflowState, event: DomainEvent, now: datetime
    ):
        self.d = definition
        self.s = state
        self.event = event
        self.now = now
        self.actions: list[Action] = []
        self.notes: list[str] = []
        self.metrics: list[str] = []
        self.changed = False

    def decision(self) -> Decision:
        if self.changed:
            self.s.updated_at = self.now
        return Decision(self.s, self.actions, self.notes, self.metrics, self.changed)

    # --- emitting -------------------------------------------------------------------------------
    def emit(self, detail_type: str, data: ContractModel, *, key: str | None = None) -> OutgoingEvent:
        """Publish ``detail_type``; its id derives from the cause (+ ``key`` when a cause emits several)."""
        outgoing = self.build(detail_type, data, key=key)
        self.actions.append(PublishEvent.of(outgoing))
        return outgoing

    def build(self, detail_type: str, data: ContractModel, *, key: str | None = None) -> OutgoingEvent:
        return new_event(
            detail_type,
            data,
            event_id=derived_event_id(self.event.event_id, detail_type, key),
            correlation_id=self.s.workflow_id,
            caused_by=self.event,
            producer=PRODUCER,
            workflow=self.s.context(),
            catalog=self.d.catalog,
        )

    def schedule(
        self, step: Step, phase: Literal["step", "compensation", "reminder"], attempt: int, deadline: datetime
    ) -> None:
        name = schedule_name(self.s.workflow_id, step.name, phase, attempt)
        data = ev.StepDeadlineReached(
            workflow_id=self.s.workflow_id,
            step=step.name,
            phase=phase,
            attempt=attempt,
            deadline=deadline,
        )
        metadata = EventMetadata(
            event_id=f"deadline:{name}",
            correlation_id=self.s.workflow_id,
            causation_id=self.event.event_id,
            schema_version=1,
            occurred_at=deadline,
            producer=SCHEDULER_PRODUCER,
        )
        self.actions.append(
            ScheduleDeadline(
                schedule_name=name,
                at=iso_seconds(deadline),
                detail_type=self.d.deadline_event,
                source=SCHEDULER_PRODUCER,
                # The context routes the deadline to this workflow's rules (they match its name).
                detail={
                    "metadata": metadata.to_wire(),
                    "workflow": self.s.context().to_wire(),
                    "data": data.to_wire(),
                },
            )
        )

    def cancel_schedule(self, step: Step, phase: str, attempt: int) -> None:
        self.actions.append(CancelDeadline(schedule_name(self.s.workflow_id, step.name, phase, attempt)))

    # --- forward steps ----------------------------------------------------------------------------
    def step_started(self, step: Step, trigger: OutgoingEvent | None = None) -> None:
        st = self.s.steps[step.name]
        if self.s.status is not WorkflowStatus.RUNNING or st.status is not StepStatus.PENDING:
            return
        if trigger is None and step.pattern is Pattern.ORCHESTRATED:
            trigger = self.machine_input(step, attempt=1)
        self._run_attempt(step, st, attempt=1, trigger=trigger)

    def start_ready_steps(self) -> None:
        """Start (or skip) every controller-started step whose ``after`` steps are all done."""
        progressed = True
        while progressed and self.s.status is WorkflowStatus.RUNNING:
            progressed = False
            for step in self.d.steps:
                st = self.s.steps[step.name]
                if not step.controller_started or st.status is not StepStatus.PENDING:
                    continue
                if any(self.s.steps[name].status not in _SATISFIED for name in self.d.after_of(step)):
                    continue
                progressed = True
                if self._condition_holds(step, st):
                    self._launch(step, st)
                if self.s.status is not WorkflowStatus.RUNNING:
                    return

    def _condition_holds(self, step: Step, st: StepState) -> bool:
        """True to run ``step``; False after recording it skipped (or failed: a condition in error)."""
        if step.when is None:
            return True
        context = self.s.context()
        try:
            holds = step.when.holds(facts_of(context.subject, context.outputs))
        except ConditionError as error:
            # Fail safe: a condition that cannot be read must not skip (or run) a step by accident.
            st.status = StepStatus.FAILED
            st.finished_at = self.now
            st.reason = f"its condition could not be evaluated: {error}"
            self.changed = True
            self._begin_compensation(f"{step.name}: {st.reason}", failed=step)
            return False
        if not holds:
            st.status = StepStatus.SKIPPED
            st.finished_at = self.now
            st.reason = f"skipped: {step.when.describe()} does not hold"
            self.changed = True
            self.notes.append(f"{step.name} {st.reason}")
        return holds

    def _launch(self, step: Step, st: StepState, *, attempt: int = 1) -> None:
        """Start an attempt of a step nothing else starts: a state machine, a consumer, or a person."""
        if step.pattern is Pattern.ORCHESTRATED:
            self._run_attempt(step, st, attempt=attempt, trigger=self.machine_input(step, attempt=attempt))
            return
        if step.pattern is Pattern.CHOREOGRAPHED and attempt > 1:
            retry = ev.StepRetryRequested(workflow_id=self.s.workflow_id, step=step.name, attempt=attempt)
            self.emit(self.d.retry_event, retry)
        elif step.pattern is Pattern.CHOREOGRAPHED:
            # One event may start several steps (parallel branches): the key tells their ids apart.
            request = ev.StepRequested(workflow_id=self.s.workflow_id, step=step.name, attempt=attempt)
            self.emit(ev.STEP_REQUESTED, request, key=f"{step.name}:{attempt}")
        self._run_attempt(step, st, attempt=attempt, trigger=None)

    def machine_input(self, step: Step, *, attempt: int) -> OutgoingEvent:
        """A state machine's input: the workflow's start announcement as of now (with every output so
        far in its context), built for this attempt and not published."""
        return self.build(
            self.d.started_event,
            ev.WorkflowStarted(
                workflow_id=self.s.workflow_id,
                workflow_type=self.s.workflow_type,
                version=self.s.definition_version,
            ),
            key=f"{step.name}:{attempt}",
        )

    def _run_attempt(self, step: Step, st: StepState, *, attempt: int, trigger: OutgoingEvent | None) -> None:
        st.status = StepStatus.RUNNING
        st.attempt = attempt
        st.started_at = self.now
        st.deadline = self.now + step.deadline
        st.reason = None
        st.decision = None
        st.overdue = False
        self.changed = True
        self.schedule(step, "step", attempt, st.deadline)
        callback = step.callback
        if callback is not None:
            if callback.reminder is not None:
                self.schedule(step, "reminder", attempt, self.now + callback.reminder)
            if step.pattern is not Pattern.CHOREOGRAPHED:
                # A consumer knows whether it needs a person (a partner that answers by hand, say); a human
                # step or a state machine pausing on a task token always does.
                self.emit(
                    ev.DECISION_REQUESTED,
                    self._decision_request(ev.DecisionRequested, step, attempt, st.deadline),
                    key=f"{step.name}:{attempt}",
                )
        if step.pattern is Pattern.ORCHESTRATED and trigger is not None:
            st.trigger_event_id = trigger.metadata.event_id
            self.actions.append(
                StartStateMachine(
                    machine=flow_key(self.d.name, step.runner.name),
                    execution_name=execution_name(self.s.workflow_id, step.name, attempt),
                    input=trigger.detail(),
                )
            )

    def _decision_request(
        self, model: type[ev.DecisionRequested], step: Step, attempt: int, deadline: datetime
    ) -> ev.DecisionRequested:
        assert step.callback is not None
        return model(
            workflow_id=self.s.workflow_id,
            workflow_type=self.s.workflow_type,
            step=step.name,
            attempt=attempt,
            approvers=step.callback.approvers,
            deadline=deadline,
        )

    def _cancel_step_schedules(self, step: Step, st: StepState) -> None:
        """The step stopped running: its deadline (unless it fired) and its reminder (if still ahead)."""
        if not st.overdue:
            self.cancel_schedule(step, "step", st.attempt)
        reminder = step.callback.reminder if step.callback else None
        if reminder is not None and st.started_at is not None and st.started_at + reminder > self.now:
            self.cancel_schedule(step, "reminder", st.attempt)

    def _record_completion_moment(self, step: Step) -> None:
        """Undo runs this sequence backwards; a step given up on counts from that moment."""
        if step.name not in self.s.completion_order:
            self.s.completion_order.append(step.name)

    def decision_received(self, data: ev.StepDecided) -> None:
        """A decision taken through the callback routes: a human step's outcome; for a consumer's step,
        a record (the consumer received it too and reports the step's outcome itself)."""
        if data.step not in self.s.steps:
            self.notes.append(f"decision for unknown step {data.step!r} ignored")
            return
        step = self.d.step(data.step)
        st = self.s.steps[step.name]
        if step.callback is None or step.pattern is Pattern.ORCHESTRATED:
            self.notes.append(f"{step.name} takes no decision as an event; {data.decision} ignored")
            return
        if st.status is not StepStatus.RUNNING or st.attempt != data.attempt:
            if step.pattern is not Pattern.HUMAN and st.attempt == data.attempt and st.decision is None:
                # The consumer heard the decision and reported the step's outcome before this copy of it
                # reached the controller (two queues, no ordering between them): the step's record must
                # still say who decided it.
                st.decision = data.to_wire()
                self.changed = True
            self.notes.append(
                f"decision on {step.name} attempt {data.attempt} ({st.status}, attempt {st.attempt}) "
                "recorded only"
            )
            return
        if st.decision is not None:
            self.notes.append(
                f"{step.name} was already decided; {data.decision} by {data.decided_by} ignored"
            )
            return
        st.decision = data.to_wire()
        self.changed = True
        if step.pattern is not Pattern.HUMAN:
            self.notes.append(f"{data.decision} by {data.decided_by} delivered to {step.runner.name}")
            return
        if data.decision == "complete":
            self.step_completed(step, output=st.decision)
        else:
            self.step_failed(step, f"rejected by {data.decided_by}: {data.reason or 'no reason given'}")

    def step_completed(self, step: Step, *, output: dict[str, Any] | None = None) -> None:
        st = self.s.steps[step.name]
        if st.status is StepStatus.COMPLETED or (st.status in _DONE_STEP and st.completion_seen):
            self.notes.append(f"{step.name} already completed; duplicate outcome ignored")
            return
        if st.status in _DONE_STEP:
            self._completed_after_undo(step, st)
            return
        if st.status in (StepStatus.SKIPPED, StepStatus.CANCELLED):
            self.notes.append(f"{step.name} is {st.status}; completion recorded only")
            return
        st.completion_seen = True
        # What later steps may read (the workflow context): the completing event's data, or the decision.
        st.output = output if output is not None else self.event.data.to_wire()
        was_running = st.status is StepStatus.RUNNING
        if was_running:
            self._cancel_step_schedules(step, st)
            if self._is_stale_attempt(step, st):
                # An earlier attempt finished (its effect exists): the current one must not run on.
                self._stop_attempt(step, st, "the step was completed by an earlier attempt")
        self._record_completion_moment(step)
        st.status = StepStatus.COMPLETED
        st.finished_at = self.now
        st.reason = None
        self.changed = True
        if self.s.status is not WorkflowStatus.RUNNING and step.compensation:
            # The step finished after the workflow gave up on it: its effect must be undone too.
            self.notes.append(f"{step.name} completed after the workflow stopped; queued for compensation")
            self._queue_compensation(step)

    def _completed_after_undo(self, step: Step, st: StepState) -> None:
        """The step's undo began before its completion was seen: the completed effect may be untouched."""
        st.completion_seen = True
        st.output = self.event.data.to_wire()  # the next undo request's context carries it
        self.changed = True
        if st.status is StepStatus.COMPENSATING:
            st.undo_again = True
            self.notes.append(f"{step.name} completed while being undone; it will be undone once more")
        elif st.status is StepStatus.COMPENSATED:
            self.notes.append(f"{step.name} completed after it was undone; undoing it again")
            self._queue_compensation(step)
        else:
            self.notes.append(f"{step.name} completed after its undo failed; left to the operator")

    def _is_stale_attempt(self, step: Step, st: StepState) -> bool:
        """An orchestrated step's outcome caused by an earlier attempt's start (that attempt was stopped)."""
        cause = self.event.metadata.causation_id
        return step.pattern is Pattern.ORCHESTRATED and bool(
            st.trigger_event_id and cause and cause != st.trigger_event_id
        )

    def step_failed(self, step: Step, reason: str) -> None:
        st = self.s.steps[step.name]
        if self._is_stale_attempt(step, st):
            self.notes.append(f"{step.name} failure came from a superseded attempt; ignored")
            return
        if st.status not in (StepStatus.PENDING, StepStatus.RUNNING):
            self.notes.append(f"{step.name} is {st.status}; failure outcome recorded only")
            return
        if st.status is StepStatus.RUNNING:
            self._cancel_step_schedules(step, st)
        st.status = StepStatus.FAILED
        st.finished_at = self.now
        st.reason = reason
        self.changed = True
        if self.s.status is WorkflowStatus.RUNNING and not step.required:
            self.notes.append(f"{step.name} failed: {reason}; it gates nothing, the workflow goes on")
        elif self.s.status is WorkflowStatus.RUNNING:
            self._begin_compensation(f"{step.name} failed: {reason}", failed=step)

    def deadline_reached(self, data: ev.StepDeadlineReached) -> None:
        step = self.d.step(data.step)
        st = self.s.steps[step.name]
        if data.phase == "reminder":
            self._reminder_due(step, st, data)
            return
        if data.phase == "step":
            if st.status is not StepStatus.RUNNING or st.attempt != data.attempt or st.overdue:
                self.notes.append(f"deadline of {step.name} attempt {data.attempt} is stale; ignored")
                return
            if step.callback is not None and step.callback.on_deadline == "escalate":
                self._past_service_level(step, st, data)
                return
            self._cancel_step_schedules(step, st)  # the reminder, if it is still ahead
            self._record_completion_moment(step)
            st.status = StepStatus.TIMED_OUT
            st.finished_at = self.now
            st.reason = f"missed its deadline {iso_seconds(data.deadline)}"
            self.changed = True
            self.metrics.append(METRIC_PAST_DEADLINE)
            self._stop_attempt(step, st, "missed its deadline")
            if self.s.status is WorkflowStatus.RUNNING and not step.required:
                self.notes.append(f"{step.name} missed its deadline; it gates nothing, the workflow goes on")
            elif self.s.status is WorkflowStatus.RUNNING:
                self._begin_compensation(f"{step.name} missed its deadline", failed=step)
            elif step.compensation:
                # The workflow already stopped; the late step may still have acted: undo it too.
                self._queue_compensation(step)
            return
        if st.status is not StepStatus.COMPENSATING or st.compensation_attempt != data.attempt:
            self.notes.append(
                f"compensation deadline of {step.name} attempt {data.attempt} is stale; ignored"
            )
            return
        self.metrics.append(METRIC_PAST_DEADLINE)
        self._compensation_failed(step, "compensation missed its deadline", cancel=False)

    def _reminder_due(self, step: Step, st: StepState, data: ev.StepDeadlineReached) -> None:
        if (
            self.s.status is not WorkflowStatus.RUNNING  # nobody may decide it now: do not ask people to
            or st.status is not StepStatus.RUNNING
            or st.attempt != data.attempt
            or st.decision is not None
        ):
            self.notes.append(f"reminder for {step.name} attempt {data.attempt} is stale; ignored")
            return
        assert st.deadline is not None
        self.emit(
            ev.DECISION_REMINDER,
            self._decision_request(ev.DecisionReminder, step, st.attempt, st.deadline),
            key=f"{step.name}:{st.attempt}",
        )
        self.changed = True

    def _past_service_level(self, step: Step, st: StepState, data: ev.StepDeadlineReached) -> None:
        """A callback step past its deadline with ``on_deadline="escalate"``: people are told, the
        workflow keeps waiting for the decision (the breach is recorded, not turned into a failure)."""
        if self.s.status is not WorkflowStatus.RUNNING:
            self.notes.append(f"deadline of {step.name} passed, the workflow is {self.s.status}; ignored")
            return
        st.overdue = True
        st.reason = f"missed its deadline {iso_seconds(data.deadline)}; escalated, still waiting"
        self.changed = True
        self.metrics.append(METRIC_PAST_DEADLINE)
        self._announce_escalation(
            step, f"{step.name} is past its deadline {iso_seconds(data.deadline)}", key=f"{step.name}:sla"
        )

    # --- compensation -------------------------------------------------------------------------------
    def _begin_compensation(
        self, reason: str, *, including_running: bool = False, failed: Step | None = None
    ) -> None:
        """Undo, latest completion first, every step that did (or may have done) its work.

        Steps still running elsewhere in the DAG: a step waiting for a person is cancelled (nobody
        acted); a state machine in another branch is stopped and undone like a timed-out step (it may
        have acted); a consumer is waited for (it cannot be stopped), unless ``including_running`` (an
        operator's cancel), when it is given up on like a timed-out step. A step the ``failed`` one came
        after is waited for whatever runs it: it must have finished, its completion is in flight.
        """
        self.s.reason = reason
        undo = {StepStatus.COMPLETED, StepStatus.TIMED_OUT}
        in_flight = set(self.d.ancestors(failed.name)) if failed is not None else set()
        if failed is not None:
            self._await_outcomes_before(failed)
        for step in self.d.steps:
            st = self.s.steps[step.name]
            if st.status is not StepStatus.RUNNING or (step.name in in_flight and not including_running):
                continue
            if step.pattern is Pattern.HUMAN:
                self._cancel_step_schedules(step, st)
                st.status = StepStatus.CANCELLED
                st.finished_at = self.now
                st.reason = reason
            elif including_running or step.pattern is Pattern.ORCHESTRATED or _waits_past_deadline(step):
                # It may still act after the stop: undo it like a timed-out one.
                self._cancel_step_schedules(step, st)
                self._stop_attempt(step, st, reason)
                self._record_completion_moment(step)
                st.status = StepStatus.TIMED_OUT
                st.finished_at = self.now
                st.reason = reason
        queue = self._latest_first(
            [s.name for s in self.d.steps if s.compensation and self.s.steps[s.name].status in undo]
        )
        self.changed = True
        running = self._running_compensable()
        if running:
            # A step still running may complete yet (its completion can be in flight behind this failure):
            # undoing the steps before it now would undo them before it. Wait for its outcome or its
            # deadline; settle() starts the undos then, latest step first.
            self.s.status = WorkflowStatus.COMPENSATING
            self.s.compensation_queue = queue
            self.notes.append(f"waiting for {', '.join(running)} to finish before undoing")
            return
        if not queue:
            self._finish(WorkflowStatus.FAILED, "WorkflowFailed")
            return
        self.s.status = WorkflowStatus.COMPENSATING
        self.s.compensation_queue = queue
        self._request_next_compensation()

    def _await_outcomes_before(self, failed: Step) -> None:
        """Consumers ``failed`` came after that the controller still sees PENDING: each heard its trigger
        and finished before ``failed`` started, but its outcome (and maybe its trigger) has not reached
        the controller yet (two queues, no ordering between them). Each is running as far as the controller
        can tell, and waited for like one (its deadline bounds the wait), so that its undo comes before
        the undos of the steps before it."""
        for name in self.d.ancestors(failed.name):
            step, st = self.d.step(name), self.s.steps[name]
            if st.status is StepStatus.PENDING and step.pattern is Pattern.CHOREOGRAPHED:
                self._run_attempt(step, st, attempt=1, trigger=None)
                self.notes.append(f"{name} finished before {failed.name}; awaiting its outcome")

    def _latest_first(self, names: list[str]) -> list[str]:
        """Latest completion first, and never a step before one that came after it in the DAG.

        A step given up on (timed out, stopped) is recorded when it was given up on, which may be after
        steps it started completed (its completion was lost, theirs was not): the DAG says it acted first.
        A step never recorded counts as the latest.
        """
        completed = self.s.completion_order

        def recency(name: str) -> tuple[int, int]:
            return (
                -(completed.index(name) if name in completed else len(completed)),
                -self.d.step_index(name),
            )

        pending = sorted(names, key=recency)
        after = {name: set(self.d.ancestors(name)) for name in pending}
        ordered: list[str] = []
        while pending:
            # The most recent step none of whose descendants is still waiting to be undone.
            ready = next(n for n in pending if not any(n in after[other] for other in pending if other != n))
            ordered.append(ready)
            pending.remove(ready)
        return ordered

    def _running_compensable(self) -> list[str]:
        return [
            s.name
            for s in self.d.steps
            if s.compensation and self.s.steps[s.name].status is StepStatus.RUNNING
        ]

    def _undo_in_flight(self) -> bool:
        return any(st.status is StepStatus.COMPENSATING for st in self.s.steps.values())

    def _stop_attempt(self, step: Step, st: StepState, cause: str) -> None:
        """Stop a running orchestrated attempt, so it cannot act after (or during) its undo."""
        if step.pattern is Pattern.ORCHESTRATED and st.attempt:
            self.actions.append(
                StopStateMachine(
                    machine=flow_key(self.d.name, step.runner.name),
                    execution_name=execution_name(self.s.workflow_id, step.name, st.attempt),
                    cause=f"{self.s.workflow_id}: {cause}",
                )
            )

    def _queue_compensation(self, step: Step) -> None:
        queue = self.s.compensation_queue
        if step.name in queue:
            return
        # The head stays first only while its undo is in flight; a queue waiting for a running step is
        # still free to take a later step ahead of it.
        head = queue[:1] if self.s.status is WorkflowStatus.COMPENSATING and self._undo_in_flight() else []
        rest = self._latest_first([*queue[len(head) :], step.name])
        self.s.compensation_queue = head + rest
        if self.s.status in (WorkflowStatus.COMPENSATED, WorkflowStatus.FAILED):
            self.s.status = WorkflowStatus.COMPENSATING
            self._request_next_compensation()

    def _request_next_compensation(self) -> None:
        if not self.s.compensation_queue:
            self._finish_undo()
            return
        step = self.d.step(self.s.compensation_queue[0])
        compensation = step.compensation
        assert compensation is not None
        st = self.s.steps[step.name]
        st.status = StepStatus.COMPENSATING
        st.compensation_attempt += 1
        st.compensation_deadline = self.now + compensation.deadline
        self.changed = True
        data = _compensation_request(
            self.d,
            compensation.request,
            self.s.subject,
            {
                "reason": self.s.reason or "compensation",
                "step_attempt": max(st.attempt, 1),
                "compensation_attempt": st.compensation_attempt,
            },
        )
        self.emit(compensation.request, data, key=f"{step.name}:{st.compensation_attempt}")
        self.schedule(step, "compensation", st.compensation_attempt, st.compensation_deadline)

    def _stale_compensation(self, step: Step, st: StepState) -> bool:
        echoed = getattr(self.event.data, "compensation_attempt", None)
        if st.status is not StepStatus.COMPENSATING:
            self.notes.append(f"{step.name} is {st.status}; compensation outcome recorded only")
            return True
        if echoed is not None and echoed != st.compensation_attempt:
            self.notes.append(f"outcome of {step.name}'s undo attempt {echoed} is stale; ignored")
            return True
        return False

    def compensation_completed(self, step: Step) -> None:
        st = self.s.steps[step.name]
        if self._stale_compensation(step, st):
            return
        self.cancel_schedule(step, "compensation", st.compensation_attempt)
        if st.undo_again:
            # The step completed while this undo ran: undo it once more, before moving on.
            st.undo_again = False
            self.changed = True
            self._request_next_compensation()
            return
        st.status = StepStatus.COMPENSATED
        st.finished_at = self.now
        if step.name not in self.s.compensated_steps:
            self.s.compensated_steps.append(step.name)
        self.s.compensation_queue = [n for n in self.s.compensation_queue if n != step.name]
        self.changed = True
        if self.s.status is WorkflowStatus.COMPENSATING:
            self._request_next_compensation()

    def compensation_failed(self, step: Step, reason: str) -> None:
        st = self.s.steps[step.name]
        if self._stale_compensation(step, st):
            return
        self._compensation_failed(step, reason, cancel=True)

    def _compensation_failed(self, step: Step, reason: str, *, cancel: bool) -> None:
        st = self.s.steps[step.name]
        assert step.compensation is not None
        st.undo_again = False  # whatever retries this undo starts from the current state anyway
        if cancel:
            self.cancel_schedule(step, "compensation", st.compensation_attempt)
        st.status = StepStatus.COMPENSATION_FAILED
        st.reason = reason
        self.changed = True
        if step.compensation.on_failure == "continue":
            # Record and escalate this one; the other undos do not depend on it.
            self.s.compensation_queue = [n for n in self.s.compensation_queue if n != step.name]
            self._announce_escalation(
                step,
                f"compensation of {step.name} failed: {reason}; undoing the other steps",
                key=f"{step.name}:{st.compensation_attempt}",
            )
            if self.s.status is WorkflowStatus.COMPENSATING and not self._undo_in_flight():
                self._request_next_compensation()
            return
        self._escalate(step, f"compensation of {step.name} failed: {reason}")

    def _finish_undo(self) -> None:
        """Nothing left to undo: COMPENSATED, or NEEDS_ATTENTION when an undo failed and was passed over."""
        failed = [n for n, st in self.s.steps.items() if st.status is StepStatus.COMPENSATION_FAILED]
        if not failed:
            # Every undo done in the end (an operator retried or settled the failed ones): the cause stays.
            self.s.reason = (self.s.reason or "").split("; undo failed for ")[0] or None
            self._finish(WorkflowStatus.COMPENSATED, "WorkflowCompensated")
            return
        self.s.status = WorkflowStatus.NEEDS_ATTENTION
        self.s.compensation_queue = []
        suffix = f"; undo failed for {', '.join(failed)} (escalated)"
        base = (self.s.reason or "compensation").split("; undo failed for ")[0]
        self.s.reason = base + suffix
        self.changed = True

    def _escalate(self, step: Step | None, reason: str) -> None:
        self.s.status = WorkflowStatus.NEEDS_ATTENTION
        self.s.reason = reason
        self._announce_escalation(step, reason)

    def _announce_escalation(self, step: Step | None, reason: str, *, key: str | None = None) -> None:
        self.emit(
            self.d.escalation_event,
            ev.WorkflowEscalated(
                workflow_id=self.s.workflow_id,
                workflow_type=self.s.workflow_type,
                reason=reason,
                failed_step=step.name if step else None,
            ),
            key=key,
        )
        self.actions.append(
            Escalate(
                subject=f"Workflow {self.s.workflow_id} needs attention",
                message=(
                    f"Workflow {self.s.workflow_id} ({self.s.workflow_type}) needs attention: {reason}. "
                    f"Steps: {', '.join(f'{n}={s.status}' for n, s in self.s.steps.items())}. "
                    "Fix the cause, then issue 'retry-step' (run the compensation again) or 'resume' "
                    "(it was settled by hand; continue)."
                ),
            )
        )
        self.metrics.append(self.d.escalation_event)

    def _finish(self, status: WorkflowStatus, detail_type: str) -> None:
        self.s.status = status
        self.s.compensation_queue = []
        self.changed = True
        if detail_type in self.s.announced:
            # Reached again (a late completion was undone a second time): the people told and the
            # subscribers were already told; the history records the second arrival.
            self.notes.append(f"{detail_type} was already announced; not published again")
            return
        self.s.announced.append(detail_type)
        self.emit(
            detail_type,
            ev.WorkflowOutcome(
                workflow_id=self.s.workflow_id,
                workflow_type=self.s.workflow_type,
                status=status.value,
                reason=self.s.reason,
                compensated_steps=tuple(self.s.compensated_steps),
            ),
        )
        self.metrics.append(detail_type)
        self.changed = True

    # --- after every event -------------------------------------------------------------------------------
    def settle(self) -> None:
        if self.s.status is WorkflowStatus.RUNNING and all(
            st.status in _SATISFIED or (not step.required and st.status in _GAVE_UP)
            for step, st in ((step, self.s.steps[step.name]) for step in self.d.steps)
        ):
            self._finish(WorkflowStatus.COMPLETED, self.d.outcome_events[0])
        elif (
            self.s.status is WorkflowStatus.COMPENSATING
            and not self._undo_in_flight()
            and not self._running_compensable()
        ):
            # The wait for running steps is over (they completed, failed or timed out): undo, latest first.
            if self.s.compensation_queue:
                self._request_next_compensation()
            elif self.s.compensated_steps or any(
                st.status is StepStatus.COMPENSATION_FAILED for st in self.s.steps.values()
            ):
                self._finish_undo()
            else:
                self._finish(WorkflowStatus.FAILED, "WorkflowFailed")

    # --- operators ------------------------------------------------------------------------------------
    def operator_command(self, command: ev.OperatorCommandIssued) -> None:
        status = self.s.status
        if command.command == "cancel":
            if status is not WorkflowStatus.RUNNING:
                self._reject(command, f"cannot cancel a {status} workflow")
                return
            self._begin_compensation(
                f"cancelled by {command.operator}: {command.reason}", including_running=True
            )
            return
        if command.command == "resume":
            self._resume(command)
            return
        self._retry_step(command)

    def _resume(self, command: ev.OperatorCommandIssued) -> None:
        if self.s.status is not WorkflowStatus.NEEDS_ATTENTION:
            self._reject(command, f"only a NEEDS_ATTENTION workflow can resume, this one is {self.s.status}")
            return
        failed = [name for name, st in self.s.steps.items() if st.status is StepStatus.COMPENSATION_FAILED]
        for name in failed:
            # The operator settled it by hand (e.g. refunded outside the system): count it as undone.
            st = self.s.steps[name]
            st.status = StepStatus.COMPENSATED
            st.reason = f"settled by {command.operator}: {command.reason}"
            if name not in self.s.compensated_steps:
                self.s.compensated_steps.append(name)
        self.s.compensation_queue = [n for n in self.s.compensation_queue if n not in failed]
        self.s.status = WorkflowStatus.COMPENSATING
        self.changed = True
        self._request_next_compensation()

    def _retry_step(self, command: ev.OperatorCommandIssued) -> None:
        if command.step is None or command.step not in self.s.steps:
            self._reject(command, f"retry-step needs a step of {sorted(self.s.steps)}")
            return
        step = self.d.step(command.step)
        st = self.s.steps[step.name]
        if self.s.status is WorkflowStatus.NEEDS_ATTENTION and st.status is StepStatus.COMPENSATION_FAILED:
            self.s.status = WorkflowStatus.COMPENSATING
            if step.name in self.s.compensation_queue:
                self.s.compensation_queue.remove(step.name)
            self.s.compensation_queue.insert(0, step.name)
            self.changed = True
            self._request_next_compensation()
            return
        if self.s.status is WorkflowStatus.RUNNING and st.status is StepStatus.RUNNING:
            self._stop_attempt(step, st, f"superseded by attempt {st.attempt + 1}")
            self._cancel_step_schedules(step, st)
            # A state machine takes the workflow's start event as input (not published again); a consumer
            # gets StepRetryRequested; a person is asked again.
            self._launch(step, st, attempt=st.attempt + 1)
            return
        self._reject(command, f"cannot retry {step.name} ({st.status}) of a {self.s.status} workflow")

    def _reject(self, command: ev.OperatorCommandIssued, why: str) -> None:
        self.notes.append(f"operator command {command.command} rejected: {why}")


def _waits_past_deadline(step: Step) -> bool:
    """A step whose deadline only escalates: waiting for it after a failure elsewhere could last forever
    (nobody may decide it once the workflow stopped running), so it is given up on like a stopped one."""
    return step.callback is not None and step.callback.on_deadline == "escalate"


def _reason(event: DomainEvent) -> str:
    data = event.data
    reason = getattr(data, "reason", None)
    message = getattr(data, "message", None)
    text = str(reason) if reason else event.detail_type
    return f"{text}: {message}" if message else text


def _compensation_request(
    definition: WorkflowDefinition, detail_type: str, subject: dict[str, Any], fields: dict[str, object]
) -> ContractModel:
    """A CompensationRequest: reason and attempts, plus the fields its model shares with the subject.

    A workflow's request model may name subject fields (e.g. the id the undoing service keys its records
    on); they are filled from the subject by name, so the generic controller never knows them.
    """
    model = definition.catalog.event_type(detail_type).model
    if not issubclass(model, ev.CompensationRequest):
        raise TypeError(f"{detail_type} is not a compensation request")
    own = set(ev.CompensationRequest.model_fields)
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if name not in own and alias in subject:
            fields[name] = subject[alias]
    return model.model_validate(fields)


def workflow_id_of(definition: WorkflowDefinition, event: DomainEvent) -> str:
    """The instance id: the start event's ``subject_id`` field, or any later event's correlation id."""
    if event.detail_type == definition.start_event:
        return str(getattr(event.data, definition.subject_id))
    return event.correlation_id


def flow_key(workflow: str, machine: str) -> str:
    """How the controller names a workflow's state machine (the stack maps each key to its ARN)."""
    return f"{workflow}/{machine}"
