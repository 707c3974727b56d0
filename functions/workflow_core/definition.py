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

from workflow_core import lifecycle as lc
from workflow_core.catalog import LIFECYCLE_TYPES, EventCatalog, EventType
from workflow_core.envelope import ContractModel

# Workflow names become parts of resource names (state machines, schedule groups, log groups).
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
# Step names become parts of schedule and execution names, which keep 12 characters of them: longer names
# could make two steps' deadlines one schedule.
_STEP_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,11}$")


class Pattern(StrEnum):
    ORCHESTRATED = "orchestrated"  # a Step Functions state machine, started by the controller or a rule
    CHOREOGRAPHED = "choreographed"  # a Lambda behind its own SQS queue, subscribed to events


@dataclass(frozen=True)
class Runner:
    """What executes a step or a compensation.

    ``service`` is the folder under ``functions/`` whose ``deployment.NEEDS`` the stack reads for it:
    the consumer itself, or the service owning a state machine's task functions and tables.
    """

    pattern: Pattern
    name: str  # the state machine name (statemachines/<name>.asl.json) or the consumer service name
    service: str = ""

    def __post_init__(self) -> None:
        if not self.service:
            object.__setattr__(self, "service", self.name)


def state_machine(name: str, *, service: str | None = None) -> Runner:
    """A Step Functions Standard state machine from ``statemachines/<name>.asl.json``."""
    return Runner(Pattern.ORCHESTRATED, name, service or name)


def consumer(name: str) -> Runner:
    """A queue-fed Lambda: the service ``functions/<name>/``."""
    return Runner(Pattern.CHOREOGRAPHED, name, name)


@dataclass(frozen=True)
class Compensation:
    """The undo of a completed step: the controller publishes ``request`` and waits for an outcome."""

    request: str
    completed_by: str
    failed_by: str
    runner: Runner
    deadline: timedelta


@dataclass(frozen=True)
class Step:
    name: str
    runner: Runner
    started_by: str  # the event whose arrival starts the step
    completed_by: str
    failed_by: str
    deadline: timedelta  # from the moment the step starts
    compensation: Compensation | None = None
    # Earlier steps whose outputs (the data of the event that completed them) this step reads.
    needs: tuple[str, ...] = ()

    @property
    def pattern(self) -> Pattern:
        return self.runner.pattern


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
            unknown = set(step.needs) - set(names[:index])
            if unknown:
                raise ValueError(f"step {step.name!r} needs {sorted(unknown)}, which are not earlier steps")
            # The controller starts a step on an event it receives: the start announcement or an earlier
            # step's completion. Anything else would leave the step pending forever.
            triggers = {self.started_event, *(s.completed_by for s in self.steps[:index])}
            if step.started_by not in triggers:
                raise ValueError(
                    f"step {step.name!r} is started by {step.started_by}; a step starts on "
                    f"{self.started_event} or an earlier step's completion: {sorted(triggers)}"
                )
            if step.compensation is not None:
                self._check_compensation_request(step.name, step.compensation.request)
        for service, announcements in self.listeners.items():
            unheard = set(announcements) - set(lc.ANNOUNCEMENTS)
            if unheard:
                raise ValueError(f"listener {service!r}: {sorted(unheard)} are not workflow announcements")

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
        )

    def consumer_inputs(self, service: str) -> tuple[str, ...]:
        """Every detail-type a choreographed consumer service subscribes to (steps it runs, undos it runs)."""
        inputs: list[str] = []
        for step in self.steps:
            if step.runner == consumer(service):
                inputs.append(step.started_by)
            if step.compensation and step.compensation.runner == consumer(service):
                inputs.append(step.compensation.request)
        return tuple(inputs)

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
            names += [step.started_by, step.completed_by, step.failed_by]
            if step.compensation:
                names += [
                    step.compensation.request,
                    step.compensation.completed_by,
                    step.compensation.failed_by,
                ]
        return tuple(dict.fromkeys(names))
