"""What a run (or a design modelled from one) did, as amounts keyed by (actor, service, metric).

Actors: ``function:<name>``, ``machine:<name>``, ``queue:<name>``, ``bus``, ``scheduler``, ``api``; a
metric is a count (``invocations``, ``transitions``, ``wru``...) or ``call:<Operation>`` for an API call the
actor made. Amounts are totals over the ``workflows`` of the run; :meth:`Usage.per_workflow` divides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str, str]


@dataclass
class Usage:
    workflows: int
    counts: defaultdict[Key, float]
    memory_mb: dict[str, int] = field(default_factory=dict)  # function name -> its configured memory

    def total(self, service: str, metric: str, *, actor: Callable[[str], bool] | None = None) -> float:
        return float(
            sum(
                amount
                for (who, svc, what), amount in self.counts.items()
                if svc == service and what == metric and (actor is None or actor(who))
            )
        )

    def per_workflow(self, service: str, metric: str, *, actor: Callable[[str], bool] | None = None) -> float:
        return self.total(service, metric, actor=actor) / self.workflows if self.workflows else 0.0

    def actors(self, prefix: str) -> list[str]:
        return sorted({who for who, _, _ in self.counts if who.startswith(prefix)})

    def of(self, actor: str) -> dict[tuple[str, str], float]:
        return {(svc, what): float(n) for (who, svc, what), n in self.counts.items() if who == actor}

    def copy(self) -> Usage:
        return Usage(self.workflows, defaultdict(float, self.counts), dict(self.memory_mb))

    def drop_actor(self, actor: str) -> None:
        for key in [k for k in self.counts if k[0] == actor]:
            del self.counts[key]

    def as_json(self) -> dict[str, Any]:
        return {
            "workflows": self.workflows,
            "memory_mb": self.memory_mb,
            "counts": [[who, svc, what, amount] for (who, svc, what), amount in sorted(self.counts.items())],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Usage:
        counts: defaultdict[Key, float] = defaultdict(float)
        for who, service, metric, amount in data["counts"]:
            counts[(who, service, metric)] = float(amount)
        return cls(int(data["workflows"]), counts, {k: int(v) for k, v in data.get("memory_mb", {}).items()})
