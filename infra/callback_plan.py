"""What the deployed workflows' callback steps ask of the stack: who may decide which steps over the API,
what the front door delivers a decision as, and which state machines pause for one.

Pure data, like :mod:`infra.plan`. One approver policy per ``Callback.approvers`` name grants the callback
routes of exactly the steps those approvers decide. The route's ARN carries the step's name but not the
workflow's type (``POST /workflows/{workflowId}/steps/{step}/complete``), so a step name decided by
different approvers in two workflows would let each group decide the other's step: such a registry is
refused here. Versions of one workflow may change a step's approvers; while both run, both groups may
decide the step (docs/decisions/0029).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from workflow_core.definition import Pattern, WorkflowDefinition
from workflow_core.registry import Registry

# The ASL placeholder of the callbacks table, in the machines that run a callback step (and only there).
CALLBACKS_TABLE_PLACEHOLDER = "CallbacksTableName"
# Approvers name a managed policy and a stack output (``<Approvers>ApproverPolicyArn``).
_APPROVERS = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class CallbackPlan:
    # approvers -> the step names whose callback routes they may call, sorted.
    approvers: Mapping[str, tuple[str, ...]]
    # Some human or consumer step's decision travels as StepDecided (the front door publishes it).
    publishes_decisions: bool
    # (workflow, machine) of every state machine that runs a callback step: it pauses on a task token
    # in the callbacks table, and the front door answers that token.
    paused_machines: tuple[tuple[str, str], ...]

    @property
    def steps(self) -> tuple[str, ...]:
        """Every step name a callback route may name."""
        return tuple(sorted({step for steps in self.approvers.values() for step in steps}))


def callback_plan(registry: Registry) -> CallbackPlan:
    deciders: dict[str, dict[str, set[str]]] = {}  # step -> workflow -> approvers
    paused: list[tuple[str, str]] = []
    publishes = False
    for definition in registry.definitions:
        for step in definition.callback_steps():
            assert step.callback is not None
            _check_approvers(definition, step.name, step.callback.approvers)
            deciders.setdefault(step.name, {}).setdefault(definition.name, set()).add(step.callback.approvers)
            if step.pattern is Pattern.ORCHESTRATED:
                paused.append((definition.name, step.runner.name))
        publishes = publishes or bool(definition.decided_steps())
    approvers: dict[str, set[str]] = {}
    for step_name, by_workflow in sorted(deciders.items()):
        groups = {group for groups in by_workflow.values() for group in groups}
        if len(by_workflow) > 1 and len(groups) > 1:
            named = "; ".join(f"{w}: {', '.join(sorted(g))}" for w, g in sorted(by_workflow.items()))
            raise ValueError(
                f"step {step_name!r} is decided by different approvers in different workflows ({named}): its "
                "callback route names the step, not the workflow, so each group could decide the other's "
                "step; give the steps different names, or the same approvers"
            )
        for group in groups:
            approvers.setdefault(group, set()).add(step_name)
    return CallbackPlan(
        approvers={group: tuple(sorted(steps)) for group, steps in sorted(approvers.items())},
        publishes_decisions=publishes,
        paused_machines=tuple(dict.fromkeys(paused)),
    )


def _check_approvers(definition: WorkflowDefinition, step: str, approvers: str) -> None:
    if not _APPROVERS.match(approvers):
        raise ValueError(
            f"workflow {definition.name!r}, step {step!r}: approvers {approvers!r} must match "
            f"{_APPROVERS.pattern} (it names a managed policy and a stack output)"
        )
