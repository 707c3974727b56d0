"""Who does what in the deployed app, read from the declaration and the template while a cloud runs.

The design transformations and the latency model need to know, in the metered counts, which actor is the
front controller, which functions and state machines run which step, and what each workflow's path was;
they read it here, never from a workflow's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflowkit.cloud import LocalCloud

CONTROLLER_SERVICE = "controller"  # the kit's front controller (functions/controller)
SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"


@dataclass(frozen=True)
class StepRole:
    name: str
    pattern: str  # "orchestrated", "choreographed", "human"
    runner: str  # the state machine's or the consumer service's name
    controller_started: bool  # started by the controller (or an event only the controller publishes)
    after: tuple[str, ...]
    required: bool
    callback: bool
    undo_pattern: str | None  # the compensation runner's pattern, if the step has one
    undo_runner: str | None


@dataclass
class Roles:
    steps: list[StepRole]
    functions_by_service: dict[str, list[str]]  # service name -> function actors
    machines: dict[str, str]  # runner name -> machine actor
    controller: list[str]  # function actors
    controller_queues: list[str]  # queue actors
    front_door: list[str]  # function actors serving HTTP routes
    queue_of: dict[str, str] = field(default_factory=dict)  # function actor -> queue actor

    def runner_functions(self, runner: str) -> list[str]:
        return self.functions_by_service.get(runner, [])


def read_roles(cloud: LocalCloud, declaration: Any) -> Roles:
    """``declaration``: the workflow's ``WorkflowDefinition`` (the plug-in's, read while the cloud runs)."""
    assert cloud.app is not None
    by_service: dict[str, list[str]] = {}
    for spec in cloud.app.functions:
        service = spec.environment.get(SERVICE_ENV, spec.name)
        by_service.setdefault(service, []).append(f"function:{spec.name}")
    queue_of = {
        f"function:{m.function_name}": f"queue:{m.queue_arn.rsplit(':', 1)[-1]}" for m in cloud.app.mappings
    }
    controller = by_service.get(CONTROLLER_SERVICE, [])
    machines_deployed = [machine.name for machine in cloud.backend("stepfunctions").state_machines]
    kit_events = _controller_events(declaration)
    steps, machines = [], {}
    for step in declaration.steps:
        undo = step.compensation
        for runner in [step.runner, *([undo.runner] if undo is not None else [])]:
            if runner.pattern.value == "orchestrated":
                named = [m for m in machines_deployed if m.endswith(f"-{runner.name}") or m == runner.name]
                if named:
                    machines[runner.name] = f"machine:{named[0]}"
        started_by = step.started_by
        steps.append(
            StepRole(
                name=step.name,
                pattern=step.runner.pattern.value,
                runner=step.runner.name
                if step.runner.pattern.value == "orchestrated"
                else step.runner.service,
                controller_started=started_by is None or started_by in kit_events,
                after=tuple(declaration.after_of(step)),
                required=step.required,
                callback=step.callback is not None,
                undo_pattern=undo.runner.pattern.value if undo is not None else None,
                undo_runner=(
                    undo.runner.name if undo.runner.pattern.value == "orchestrated" else undo.runner.service
                )
                if undo is not None
                else None,
            )
        )
    return Roles(
        steps=steps,
        functions_by_service=by_service,
        machines=machines,
        controller=controller,
        controller_queues=[queue_of[f] for f in controller if f in queue_of],
        front_door=sorted({f"function:{route.function_name}" for route in cloud.app.routes}),
        queue_of=queue_of,
    )


def _controller_events(declaration: Any) -> set[str]:
    """Events no step emits: the kit's own (the start, the controller's requests), not a step's outcome."""
    outcomes = {s.completed_by for s in declaration.steps} | {s.failed_by for s in declaration.steps}
    return {s.started_by for s in declaration.steps if s.started_by and s.started_by not in outcomes}


def paths(statuses: dict[str, Any]) -> list[tuple[dict[str, int], dict[str, int]]]:
    """Per workflow: (step -> attempts, step -> undo attempts), from the status documents."""
    found = []
    for status in statuses.values():
        steps = status.get("steps") or {}
        attempts = {name: int(s.get("attempt") or 0) for name, s in steps.items()}
        undos = {name: int(s.get("compensationAttempt") or 0) for name, s in steps.items()}
        found.append((attempts, undos))
    return found
