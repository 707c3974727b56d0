"""Event patterns derived from detail-types: every rule matches the owning ``source`` and ``detail-type``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow_core.catalog import source_of


@dataclass(frozen=True)
class Subscription:
    """Detail-types from one source, optionally narrowed by a content filter on ``detail``."""

    name: str  # the rule's construct id: stable, so never derived from ordering
    source: str
    detail_types: tuple[str, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)


def by_source(detail_types: Iterable[str]) -> tuple[Subscription, ...]:
    """One subscription per owning source, so a service can never forge another's events."""
    grouped: dict[str, list[str]] = {}
    for detail_type in detail_types:
        grouped.setdefault(source_of(detail_type), []).append(detail_type)
    return tuple(
        Subscription(name=_rule_name(source), source=source, detail_types=tuple(types))
        for source, types in grouped.items()
    )


def step_filtered(detail_type: str, steps: Iterable[str]) -> Subscription:
    """``detail_type`` only when ``detail.data.step`` names one of ``steps``."""
    return Subscription(
        name=f"{detail_type}Rule",
        source=source_of(detail_type),
        detail_types=(detail_type,),
        detail={"data": {"step": sorted(steps)}},
    )


def _rule_name(source: str) -> str:
    return "".join(part.capitalize() for part in source.replace("-", ".").split(".")) + "Rule"
