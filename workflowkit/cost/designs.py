"""The same workflow in four designs: one measured, three modelled from the measured counts.

- ``hybrid`` (as shipped, MEASURED): the metered run itself.
- ``orchestrated`` (MODELLED): one Standard state machine per workflow calls every service. From the
  measured counts: the controller (its invocations, table writes, queue, deadline schedules) and every event
  and queue between steps are removed; each consumer is invoked by a Task state instead of its queue (same
  invocations, compute and table work, no outcome event); the step machines' own states are kept (inlined);
  the new machine's transitions are counted per workflow from its path: Start + End, per step attempt of a
  consumer or a person a Task and a Choice (2), per state machine step a Choice (1, its states are already
  counted), per undo the same; each new transition logs the measured history events per transition, at the
  measured bytes per event.
- ``choreographed`` (MODELLED): no controller. Its invocations, table writes, queue, schedules and the events
  it published are removed (nothing enforces a deadline or escalates any more: a functional loss, not a
  saving); every state machine becomes event-driven services: its transitions and execution logs go, and each
  of its task functions becomes a queue-fed consumer that publishes its outcome (one event, one queue message,
  one PutEvents call per invocation). Undo requests the controller published are replaced by the services
  consuming the failure events directly (the same queue messages).
- ``express`` (MODELLED): as shipped, with every orchestrated step's machine that waits for no person on
  Step Functions Express: its transitions are replaced by one request per execution and its duration (from
  the latency model's p50 of its states, rounded up to 100 ms) x 64 MB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from workflowkit.cost.bill import EXPRESS_MEMORY_MB, function_bills
from workflowkit.cost.prices import Hop
from workflowkit.cost.roles import Roles, paths
from workflowkit.cost.usage import Usage

DESIGNS = ("hybrid", "orchestrated", "choreographed", "express")
MEASURED = {
    "hybrid": "measured",
    "orchestrated": "modelled",
    "choreographed": "modelled",
    "express": "modelled",
}
TITLES = {
    "hybrid": "as shipped (hybrid)",
    "orchestrated": "all-orchestrated",
    "choreographed": "all-choreographed",
    "express": "orchestrated steps on Express",
}
ORCHESTRATOR = "machine:one-orchestrator"


def model_designs(
    usage: Usage, roles: Roles, statuses: dict[str, Any], hops: Mapping[str, Hop]
) -> dict[str, Usage]:
    return {
        "hybrid": usage,
        "orchestrated": orchestrated(usage, roles, statuses),
        "choreographed": choreographed(usage, roles),
        "express": express(usage, roles, hops),
    }


def _drop_controller(usage: Usage, roles: Roles) -> None:
    for actor in [*roles.controller, *roles.controller_queues]:
        usage.drop_actor(actor)
    usage.counts[("scheduler", "scheduler", "invocations")] = 0.0


def _published_by(usage: Usage, actors: list[str]) -> float:
    return sum(usage.counts.get((actor, "events", "entries"), 0.0) for actor in actors)


def orchestrator_transitions(roles: Roles, statuses: dict[str, Any]) -> float:
    """The one machine's own transitions over the sample's workflows (see the module)."""
    pattern = {step.name: step.pattern for step in roles.steps}
    undo = {step.name: step.undo_pattern for step in roles.steps}
    total = 0.0
    for attempts, undos in paths(statuses):
        total += 1  # its end: a Succeed or Fail state (a machine's start enters its first step's state)
        for name, tries in attempts.items():
            total += tries * (1 if pattern.get(name) == "orchestrated" else 2)
        for name, tries in undos.items():
            total += tries * (1 if undo.get(name) == "orchestrated" else 2)
    return total


def orchestrated(usage: Usage, roles: Roles, statuses: dict[str, Any]) -> Usage:
    modelled = usage.copy()
    counts = modelled.counts
    events_before = modelled.total("events", "published")
    history_events = modelled.total("stepfunctions", "history_events")
    transitions = modelled.total("stepfunctions", "transitions")
    machine_log_bytes = sum(modelled.counts.get((m, "logs", "bytes"), 0.0) for m in roles.machines.values())
    _drop_controller(modelled, roles)
    consumers = {f for f, queue in roles.queue_of.items() if f not in roles.controller}
    for function in consumers:
        messages = counts.pop((function, "sqs", "messages"), 0.0)
        counts[(function, "lambda", "invocations")] = messages  # a Task invokes it once per message it had
        counts.pop((roles.queue_of[function], "sqs", "sends"), None)
        counts.pop((roles.queue_of[function], "sqs", "pollers"), None)
    for actor, service, metric in list(counts):
        if service == "lambda" and metric == "waited:events:PutEvents" and actor not in roles.front_door:
            del counts[(actor, service, metric)]  # an outcome is the task's answer, not an event
        if service == "events" and actor not in roles.front_door:
            del counts[(actor, service, metric)]
    # Only the start remains an event on the bus (the front door's); the machine is started by a rule.
    counts[("bus", "events", "published")] = min(events_before, _published_by(modelled, roles.front_door))
    added = orchestrator_transitions(roles, statuses)
    counts[(ORCHESTRATOR, "stepfunctions", "transitions")] = added
    counts[(ORCHESTRATOR, "stepfunctions", "executions")] = modelled.workflows
    per_transition = history_events / transitions if transitions else 3.0
    per_event = machine_log_bytes / history_events if history_events else 0.0
    counts[(ORCHESTRATOR, "stepfunctions", "history_events")] = added * per_transition
    counts[(ORCHESTRATOR, "logs", "bytes")] = added * per_transition * per_event
    return modelled


def choreographed(usage: Usage, roles: Roles) -> Usage:
    modelled = usage.copy()
    counts = modelled.counts
    controller_events = _published_by(modelled, roles.controller)
    _drop_controller(modelled, roles)
    counts[("bus", "events", "published")] -= controller_events
    task_functions = _task_functions(usage, roles)
    for machine in roles.machines.values():
        counts[("bus", "events", "published")] -= counts.get((machine, "events", "entries"), 0.0)
        for metric in ("transitions", "executions", "history_events"):
            counts.pop((machine, "stepfunctions", metric), None)
        for key in [k for k in counts if k[0] == machine and k[1] in ("logs", "events")]:
            del counts[key]
    for function in task_functions:
        invoked = counts.get((function, "lambda", "invocations"), 0.0)
        queue = f"queue:{function.removeprefix('function:')}-consumer"
        counts[(function, "sqs", "messages")] = invoked
        counts[(queue, "sqs", "sends")] = invoked
        counts[(queue, "sqs", "pollers")] = 1
        counts[(function, "events", "entries")] += invoked
        counts[(function, "events", "chunks")] += invoked
        counts[(function, "lambda", "waited:events:PutEvents")] += invoked
        counts[("bus", "events", "published")] += invoked
    return modelled


def machine_tasks(usage: Usage, machine: str) -> dict[str, float]:
    """Function actor -> task attempts the machine's executions made (from their histories)."""
    return {
        what.removeprefix("task:"): n
        for (who, service, what), n in usage.counts.items()
        if who == machine and service == "lambda" and what.startswith("task:")
    }


