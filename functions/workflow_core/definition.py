"""The vocabulary for declaring a workflow once.

A :class:`WorkflowDefinition` names its start event (whose data is the workflow's *subject*), its event
contracts and its steps in sequence; each :class:`Step` says which pattern runs it, which service, the
events that start, complete and fail it, its deadline, its compensation and which earlier steps' outputs
it needs. The CDK stack derives rules and targets from it, the controller derives its transitions from
it, the docs and the local cloud's simulator read it. Nothing here imports AWS or names a domain.

A declaration has a version: an instance finishes under the version it started with, new instances
start on the newest deployed one (docs/decisions/0024).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from typing import Literal

from workflow_core import lifecycle as lc
from workflow_core.catalog import LIFECYCLE_TYPES, EventCatalog, EventType
from workflow_core.conditions import Condition
from workflow_core.envelope import ContractModel

# Workflow names become parts of resource names (state machines, schedule groups, log groups).
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
# Step names become parts of schedule and execution names, which keep 12 characters of them: longer names
# could make two steps' deadlines one schedule.
_STEP_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,11}$")


class Pattern(StrEnum):
    ORCHESTRATED = "orchestrated"  # a Step Functions state machine, started by the controller or a rule
    CHOREOGRAPHED = "choreographed"  # a Lambda behind its own SQS queue, subscribed to events
    HUMAN = "human"  # nothing runs it: a person (or an outside system) decides it through a callback


@dataclass(frozen=True)
class Runner:
    """What executes a step or a compensation.

    ``service`` is the folder under ``functions/`` whose ``deployment.NEEDS`` the stack reads for it:
    the consumer itself, or the service owning a state machine's task functions and tables. A human
    runner has none.
    """

    pattern: Pattern
    name: str  # the state machine name (statemachines/<name>.asl.json) or the consumer service name
    service: str = ""

    def __post_init__(self) -> None:
        if not self.service and self.pattern is not Pattern.HUMAN:
            object.__setattr__(self, "service", self.name)


def state_machine(name: str, *, service: str | None = None) -> Runner:
    """A Step Functions Standard state machine from ``statemachines/<name>.asl.json``."""
    return Runner(Pattern.ORCHESTRATED, name, service or name)


def consumer(name: str) -> Runner:
    """A queue-fed Lambda: the service ``functions/<name>/``."""
    return Runner(Pattern.CHOREOGRAPHED, name, name)


def human() -> Runner:
    """A step decided by a person through the callback routes; give it a :class:`Callback`."""
    return Runner(Pattern.HUMAN, "human")


@dataclass(frozen=True)
class Compensation:
    """The undo of a completed step: the controller publishes ``request`` and waits for an outcome.

    ``on_failure`` says what a failed undo does to the others: ``halt`` escalates and stops undoing
    (an operator decides: retry it, or settle it by hand and resume); ``continue`` escalates and goes
    on undoing the other steps, ending NEEDS_ATTENTION with the failed undos listed.
    """

    request: str
    completed_by: str
    failed_by: str
    runner: Runner
    deadline: timedelta
    on_failure: Literal["halt", "continue"] = "halt"


@dataclass(frozen=True)
class Callback:
    """The step is decided from outside: ``POST /workflows/{id}/steps/{step}/complete`` or ``/reject``.

    ``approvers`` names the group allowed to decide: the stack gives it a managed policy granting only
    the callback routes of the steps it decides. A human step's decision is its outcome; a state
    machine's step waits on a task token (``.waitForTaskToken``) that the decision returns; a consumer's
    step receives the decision as a ``StepDecided`` event and publishes its outcome itself.

    ``reminder``: after the step started, announce ``DecisionReminder`` if it is still undecided.
    ``on_deadline``: ``fail`` treats a missed deadline like any step's (compensate); ``escalate``
    escalates to people and keeps waiting for the decision (an SLA breach, not a failure).
    ``details``: see the field.
    """

    approvers: str
    reminder: timedelta | None = None
    on_deadline: Literal["fail", "escalate"] = "fail"
    # The model a completion's ``details`` must satisfy: the front door refuses others (400) before the
    # decision is claimed, so a typo never becomes a decision nobody can correct. None: any small scalars.
    details: type[ContractModel] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Step:
    """One step. It starts either on an event (``started_by``: pure choreography, a consumer subscribed
    to it) or, when ``started_by`` is None, when the controller sees every step in ``after`` completed
    or skipped (a DAG: steps with the same ``after`` run in parallel). A step with a ``when`` condition
    runs only when it holds, otherwise it is recorded as skipped."""

    name: str
    runner: Runner
    deadline: timedelta  # from the moment the step starts
    completed_by: str = ""  # a human step has no outcome events: the decision is its outcome
    failed_by: str = ""
    started_by: str | None = None  # the event whose arrival starts the step
    after: tuple[str, ...] | None = None  # steps that must be done first (derived from started_by if None)
    when: Condition | None = None
    callback: Callback | None = None
    compensation: Compensation | None = None
    # False: the step gates nothing (no step comes after it, it has no undo); its failure or missed
    # deadline is recorded and the workflow goes on (a notification beside the work, say).
    required: bool = True
    # Earlier steps whose outputs (the data of the event that completed them) this step reads.
    needs: tuple[str, ...] = ()

    @property
    def pattern(self) -> Pattern:
        return self.runner.pattern

    @property
    def controller_started(self) -> bool:
        """The controller starts this step (no event of its own starts it)."""
        return self.started_by is None


@dataclass(frozen=True)
class WorkflowDefinition:
    """One version of one workflow.

    ``subject_id`` names the field of the start event's data that identifies an instance (the workflow
    id, also every event's correlation id). ``events`` are the workflow's own contracts: the start event,
    what its steps and compensations report, the compensation requests. ``listeners`` are services that
    only hear the workflow's announcements (``workflow_core.lifecycle.ANNOUNCEMENTS``), e.g. to tell
    people about outcomes.
    """

    name: str
    version: int
    start_event: str  # the external event that creates a workflow; its data is the subject
    subject_id: str  # the start event model's field naming the instance (Python name)
    steps: tuple[Step, ...]
    events: tuple[EventType, ...] = field(default=(), hash=False)
    listeners: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    description: str = ""

    # The kit's lifecycle events, the same for every workflow (rules tell workflows apart by name).
    started_event = lc.WORKFLOW_STARTED
    outcome_events = lc.OUTCOME_EVENTS
    escalation_event = lc.WORKFLOW_ESCALATED
    retry_event = lc.STEP_RETRY_REQUESTED
    deadline_event = lc.STEP_DEADLINE_REACHED
    operator_event = lc.OPERATOR_COMMAND_ISSUED

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"workflow name {self.name!r} must match {_NAME.pattern}")
        if self.version < 1:
            raise ValueError(f"workflow {self.name!r}: version must be >= 1, not {self.version}")
        if not self.steps:
            raise ValueError(f"workflow {self.name!r} has no steps")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"workflow {self.name!r} has duplicate step names: {names}")
        for name in names:
            if not _STEP_NAME.match(name):
                raise ValueError(
                    f"workflow {self.name!r}: step name {name!r} must match {_STEP_NAME.pattern}"
                )
        for detail_type in self.all_event_types():
            self.catalog.event_type(detail_type)  # every event the definition names must be declared
        if self.start_event in {t.name for t in LIFECYCLE_TYPES}:
            raise ValueError(f"workflow {self.name!r}: {self.start_event} is the kit's, not a start event")
        if self.subject_id not in self.subject_model.model_fields:
            raise ValueError(
                f"workflow {self.name!r}: {self.start_event} has no field {self.subject_id!r} (subject_id)"
            )
        for index, step in enumerate(self.steps):
            self._check_step(index, step)
        for service, announcements in self.listeners.items():
            unheard = set(announcements) - set(lc.ANNOUNCEMENTS)
            if unheard:
                raise ValueError(f"listener {service!r}: {sorted(unheard)} are not workflow announcements")

    def _check_step(self, index: int, step: Step) -> None:
        earlier = {s.name: s for s in self.steps[:index]}
        where = f"workflow {self.name!r}, step {step.name!r}"
        if step.pattern is Pattern.HUMAN:
            if step.callback is None:
                raise ValueError(f"{where}: a human step needs a Callback (who decides it)")
            if step.completed_by or step.failed_by or step.started_by:
                raise ValueError(f"{where}: a human step's outcome is its decision; it has no events")
        elif not step.completed_by or not step.failed_by:
            raise ValueError(f"{where}: completed_by and failed_by are required")
        if step.callback and step.callback.reminder is not None and step.callback.reminder >= step.deadline:
            raise ValueError(f"{where}: the reminder must come before the deadline")
        if not step.required and (step.compensation is not None or step.callback is not None):
            raise ValueError(f"{where}: a step that is not required has no undo and takes no decision")
        gating = [name for name in self.after_of(step) if name in earlier and not earlier[name].required]
        if gating:
            raise ValueError(f"{where}: comes after {gating}, which are not required (they gate nothing)")
        unknown = [name for name in step.after or () if name not in earlier]
        if unknown:
            raise ValueError(f"{where}: after {unknown}, which are not earlier steps")
        if step.started_by is not None:
            # An event starts it: the start announcement or an earlier step's completion. Anything else
            # would leave the step pending forever; so would the completion of a step that may be skipped.
            triggers: dict[str, Step | None] = {self.started_event: None}
            triggers.update({s.completed_by: s for s in earlier.values() if s.completed_by})
            if step.started_by not in triggers:
                raise ValueError(
                    f"{where}: started by {step.started_by}; a step starts on {self.started_event} or an "
                    f"earlier step's completion: {sorted(triggers)}"
                )
            source = triggers[step.started_by]
            if source is not None and source.when is not None:
                raise ValueError(
                    f"{where}: started by {step.started_by}, but {source.name!r} may be skipped; "
                    f"declare after=({source.name!r},) instead of started_by"
                )
            derived = () if source is None else (source.name,)
            if step.after is not None and tuple(step.after) != derived:
                raise ValueError(f"{where}: started_by {step.started_by} means after={derived}")
            if step.when is not None:
                raise ValueError(f"{where}: a conditional step is started by the controller: use after=")
        elif step.after is None:
            raise ValueError(f"{where}: declare started_by (an event) or after (steps to wait on)")
        ancestors = self.ancestors(step.name, upto=index)
        outside = [name for name in step.needs if name not in ancestors]
        if outside:
            raise ValueError(f"{where}: needs {outside}, which are not steps it comes after")
        skippable = [name for name in step.needs if self.steps[self.step_index(name)].when is not None]
        if skippable:
            raise ValueError(f"{where}: needs {skippable}, which may be skipped (no output then)")
        if step.when is not None:
            self._check_condition(where, step.when, ancestors)
        if step.compensation is not None:
            self._check_compensation_request(step.name, step.compensation.request)

    def _check_condition(self, where: str, condition: Condition, ancestors: tuple[str, ...]) -> None:
        subject_fields = {info.alias or name for name, info in self.subject_model.model_fields.items()}
        for path in condition.paths():
            parts = path.split(".")
            if parts[0] == "subject":
                if parts[1] not in subject_fields:
                    raise ValueError(f"{where}: condition reads {path}, not a field of {self.start_event}")
                continue
            step_name, field_name = parts[1], parts[2]
            if step_name not in ancestors:
                raise ValueError(f"{where}: condition reads {path}; it does not come after {step_name!r}")
            source = self.step(step_name)
            if source.pattern is Pattern.HUMAN:
                continue  # the decision record: decision, decidedBy, reason, details
            model = self.catalog.event_type(source.completed_by).model
            if field_name not in {info.alias or name for name, info in model.model_fields.items()}:
                raise ValueError(f"{where}: condition reads {path}, not a field of {source.completed_by}")

    def after_of(self, step: Step) -> tuple[str, ...]:
        """The steps ``step`` waits on: declared, or the step whose completion is its ``started_by``."""
        if step.after is not None:
            return tuple(step.after)
        if step.started_by is None or step.started_by == self.started_event:
            return ()
        return tuple(s.name for s in self.steps if s.completed_by == step.started_by)[:1]

    def ancestors(self, name: str, *, upto: int | None = None) -> tuple[str, ...]:
        """Every step ``name`` transitively comes after, as declared."""
        steps = self.steps if upto is None else self.steps[: upto + 1]
        by_name = {s.name: s for s in steps}
        seen: set[str] = set()
        pending = list(self.after_of(by_name[name]))
        while pending:
            current = pending.pop()
            if current in seen or current not in by_name:
                continue
            seen.add(current)
            pending.extend(self.after_of(by_name[current]))
        return tuple(s.name for s in steps if s.name in seen)

    def _check_compensation_request(self, step: str, request: str) -> None:
        """The controller builds every undo request itself: its reason and attempts, and the fields it
        shares with the subject (filled by name). A required field it cannot fill would fail every undo."""
        model = self.catalog.event_type(request).model
        if not issubclass(model, lc.CompensationRequest):
            raise ValueError(f"{request} (undo of {step!r}) must be a lifecycle.CompensationRequest")
        own = set(lc.CompensationRequest.model_fields)
        subject = set(self.subject_model.model_fields)
        unfillable = [
            name
            for name, info in model.model_fields.items()
            if name not in own and name not in subject and info.is_required()
        ]
        if unfillable:
            raise ValueError(
                f"{request} (undo of {step!r}) requires {unfillable}, which are not fields of the subject "
                f"({self.start_event}): the controller could not build it"
            )

    @cached_property
    def catalog(self) -> EventCatalog:
        """The kit's lifecycle events and this workflow's own contracts."""
        return EventCatalog((*LIFECYCLE_TYPES, *self.events))

    @property
    def subject_model(self) -> type[ContractModel]:
        """The subject's type: the start event's model at its current version."""
        return self.catalog.event_type(self.start_event).model

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @property
    def label(self) -> str:
        """``<name>-v<version>``: unique per workflow version, usable in resource names."""
        return f"{self.name}-v{self.version}"

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"workflow {self.name!r} has no step {name!r}")

    def step_index(self, name: str) -> int:
        return [s.name for s in self.steps].index(name)

    def compensable_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.compensation)

    def step_outcome_events(self) -> dict[str, tuple[Step, str]]:
        """detail-type -> (step, "completed" | "failed") for every step's outcome."""
        outcomes: dict[str, tuple[Step, str]] = {}
        for step in self.steps:
            if step.pattern is not Pattern.HUMAN:
                outcomes[step.completed_by] = (step, "completed")
                outcomes[step.failed_by] = (step, "failed")
        return outcomes

    def compensation_outcome_events(self) -> dict[str, tuple[Step, str]]:
        outcomes: dict[str, tuple[Step, str]] = {}
        for step in self.compensable_steps():
            assert step.compensation is not None
            outcomes[step.compensation.completed_by] = (step, "compensated")
            outcomes[step.compensation.failed_by] = (step, "compensation_failed")
        return outcomes

    def controller_inputs(self) -> tuple[str, ...]:
        """Every detail-type the controller consumes."""
        return (
            self.start_event,
            *self.step_outcome_events(),
            *self.compensation_outcome_events(),
            self.deadline_event,
            self.operator_event,
            *((lc.STEP_DECIDED,) if self.decided_steps() else ()),
        )

    def callback_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.callback is not None)

    def decided_steps(self, service: str | None = None) -> tuple[str, ...]:
        """Callback steps whose decision travels as ``StepDecided``: human steps (to the controller) and
        consumers' steps (to the consumer, and to the controller, which records it). With ``service``:
        only that consumer's. A state machine's decision returns its task token instead."""
        return tuple(
            s.name
            for s in self.callback_steps()
            if (s.pattern is Pattern.HUMAN and service is None)
            or (s.pattern is Pattern.CHOREOGRAPHED and (service is None or s.runner == consumer(service)))
        )

    def requested_steps(self, service: str) -> tuple[str, ...]:
        """Names of the steps of consumer ``service`` that the controller starts with ``StepRequested``."""
        return tuple(s.name for s in self.steps if s.runner == consumer(service) and s.controller_started)

    def consumer_inputs(self, service: str) -> tuple[str, ...]:
        """Every detail-type a choreographed consumer service subscribes to (steps it runs, undos it runs)."""
        inputs: list[str] = []
        for step in self.steps:
            if step.runner == consumer(service):
                inputs.append(step.started_by or lc.STEP_REQUESTED)
                if step.callback is not None:
                    inputs.append(lc.STEP_DECIDED)
            if step.compensation and step.compensation.runner == consumer(service):
                inputs.append(step.compensation.request)
        return tuple(dict.fromkeys(inputs))

    def retried_steps(self, service: str) -> tuple[str, ...]:
        """Names of the steps a consumer service runs, which ``retry_event`` may target."""
        return tuple(s.name for s in self.steps if s.runner == consumer(service))

    def consumer_subscriptions(self) -> dict[str, tuple[str, ...]]:
        """service -> detail-types its queue receives, for every choreographed consumer incl. the notifier.

        Services that run steps also receive ``retry_event`` (filtered on ``data.step`` by their rule).
        """
        subscriptions = {
            service: (*self.consumer_inputs(service), self.retry_event)
            for service in self.consumer_services()
        }
        for service, announcements in self.listeners.items():
            subscriptions[service] = tuple(dict.fromkeys((*subscriptions.get(service, ()), *announcements)))
        return subscriptions

    def consumer_services(self) -> tuple[str, ...]:
        services: list[str] = []
        for step in self.steps:
            runners = [step.runner] + ([step.compensation.runner] if step.compensation else [])
            for runner in runners:
                if runner.pattern is Pattern.CHOREOGRAPHED and runner.name not in services:
                    services.append(runner.name)
        return tuple(services)

    def state_machines(self) -> tuple[str, ...]:
        machines: list[str] = []
        for step in self.steps:
            runners = [step.runner] + ([step.compensation.runner] if step.compensation else [])
            for runner in runners:
                if runner.pattern is Pattern.ORCHESTRATED and runner.name not in machines:
                    machines.append(runner.name)
        return tuple(machines)

    def event_triggered_state_machines(self) -> dict[str, str]:
        """state machine name -> detail-type of the rule that starts it (compensations run from rules)."""
        triggered: dict[str, str] = {}
        for step in self.compensable_steps():
            assert step.compensation is not None
            if step.compensation.runner.pattern is Pattern.ORCHESTRATED:
                triggered[step.compensation.runner.name] = step.compensation.request
        return triggered

    def all_event_types(self) -> tuple[str, ...]:
        names = [
            self.start_event,
            self.started_event,
            *self.outcome_events,
            self.escalation_event,
            self.retry_event,
            self.deadline_event,
            self.operator_event,
            *(a for announcements in self.listeners.values() for a in announcements),
        ]
        for step in self.steps:
            names += [name for name in (step.started_by, step.completed_by, step.failed_by) if name]
            if step.controller_started and step.pattern is Pattern.CHOREOGRAPHED:
                names.append(lc.STEP_REQUESTED)
            if step.callback is not None:
                if step.pattern is not Pattern.ORCHESTRATED:
                    names.append(lc.STEP_DECIDED)
                names += [lc.DECISION_REQUESTED, lc.DECISION_REMINDER]
            if step.compensation:
                names += [
                    step.compensation.request,
                    step.compensation.completed_by,
                    step.compensation.failed_by,
                ]
        return tuple(dict.fromkeys(names))
