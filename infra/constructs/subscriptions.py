"""Event patterns derived from what a workflow's versions want delivered.

Every rule matches one owning ``source`` and its ``detail-type``s, so a service can never forge another's
events. Every rule of a workflow also matches ``detail.workflow.name``: the kit's lifecycle events (and
any event two workflows share) are told apart by the workflow context every event carries. Only the
start events, which come from outside any workflow and carry no context, are matched on source and
detail-type alone.

Versions of one workflow that want different events get separate rules, each also matching
``detail.workflow.version`` (docs/decisions/0023): a rule per set of versions keeps every pattern a plain
conjunction that reads like its description, where one rule with ``$or`` would hide which version wants
what. A detail-type every live version wants is matched on the name alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.constructs.naming import camel
from workflow_core.catalog import EventCatalog


@dataclass(frozen=True)
class Subscription:
    """Detail-types from one source, optionally narrowed by a content filter on ``detail``."""

    name: str  # the rule's construct id: stable, so never derived from ordering
    source: str
    detail_types: tuple[str, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    workflow: str = ""  # the workflow it was derived for (its alarms and dashboard row)


def start_subscriptions(
    workflow: str, start_events: Iterable[str], *, catalog: EventCatalog
) -> tuple[Subscription, ...]:
    """The events that start ``workflow``: source and detail-type only (they carry no workflow context)."""
    grouped: dict[str, list[str]] = {}
    for detail_type in dict.fromkeys(start_events):
        grouped.setdefault(catalog.source_of(detail_type), []).append(detail_type)
    return tuple(
        Subscription(
            name=f"{camel(workflow)}Start{camel(source)}Rule",
            source=source,
            detail_types=tuple(types),
            description=f"{', '.join(types)} from {source} starts a {workflow} workflow",
            workflow=workflow,
        )
        for source, types in grouped.items()
    )


def workflow_subscriptions(
    workflow: str,
    wanted: Mapping[int, Sequence[str]],
    *,
    versions: Sequence[int],
    catalog: EventCatalog,
    prefix: str | None = None,
) -> tuple[Subscription, ...]:
    """One subscription per owning source and set of versions wanting the same detail-types.

    ``wanted`` maps a version of ``workflow`` to the detail-types it wants delivered; ``versions`` are all
    live versions of the workflow (a detail-type all of them want needs no version filter).
    """
    versions_of: dict[str, set[int]] = {}
    for version in sorted(wanted):
        for detail_type in wanted[version]:
            versions_of.setdefault(detail_type, set()).add(version)
    grouped: dict[tuple[str, frozenset[int]], list[str]] = {}
    for detail_type, wanting in versions_of.items():
        grouped.setdefault((catalog.source_of(detail_type), frozenset(wanting)), []).append(detail_type)
    return tuple(
        Subscription(
            name=f"{prefix if prefix is not None else camel(workflow)}{_tag(wanting, versions)}"
            f"{camel(source)}Rule",
            source=source,
            detail_types=tuple(types),
            detail={"workflow": _context_filter(workflow, wanting, versions)},
            description=f"{', '.join(types)} from {source}, {_of(workflow, wanting, versions)}",
            workflow=workflow,
        )
        for (source, wanting), types in grouped.items()
    )


def step_subscriptions(
    workflow: str,
    detail_type: str,
    steps: Mapping[int, Sequence[str]],
    *,
    versions: Sequence[int],
    catalog: EventCatalog,
) -> tuple[Subscription, ...]:
    """``detail_type`` of ``workflow`` only when ``detail.data.step`` names a step of the subscriber.

    ``steps`` maps a version to the steps it concerns; versions without any are not subscribed.
    """
    grouped: dict[tuple[str, ...], set[int]] = {}
    for version in sorted(steps):
        if steps[version]:
            grouped.setdefault(tuple(sorted(steps[version])), set()).add(version)
    source = catalog.source_of(detail_type)
    return tuple(
        Subscription(
            name=f"{camel(workflow)}{_tag(wanting, versions)}{detail_type}Rule",
            source=source,
            detail_types=(detail_type,),
            detail={"workflow": _context_filter(workflow, wanting, versions), "data": {"step": list(names)}},
            description=f"{detail_type} from {source} for {', '.join(names)}, "
            f"{_of(workflow, wanting, versions)}",
            workflow=workflow,
        )
        for names, wanting in grouped.items()
    )


def _context_filter(workflow: str, wanting: Iterable[int], versions: Sequence[int]) -> dict[str, Any]:
    context: dict[str, Any] = {"name": [workflow]}
    if set(wanting) != set(versions):
        context["version"] = sorted(wanting)
    return context


def _tag(wanting: Iterable[int], versions: Sequence[int]) -> str:
    """``""`` when every live version wants it, else ``V1V3`` naming the versions that do."""
    if set(wanting) == set(versions):
        return ""
    return "".join(f"V{version}" for version in sorted(wanting))


def _of(workflow: str, wanting: Iterable[int], versions: Sequence[int]) -> str:
    if set(wanting) == set(versions):
        return f"workflow {workflow}"
    return f"workflow {workflow} v{', v'.join(str(v) for v in sorted(wanting))}"
