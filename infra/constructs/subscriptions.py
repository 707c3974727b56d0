"""Event patterns derived from what a workflow's versions want delivered.

Every rule matches one owning ``source`` and its ``detail-type``s, so a service can never forge another's
events. Every rule of a workflow also matches ``detail.workflow.name``: the kit's lifecycle events (and
any event two workflows share) are told apart by the workflow context every event carries. A start
event comes from outside any workflow: its rule requires that the event carries *no* context
(:data:`NO_CONTEXT`), so an event some workflow published under the same detail-type never starts one.

An event of a deployed workflow's detail-types that carries no context (an archive replayed from before
docs/decisions/0022, a producer not yet upgraded) would match no rule, and EventBridge drops what no
rule matches without a trace: :func:`contextless_subscriptions` route the ones the controller can place
by their correlation id (deadlines, operator commands) to it, :func:`unrouted_subscriptions` every
other one to a queue an operator looks at (docs/decisions/0023).

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

# "The event carries no workflow context." EventBridge's ``exists`` works on leaf nodes only: on a key
# whose value is an object (``detail.workflow`` when there is a context) ``{"exists": false}`` matches,
# since an object is not a leaf ("Comparison operators only work on leaf nodes", EventBridge's comparison
# operators; docs/decisions/0010). So the filter tests the context's ``name``, a string every context has.
NO_CONTEXT: Mapping[str, Any] = {"workflow": {"name": [{"exists": False}]}}


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
    """The events that start ``workflow``: source and detail-type, and no workflow context.

    An event a workflow published carries its context; one with the start event's detail-type (produced
    by mistake, or forged by a producer allowed its source) is not a start.
    """
    grouped: dict[str, list[str]] = {}
    for detail_type in dict.fromkeys(start_events):
        grouped.setdefault(catalog.source_of(detail_type), []).append(detail_type)
    return tuple(
        Subscription(
            name=f"{camel(workflow)}Start{camel(source)}Rule",
            source=source,
            detail_types=tuple(types),
            detail=NO_CONTEXT,
            description=f"{', '.join(types)} from {source} without a workflow context starts a {workflow} "
            "workflow",
            workflow=workflow,
        )
        for source, types in grouped.items()
    )


def contextless_subscriptions(
    detail_types: Iterable[str], *, catalog: EventCatalog
) -> tuple[Subscription, ...]:
    """``detail_types`` without a workflow context, whatever the workflow: for the controller, which finds
    the instance by the event's correlation id (a deadline scheduled before the context existed, say)."""
    grouped: dict[str, list[str]] = {}
    for detail_type in dict.fromkeys(detail_types):
        grouped.setdefault(catalog.source_of(detail_type), []).append(detail_type)
    return tuple(
        Subscription(
            name=f"Contextless{camel(source)}Rule",
            source=source,
            detail_types=tuple(types),
            detail=NO_CONTEXT,
            description=f"{', '.join(types)} from {source} without a workflow context (the instance is "
            "found by its correlation id)",
        )
        for source, types in sorted(grouped.items())
    )


def unrouted_subscriptions(
    routed: Iterable[Subscription], *, excluded: Iterable[str], catalog: EventCatalog
) -> tuple[Subscription, ...]:
    """Per source, the detail-types the ``routed`` subscriptions deliver (but ``excluded``), when the event
    carries no workflow context: no rule of a workflow matches such an event, so it would be dropped."""
    left_out = set(excluded)
    grouped: dict[str, set[str]] = {}
    for subscription in routed:
        for detail_type in subscription.detail_types:
            if detail_type not in left_out:
                grouped.setdefault(catalog.source_of(detail_type), set()).add(detail_type)
    return tuple(
        Subscription(
            name=f"{camel(source)}Rule",
            source=source,
            detail_types=tuple(sorted(types)),
            detail=NO_CONTEXT,
            # Not the detail-types (a description is at most 512 characters): the pattern lists them.
            description=f"the deployed workflows' events from {source} without a workflow context, which no "
            "workflow's rule matches",
        )
        for source, types in sorted(grouped.items())
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
