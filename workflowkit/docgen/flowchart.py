"""One version of a workflow as a Mermaid flowchart.

The start event reaches the controller; each step is a node naming its pattern (the state machine for an
orchestrated step, the service for a choreographed one) and its deadline, reached by the event that
starts it (a state machine is started by the controller on that event) and reporting its outcomes to the
controller. Compensations are dashed: the controller's request, with the undo's deadline, and the undo's
outcomes. Deadlines and operators' commands reach the controller; the controller announces the
workflow's start and end, and listeners hear what they subscribed to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from workflowkit.docgen.declared import HUMAN, ORCHESTRATED, STEP_REQUESTED, Party, duration

if TYPE_CHECKING:
    from workflow_core.definition import Runner, Step, WorkflowDefinition

START = "start"
CONTROLLER = "controller"
DEADLINES = "deadlines"
OPERATORS = "operators"
ANNOUNCEMENTS = "announcements"


def flowchart(definition: WorkflowDefinition, *, machine_name: Callable[[Party], str | None]) -> str:
    """The Mermaid source (without the code fence). ``machine_name`` names a state machine as deployed
    (None: not deployed)."""
    d = definition
    nodes: list[str] = []
    edges: list[str] = []
    sender: dict[str, str] = {}  # detail-type -> the node that sends it

    def runs_on(runner: Runner) -> str:
        if runner.pattern == HUMAN:
            return "human: decided through the callback routes"
        if runner.pattern == ORCHESTRATED:
            deployed = machine_name(Party.of(runner, d.name))
            return f"orchestrated: state machine {deployed or f'{runner.name} (not in the template)'}"
        return f"choreographed: service {runner.name}"

    def shaped(node: str, runner: Runner, *lines: str) -> str:
        label = "<br/>".join(lines)
        if runner.pattern == HUMAN:
            return f'{node}[/"{label}"/]'
        return f'{node}[["{label}"]]' if runner.pattern == ORCHESTRATED else f'{node}["{label}"]'

    source = d.catalog.source_of(d.start_event)
    nodes.append(f'{START}(["{d.start_event}<br/>from {source}"])')
    nodes.append(f'{CONTROLLER}{{{{"controller"}}}}')
    sender[d.start_event] = START
    for detail_type in (d.started_event, *d.outcome_events, d.escalation_event, d.retry_event):
        sender[detail_type] = CONTROLLER
    for index, step in enumerate(d.steps, start=1):
        node = _id("step", step.name)
        nodes.append(shaped(node, step.runner, f"step {index}: {step.name}", *_step_lines(step, runs_on)))
        if step.completed_by:
            sender.setdefault(step.completed_by, node)
            sender.setdefault(step.failed_by, node)
        if step.compensation is not None:
            undo = _id("undo", step.name)
            nodes.append(
                shaped(undo, step.compensation.runner, f"undo {step.name}", runs_on(step.compensation.runner))
            )
            sender.setdefault(step.compensation.request, CONTROLLER)
            sender.setdefault(step.compensation.completed_by, undo)
            sender.setdefault(step.compensation.failed_by, undo)

    for step in d.steps:
        _step_edges(d, step, nodes, edges, sender)
    for step in reversed(d.steps):
        if step.compensation is not None:
            undo = _id("undo", step.name)
            comp = step.compensation
            edges.append(
                _edge(CONTROLLER, f"{comp.request}, deadline {duration(comp.deadline)}", undo, dashed=True)
            )
            edges.append(_edge(undo, f"{comp.completed_by} / {comp.failed_by}", CONTROLLER, dashed=True))

    nodes.append(f'{DEADLINES}(["deadline schedules"])')
    nodes.append(f'{OPERATORS}(["operators"])')
    edges.append(_edge(DEADLINES, d.deadline_event, CONTROLLER))
    edges.append(_edge(OPERATORS, d.operator_event, CONTROLLER))
    announced = (d.started_event, *d.outcome_events, d.escalation_event)
    nodes.append(f'{ANNOUNCEMENTS}(["{"<br/>".join(announced)}"])')
    edges.append(_edge(CONTROLLER, "announces", ANNOUNCEMENTS))
    for service, heard in sorted(d.listeners.items()):
        listener = _id("listener", service)
        nodes.append(f'{listener}["listener: service {service}"]')
        edges.append(_edge(ANNOUNCEMENTS, " / ".join(heard), listener))
    return "\n".join(["flowchart TD", *(f"    {line}" for line in (*nodes, *edges))])


def _step_edges(
    d: WorkflowDefinition, step: Step, nodes: list[str], edges: list[str], sender: dict[str, str]
) -> None:
    """What starts ``step``, who decides it, where its outcome goes."""
    node = _id("step", step.name)
    after = d.after_of(step)
    waits = f"when {' + '.join(after)} done" if after else f"on {d.started_event}"
    if step.callback is not None:
        approvers = _id("approvers", step.callback.approvers)
        if not any(line.startswith(f"{approvers}(") for line in nodes):
            routes = "POST /workflows/id/steps/step/complete or reject"
            nodes.append(f'{approvers}(["approvers: {step.callback.approvers}<br/>{routes}"])')
        decision = "task token answered" if step.runner.pattern == ORCHESTRATED else "StepDecided"
        edges.append(_edge(approvers, f"decide {step.name}: {decision}", node))
    if step.runner.pattern == HUMAN:
        edges.append(_edge(CONTROLLER, f"DecisionRequested {waits}", node))
        edges.append(_edge(node, "the decision", CONTROLLER))
        return
    if step.runner.pattern == ORCHESTRATED:
        edges.append(_edge(CONTROLLER, f"StartExecution {waits}", node))
    elif step.started_by is None:
        edges.append(_edge(CONTROLLER, f"{STEP_REQUESTED} {waits}", node))
    else:
        origin = sender.get(step.started_by)
        if origin is None:
            origin = _id("event", step.started_by)
            nodes.append(f'{origin}(["{step.started_by}"])')
        edges.append(_edge(origin, step.started_by, node))
    edges.append(_edge(node, f"{step.completed_by} / {step.failed_by}", CONTROLLER))


def _step_lines(step: Step, runs_on: Callable[[Runner], str]) -> list[str]:
    lines = [runs_on(step.runner), f"deadline {duration(step.deadline)}"]
    if step.when is not None:
        lines.append(f"only if {step.when.describe()}".replace('"', "'"))
    if step.callback is not None:
        callback = step.callback
        if callback.reminder is not None:
            lines.append(f"reminder after {duration(callback.reminder)}")
        lines.append(
            "past the deadline: escalate, keep waiting" if callback.on_deadline == "escalate" else ""
        )
    if not step.required:
        lines.append("gates nothing: its failure is recorded only")
    return [line for line in lines if line]


def _id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def _edge(origin: str, label: str, target: str, *, dashed: bool = False) -> str:
    arrow = "-.->" if dashed else "-->"
    return f'{origin} {arrow}|"{label}"| {target}'
