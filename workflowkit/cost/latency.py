"""End-to-end latency of a happy-path workflow per design, from its hops and published per-hop latencies.

The path: the HTTP request and the front door, then the declared steps on the longest chain of ``after``
(steps beside it run in parallel and are not waited for), each reached the way its design reaches it (an
EventBridge delivery to a queue and the queue's event source mapping, the controller's reaction, a Step
Functions task), each function's time its compute (measured locally, scaled to its memory) plus the calls it
waits on, as counted per invocation. A person's decision is a wait, not a hop, and is left out.

Each hop is a lognormal through its published p50 and p99 (``workflowkit/cost/latencies.json``); the path's
p50 and p99 are those of the sum over ``SAMPLES`` seeded draws (a Monte Carlo, not a sum of p99s).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from workflowkit.cost.bill import LAMBDA_FULL_VCPU_MB
from workflowkit.cost.designs import machine_tasks
from workflowkit.cost.prices import Hop
from workflowkit.cost.roles import Roles, StepRole
from workflowkit.cost.usage import Usage

SAMPLES = 20_000
_Z99 = 2.326  # the standard normal's 99th percentile


@dataclass
class Path:
    hops: list[str | tuple[str, float]] = field(default_factory=list)  # hop names, or ("compute", ms)
    counts: dict[str, float] = field(default_factory=dict)

    def add(self, hop: str, times: float = 1.0) -> None:
        whole = int(times)
        self.hops.extend([hop] * whole)
        if times - whole > 1e-9:
            self.hops.append((hop, times - whole))  # a fractional hop: taken with that probability
        self.counts[hop] = self.counts.get(hop, 0.0) + times


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    hops: dict[str, float]


def function_hops(path: Path, usage: Usage, actor: str) -> None:
    mine = usage.of(actor)
    invocations = mine.get(("sqs", "messages")) or mine.get(("lambda", "invocations"), 0.0)
    if invocations <= 0:
        return
    memory = usage.memory_mb.get(actor.removeprefix("function:"), 128)
    compute = mine.get(("lambda", "compute_ms"), 0.0) / invocations * max(1.0, LAMBDA_FULL_VCPU_MB / memory)
    path.hops.append(("compute", compute))
    path.counts["lambda invocations"] = path.counts.get("lambda invocations", 0.0) + 1
    for (service, what), calls in mine.items():
        if service == "lambda" and what.startswith("waited:"):
            kind = "dynamodb_call" if what.startswith("waited:dynamodb:") else "api_call"
            weight = 2 if "Transact" in what else 1
            path.add(kind, calls * weight / invocations)


def critical_chain(roles: Roles) -> list[StepRole]:
    """The longest chain of ``after`` among the required steps (declaration sequence breaks ties)."""
    steps = {s.name: s for s in roles.steps if s.required}
    best: dict[str, list[StepRole]] = {}
    for step in roles.steps:  # declared so that the steps in ``after`` come first
        if step.name not in steps:
            continue
        longest: list[StepRole] = []
        for before in step.after:
            if len(best.get(before, [])) > len(longest):
                longest = best[before]
        best[step.name] = [*longest, step]
    return max(best.values(), key=len, default=[])


def _machine(path: Path, usage: Usage, machine: str, *, task_hop: str) -> None:
    executions = usage.counts.get((machine, "stepfunctions", "executions"), 0.0) or usage.counts.get(
        (machine, "stepfunctions", "express_executions"), 0.0
    )
    if not executions:
        return
    tasks = machine_tasks(usage, machine)
    for function, attempts in tasks.items():
        for _ in range(round(attempts / executions)):
            path.add(task_hop)
            function_hops(path, usage, function)
    transitions = usage.counts.get((machine, "stepfunctions", "transitions"), 0.0) or usage.counts.get(
        (machine, "stepfunctions", "express_states"), 0.0
    )
    path.add(
        "stepfunctions_other_state", max(0.0, transitions / executions - sum(tasks.values()) / executions)
    )
    for (who, service, what), calls in usage.counts.items():
        if who == machine and what.startswith("call:"):
            path.add("dynamodb_call" if service == "dynamodb" else "api_call", calls / executions)


def happy_path(design: str, usage: Usage, roles: Roles) -> Path:
    path = Path()
    path.add("apigateway_http")
    for actor in roles.front_door:
        function_hops(path, usage, actor)
    controller = roles.controller[0] if roles.controller else None

    def controller_reacts() -> None:
        if controller is not None and design in ("hybrid", "express"):
            path.add("eventbridge_delivery")
            path.add("sqs_to_lambda")
            function_hops(path, usage, controller)

    chain = critical_chain(roles)
    for position, step in enumerate(chain):
        if step.controller_started or position == 0:
            controller_reacts()
        if step.pattern == "orchestrated":
            machine = roles.machines.get(step.runner, "")
            if design == "choreographed":
                for function in machine_tasks(usage, machine):
                    path.add("eventbridge_delivery")
                    path.add("sqs_to_lambda")
                    function_hops(path, usage, function)
            else:
                express = design == "express" and not step.callback
                hop = "stepfunctions_express_task" if express else "stepfunctions_standard_task"
                _machine(path, usage, machine, task_hop=hop)
        elif step.pattern == "choreographed":
            for function in roles.runner_functions(step.runner):
                if design == "orchestrated":
                    path.add("stepfunctions_standard_task")
                else:
                    path.add("eventbridge_delivery")
                    path.add("sqs_to_lambda")
                function_hops(path, usage, function)
        if design == "orchestrated":
            path.add("stepfunctions_other_state")  # the Choice on the step's outcome
    controller_reacts()  # the last outcome reaches the controller, which completes the workflow
    return path


def simulate(path: Path, hops: Mapping[str, Hop], *, seed: int) -> Latency:
    draws = random.Random(seed)
    fitted = {name: (math.log(h.p50), (math.log(h.p99) - math.log(h.p50)) / _Z99) for name, h in hops.items()}
    totals = []
    for _ in range(SAMPLES):
        total = 0.0
        for hop in path.hops:
            if isinstance(hop, str):
                name = hop
            else:
                name, amount = hop
                if name == "compute":
                    mu, sigma = fitted["lambda_compute"]
                    total += amount * draws.lognormvariate(mu, sigma)
                    continue
                if draws.random() >= amount:
                    continue
            mu, sigma = fitted[name]
            total += draws.lognormvariate(mu, sigma)
        totals.append(total)
    totals.sort()
    return Latency(
        p50_ms=totals[len(totals) // 2],
        p99_ms=totals[min(len(totals) - 1, math.ceil(0.99 * len(totals)) - 1)],
        hops=dict(path.counts),
    )
