"""What one version of a declaration says: the part each event plays, who must hear it, who sends it.

Read from a ``workflow_core.definition.WorkflowDefinition`` by duck typing: this package runs outside the
app's code and imports it only where it loads the registry (:mod:`workflowkit.docgen.loading`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from workflowkit.docgen.wiring import Endpoint

if TYPE_CHECKING:
    from workflow_core.definition import Runner, Step, WorkflowDefinition

# The front controller's service name (its function's POWERTOOLS_SERVICE_NAME; infra's front_controller).
CONTROLLER_SERVICE = "controller"
ORCHESTRATED = "orchestrated"
HUMAN = "human"
# The kit's lifecycle events for controller-started steps and decisions (workflow_core.lifecycle).
STEP_REQUESTED = "StepRequested"
STEP_DECIDED = "StepDecided"
DECISION_REQUESTED = "DecisionRequested"
DECISION_REMINDER = "DecisionReminder"


@dataclass(frozen=True)
class Party:
    """A participant the declaration names: a service (``functions/<name>/``, its functions'
    ``POWERTOOLS_SERVICE_NAME``) or one workflow's state machine (``statemachines/<name>.asl.json``)."""

    kind: str  # "service" | "state machine"
    name: str
    workflow: str = ""

    @classmethod
    def of(cls, runner: Runner, workflow: str) -> Party:
        if runner.pattern == ORCHESTRATED:
            return cls("state machine", runner.name, workflow)
        return cls("service", runner.name)

    @property
    def label(self) -> str:
        return f"`{self.name}`" if self.kind == "service" else f"state machine `{self.name}`"

    def is_endpoint(self, endpoint: Endpoint) -> bool:
        """Whether the template's ``endpoint`` is this participant. A workflow's state machine is named
        ``<name>`` or ``<anything>-<workflow>-<name>`` (the stack prefixes names per stage)."""
        if self.kind == "service":
            return endpoint.kind == "function" and endpoint.name == self.name
        return endpoint.kind == "state machine" and (
            endpoint.name == self.name or endpoint.name.endswith(f"-{self.workflow}-{self.name}")
        )


CONTROLLER = Party("service", CONTROLLER_SERVICE)


def runners(definition: WorkflowDefinition) -> Iterator[tuple[Step, Runner, bool]]:
    """(step, runner, is the compensation) for every step and compensation, as declared."""
    for step in definition.steps:
        if step.runner.pattern != HUMAN:  # people run no code: a human step has no runner here
            yield step, step.runner, False
        if step.compensation is not None:
            yield step, step.compensation.runner, True


def involved_events(definition: WorkflowDefinition) -> tuple[str, ...]:
    """Every detail-type the version names, as its flow runs, then its other contracts."""
    return tuple(dict.fromkeys((*event_roles(definition), *(e.name for e in definition.events))))