def _task_functions(usage: Usage, roles: Roles) -> list[str]:
    """Functions the state machines invoke as tasks."""
    found: list[str] = []
    for machine in roles.machines.values():
        found.extend(f for f in machine_tasks(usage, machine) if f not in found)
    return found


def express(usage: Usage, roles: Roles, hops: Mapping[str, Hop]) -> Usage:
    modelled = usage.copy()
    counts = modelled.counts
    bills = function_bills(usage, hops)
    for step in roles.steps:
        machine = roles.machines.get(step.runner) if step.pattern == "orchestrated" else None
        if machine is None or step.callback:
            continue  # Express cannot wait for a task token
        executions = counts.pop((machine, "stepfunctions", "executions"), 0.0)
        transitions = counts.pop((machine, "stepfunctions", "transitions"), 0.0)
        if not executions:
            continue
        attempts = machine_tasks(usage, machine)
        billed = {
            f: bills[f.removeprefix("function:")].billed_ms
            for f in attempts
            if f.removeprefix("function:") in bills
        }
        task_ms = sum(n * billed.get(f, 0) for f, n in attempts.items()) / executions
        task_count = sum(attempts.values()) / executions
        calls = sum(
            n for (who, svc, what), n in counts.items() if who == machine and what.startswith("call:")
        )
        per_execution_ms = (
            task_count * hops["stepfunctions_express_task"].p50
            + task_ms
            + max(0.0, transitions / executions - task_count) * hops["stepfunctions_other_state"].p50
            + calls / executions * hops["api_call"].p50
        )
        billed_seconds = math.ceil(per_execution_ms / 100) / 10
        counts[(machine, "stepfunctions", "express_executions")] = executions
        counts[(machine, "stepfunctions", "express_states")] = transitions  # the same states, not billed
        counts[(machine, "stepfunctions", "express_gb_seconds")] = (
            executions * billed_seconds * EXPRESS_MEMORY_MB / 1024
        )
        counts[(machine, "stepfunctions", "express_ms_per_execution")] = per_execution_ms
    return modelled
