"""The vocabulary for declaring a workflow once.

A :class:`WorkflowDefinition` names its steps in order; each :class:`Step` says which pattern runs it,
which service, the events that start, complete and fail it, its deadline and its compensation. The CDK
stack derives rules and targets from it, the controller derives its transitions from it, the tests and
the local cloud read it. Nothing here imports AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from workflow_core.catalog import event_type


class Pattern(StrEnum):
    ORCHESTRATED = "orchestrated"  # a Step Functions state machine, started by the controller or a rule
    CHOREOGRAPHED = "choreographed"  # a Lambda behind its own SQS queue, subscribed to events


@dataclass(frozen=True)
class Runner:
    """What executes a step or a compensation."""

    pattern: Pattern
    name: str  # the state machine name (statemachines/<name>.asl.json) or the consumer service name


def state_machine(name: str) -> Runner:
    return Runner(Pattern.ORCHESTRATED, name)


def consumer(name: str) -> Runner:
    return Runner(Pattern.CHOREOGRAPHED, name)


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

    @property
    def pattern(self) -> Pattern:
        return self.runner.pattern


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    start_event: str  # the external event that creates a workflow
    started_event: str  # what the controller publishes once it has recorded the workflow
    steps: tuple[Step, ...]
    outcome_events: tuple[str, ...]  # the controller's terminal announcements
    escalation_event: str
    retry_event: str
    deadline_event: str
    operator_event: str
    notifier: str = "notification"  # the consumer service that tells the customer about outcomes
    notify_on: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"workflow {self.name!r} has duplicate step names: {names}")
        for detail_type in self.all_event_types():
            event_type(detail_type)  # every event the definition names must be in the catalog

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
        if self.notify_on:
            subscriptions[self.notifier] = self.notify_on
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
            *self.notify_on,
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
