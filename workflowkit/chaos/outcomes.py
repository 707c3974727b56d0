"""What the outcome faults make of a declared workflow: whom they silence, and how it must end.

``never_answers`` silences one step's runner for one workflow whose fault-free scenario completes: the
step is given up at its deadline. A step that is not required is recorded and the workflow completes;
one whose callback escalates at its deadline leaves the workflow with people (NEEDS_ATTENTION);
otherwise the workflow undoes every step that completed, the silent one too (it may have acted), latest
completion first and never a step before one that came after it: COMPENSATED, or FAILED when nothing
had an undo. ``compensation_fails`` silences one undo's runner for a workflow whose scenario undoes
steps: the undo fails at its deadline and people are asked (NEEDS_ATTENTION); the undos before it are
done, after it none (``on_failure="halt"``) or the others (``"continue"``).

Everything here reads the declaration (``workflow_core.definition.WorkflowDefinition``) and the status
document the kit's status reader returns; nothing names a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflowkit.chaos.silence import Silence

COMPLETED = "COMPLETED"
COMPENSATED = "COMPENSATED"
FAILED = "FAILED"
NEEDS_ATTENTION = "NEEDS_ATTENTION"
# The status document's field listing the steps in the sequence they completed (or were given up on).
COMPLETION_SEQUENCE = "completionOrder"
Status = dict[str, Any]


@dataclass(frozen=True)
class Expected:
    """What a workflow a fault hit must end as: its status and the steps undone, in sequence."""

    status: str
    compensations: tuple[str, ...]
    because: str  # the fault, for the report

    def as_tuple(self) -> tuple[str, list[str], str]:
        return self.status, list(self.compensations), self.because


def expected_outcome(
    silence: Silence, status: Status, definition: Any, planned: tuple[str, ...] = ()
) -> Expected:
    """What ``silence`` makes of a workflow of ``definition``: one whose fault-free scenario completes
    (a step never answers) or undoes ``planned`` in that sequence (an undo never answers). ``status``
    gives the sequence steps completed in, which parallel branches leave to timing."""
    step = definition.step(silence.step)
    because = f"{silence.fault} at {silence.step}"
    if silence.fault == "compensation_fails":
        assert step.compensation is not None
        before = planned[: planned.index(silence.step)]
        after = planned[planned.index(silence.step) + 1 :]
        rest = after if step.compensation.on_failure == "continue" else ()
        return Expected(NEEDS_ATTENTION, (*before, *rest), because)
    if not step.required:
        return Expected(COMPLETED, (), because)
    if step.callback is not None and step.callback.on_deadline == "escalate":
        return Expected(NEEDS_ATTENTION, (), because)
    completed = [str(name) for name in status.get(COMPLETION_SEQUENCE, [])]
    undo = undo_sequence(definition, completed, [n for n in completed if definition.step(n).compensation])
    return Expected(COMPENSATED if undo else FAILED, undo, because)


def undo_sequence(definition: Any, completed: list[str], names: list[str]) -> tuple[str, ...]:
    """The declared undo sequence of ``names``: latest completion first (``completed``: the steps in the
    sequence they completed, a step given up on counting from then), never a step before one that came
    after it in the DAG (the controller's rule)."""
    recency = {name: index for index, name in enumerate(completed)}
    pending = sorted(names, key=lambda n: (-recency.get(n, len(completed)), -definition.step_index(n)))
    after = {name: set(definition.ancestors(name)) for name in pending}
    ordered: list[str] = []
    while pending:
        ready = next(n for n in pending if not any(n in after[other] for other in pending if other != n))
        ordered.append(ready)
        pending.remove(ready)
    return tuple(ordered)


def step_silence(definition: Any, step: Any, workflow_id: str) -> Silence:
    runner = step.runner
    triggers = frozenset({step.started_by} if step.started_by else ())
    if str(runner.pattern) == "orchestrated":
        return Silence(
            "never_answers", workflow_id, step.name, state_machine=f"-{definition.name}-{runner.name}"
        )
    return Silence(
        "never_answers",
        workflow_id,
        step.name,
        service=runner.name,
        detail_types=triggers,
        step_commands=True,
    )


def undo_silence(definition: Any, step: Any, workflow_id: str) -> Silence:
    compensation = step.compensation
    runner = compensation.runner
    if str(runner.pattern) == "orchestrated":
        return Silence(
            "compensation_fails",
            workflow_id,
            step.name,
            state_machine=f"-{definition.name}-{runner.name}",
        )
    return Silence(
        "compensation_fails",
        workflow_id,
        step.name,
        service=runner.name,
        detail_types=frozenset({compensation.request}),
    )
