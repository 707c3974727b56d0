"""Where the synthesized template and a declaration disagree.

The stack derives its rules and grants from the declarations, so a disagreement means one of them changed
without the other (a stale ``cdk.out``, a hand-edited construct, a declaration the stack does not read):
an event the declaration says someone must receive that no rule routes there, a rule that routes a
workflow's event to someone the declaration does not name, an event its sender may not put on the bus,
a state machine the template does not hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from workflowkit.docgen.declared import (
    ORCHESTRATED,
    Party,
    event_roles,
    expected_consumers,
    expected_producers,
    involved_events,
    runners,
)
from workflowkit.docgen.wiring import Wiring

if TYPE_CHECKING:
    from workflow_core.definition import WorkflowDefinition


class Finding(NamedTuple):
    """One disagreement, in one version of one workflow."""

    workflow: str
    version: int
    message: str

    def __str__(self) -> str:
        return f"{self.workflow} v{self.version}: {self.message}"


def context_of(definition: WorkflowDefinition, detail_type: str) -> tuple[str, int] | None:
    """The workflow context an event of this version carries: none on the start event."""
    return None if detail_type == definition.start_event else (definition.name, definition.version)


def disagreements(definition: WorkflowDefinition, wiring: Wiring) -> list[Finding]:
    found: list[str] = []
    roles = event_roles(definition)

    def why(detail_type: str) -> str:
        return "; ".join(roles.get(detail_type, ())) or "named by the declaration"

    machines = [e for e in wiring.endpoints if e.kind == "state machine"]
    for step, runner, undo in runners(definition):
        party = Party.of(runner, definition.name)
        if runner.pattern == ORCHESTRATED and not any(party.is_endpoint(m) for m in machines):
            what = f"undoes `{step.name}`" if undo else f"runs `{step.name}`"
            found.append(f"{party.label} ({what}) is not in the template")

    expected = expected_consumers(definition)
    for detail_type in involved_events(definition):
        source = definition.catalog.source_of(detail_type)
        routes = wiring.consumers(detail_type, source, context_of(definition, detail_type))
        wanted = expected.get(detail_type, [])
        for party in wanted:
            if not any(party.is_endpoint(route.target) for route in routes):
                found.append(
                    f"`{detail_type}` ({why(detail_type)}) must reach {party.label}, "
                    "but no rule of the template routes it there"
                )
        for route in routes:
            if not any(party.is_endpoint(route.target) for party in wanted):
                found.append(
                    f"rule `{route.rule}` routes `{detail_type}` to {route.target.label}, "
                    "which the declaration does not name"
                )

    for detail_type, senders in expected_producers(definition).items():
        producers = wiring.producers(detail_type, definition.catalog.source_of(detail_type))
        if not producers:
            found.append(
                f"`{detail_type}` ({why(detail_type)}): no role of the template may put it on the bus"
            )
            continue
        for party in senders:
            if not any(party.is_endpoint(p) for p in producers):
                found.append(
                    f"`{detail_type}` ({why(detail_type)}) comes from {party.label}, "
                    "whose role may not put it on the bus"
                )
    return [Finding(definition.name, definition.version, message) for message in dict.fromkeys(found)]