def event_roles(definition: WorkflowDefinition) -> dict[str, list[str]]:
    """detail-type -> the parts it plays in this version, as the flow runs."""
    roles: dict[str, list[str]] = {}

    def plays(detail_type: str, part: str) -> None:
        parts = roles.setdefault(detail_type, [])
        if part not in parts:
            parts.append(part)

    plays(definition.start_event, "starts the workflow")
    plays(definition.started_event, "the controller announces the start")
    for step in definition.steps:
        how = " (the controller starts its state machine)" if step.runner.pattern == ORCHESTRATED else ""
        if step.started_by is not None:
            plays(step.started_by, f"starts `{step.name}`{how}")
        elif step.runner.pattern not in (ORCHESTRATED, HUMAN):
            plays(STEP_REQUESTED, f"the controller starts `{step.name}`")
        if step.callback is not None:
            if step.runner.pattern != "choreographed":
                plays(DECISION_REQUESTED, f"asks `{step.callback.approvers}` to decide `{step.name}`")
            if step.callback.reminder is not None:
                plays(DECISION_REMINDER, f"reminds `{step.callback.approvers}` of `{step.name}`")
            if step.runner.pattern != ORCHESTRATED:
                plays(STEP_DECIDED, f"`{step.callback.approvers}` decided `{step.name}`")
        if step.completed_by:
            plays(step.completed_by, f"`{step.name}` completed")
            plays(step.failed_by, f"`{step.name}` failed")
        if step.compensation is not None:
            plays(step.compensation.request, f"asks to undo `{step.name}`")
            plays(step.compensation.completed_by, f"`{step.name}` undone")
            plays(step.compensation.failed_by, f"undoing `{step.name}` failed")
    for outcome in definition.outcome_events:
        plays(outcome, f"the controller announces the end: {outcome.removeprefix('Workflow').lower()}")
    plays(definition.escalation_event, "the controller escalates to people")
    retried = [s.name for s in definition.steps if s.runner.pattern != ORCHESTRATED]
    if retried:
        plays(definition.retry_event, f"the controller retries {_names(retried)}")
    plays(definition.deadline_event, "a step's or an undo's deadline passed")
    plays(definition.operator_event, "an operator's command (resume, retry a step, cancel)")
    for etype in definition.events:
        if etype.name not in roles:
            plays(etype.name, "a contract of the workflow that no step names")
    return roles


def expected_consumers(definition: WorkflowDefinition) -> dict[str, list[Party]]:
    """detail-type -> who must receive it, as the declaration derives its subscriptions."""
    expected: dict[str, list[Party]] = {}

    def hears(detail_type: str, party: Party) -> None:
        parties = expected.setdefault(detail_type, [])
        if party not in parties:
            parties.append(party)

    for detail_type in definition.controller_inputs():
        hears(detail_type, CONTROLLER)
    for service, detail_types in definition.consumer_subscriptions().items():
        for detail_type in detail_types:
            hears(detail_type, Party("service", service))
    for machine, detail_type in definition.event_triggered_state_machines().items():
        hears(detail_type, Party("state machine", machine, definition.name))
    return expected


def expected_producers(definition: WorkflowDefinition) -> dict[str, list[Party]]:
    """detail-type -> who must be able to put it (an empty list: anyone, as long as someone may)."""
    expected: dict[str, list[Party]] = {}

    def sends(detail_type: str, *parties: Party) -> None:
        known = expected.setdefault(detail_type, [])
        known += [p for p in parties if p not in known]

    sends(definition.start_event)
    sends(definition.deadline_event)
    sends(definition.operator_event)
    for step, runner, undo in runners(definition):
        outcomes = step.compensation if undo and step.compensation else step
        sends(outcomes.completed_by, Party.of(runner, definition.name))
        sends(outcomes.failed_by, Party.of(runner, definition.name))
        if undo and step.compensation is not None:
            sends(step.compensation.request, CONTROLLER)
    for detail_type in (definition.started_event, *definition.outcome_events, definition.escalation_event):
        sends(detail_type, CONTROLLER)
    if any(s.runner.pattern != ORCHESTRATED for s in definition.steps):
        sends(definition.retry_event, CONTROLLER)
    for step in definition.steps:
        if step.started_by is None and step.runner.pattern not in (ORCHESTRATED, HUMAN):
            sends(STEP_REQUESTED, CONTROLLER)
        if step.callback is not None:
            if step.runner.pattern != "choreographed":
                sends(DECISION_REQUESTED, CONTROLLER)
            if step.callback.reminder is not None:
                sends(DECISION_REMINDER, CONTROLLER)
            if step.runner.pattern != ORCHESTRATED:
                sends(STEP_DECIDED)  # the HTTP API's front door, on an approver's call
    return expected


def duration(delta: timedelta) -> str:
    """``15 min``, ``24 h``, ``1 h 30 min``, ``45 s``: hours are the largest unit (SLAs read in hours)."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts) or "0 s"


def _names(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
