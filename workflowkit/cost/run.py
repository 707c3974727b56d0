"""``workflowkit cost``: a metered sample run, the four designs, their monthly bills and latencies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflowkit.clock import real_perf_counter
from workflowkit.cloud import LocalCloud
from workflowkit.cost.bill import Line, bill, by_service
from workflowkit.cost.designs import DESIGNS, MEASURED, TITLES, model_designs
from workflowkit.cost.latency import Latency, happy_path, simulate
from workflowkit.cost.meter import Meter
from workflowkit.cost.prices import DEFAULT_LATENCIES, DEFAULT_PRICES, PriceBook, load_latencies
from workflowkit.cost.roles import Roles, read_roles
from workflowkit.cost.usage import Usage
from workflowkit.simulator import WorkflowPlugin, plan, run_planned


@dataclass
class DesignResult:
    name: str
    basis: str  # "measured" or "modelled"
    usage: Usage
    lines: list[Line]
    services: dict[str, float]
    latency: Latency

    @property
    def total(self) -> float:
        return sum(self.services.values())


@dataclass
class CostReport:
    workflow: str
    workflows_a_month: float
    sample: int
    seed: int
    mix: dict[str, int]
    prices: PriceBook
    designs: dict[str, DesignResult]
    wall_seconds: float  # the sample run's, start-up included
    virtual_seconds: float

    def per_thousand(self, design: str) -> float:
        return self.designs[design].total / self.workflows_a_month * 1000

    def as_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "workflows_a_month": self.workflows_a_month,
            "sample": {"workflows": self.sample, "seed": self.seed, "mix": self.mix},
            "prices": {
                "file": str(self.prices.path),
                "region": self.prices.region,
                "read_on": self.prices.read_on,
            },
            "wall_seconds": round(self.wall_seconds, 3),
            "designs": {
                name: {
                    "title": TITLES[name],
                    "basis": result.basis,
                    "monthly_usd": {k: round(v, 4) for k, v in result.services.items()},
                    "total_usd": round(result.total, 4),
                    "usd_per_1000_workflows": round(self.per_thousand(name), 6),
                    "latency_ms": {
                        "p50": round(result.latency.p50_ms, 1),
                        "p99": round(result.latency.p99_ms, 1),
                    },
                    "hops": {k: round(v, 2) for k, v in result.latency.hops.items()},
                    "lines": [
                        {
                            "service": line.service,
                            "what": line.what,
                            "quantity": line.quantity,
                            "price": line.price,
                            "usd_each": self.prices[line.price],
                            "usd": round(line.cost(self.prices), 4),
                        }
                        for line in result.lines
                    ],
                    "usage": result.usage.as_json(),
                }
                for name, result in self.designs.items()
            },
        }


def run_cost(
    *,
    plugin: WorkflowPlugin[Any],
    cdk_out: Path,
    workflows_a_month: float,
    sample: int,
    seed: int,
    mix: Mapping[str, int] | None = None,
    prices_path: Path = DEFAULT_PRICES,
    latencies_path: Path = DEFAULT_LATENCIES,
) -> CostReport:
    if workflows_a_month <= 0 or sample <= 0:
        raise ValueError("the monthly volume and the sample must be positive")
    prices = PriceBook.load(prices_path)
    hops = load_latencies(latencies_path)
    chosen = dict(mix or plugin.default_mix)
    planned = plan(sample, chosen, seed)
    found: dict[str, Any] = {}

    def observe(cloud: LocalCloud) -> Any:
        meter = Meter().attach(cloud)

        def stop() -> None:
            found["usage"] = meter.stop(workflows=len(planned))
            found["roles"] = read_roles(cloud, plugin.declaration())

        return stop

    started = real_perf_counter()
    result, _, _ = run_planned(
        plugin=plugin,
        cdk_out=cdk_out,
        arrivals=list(enumerate(planned)),
        seed=seed,
        keep_timelines=(),
        progress=False,
        observe=observe,
    )
    wall = real_perf_counter() - started
    usage: Usage = found["usage"]
    roles: Roles = found["roles"]
    designs = {}
    for name, modelled in model_designs(usage, roles, result.statuses, hops).items():
        lines = bill(modelled, workflows_a_month=workflows_a_month, hops=hops)
        latency = simulate(happy_path(name, modelled, roles), hops, seed=seed)
        designs[name] = DesignResult(
            name, MEASURED[name], modelled, lines, by_service(lines, prices), latency
        )
    return CostReport(
        workflow=plugin.name,
        workflows_a_month=workflows_a_month,
        sample=len(planned),
        seed=seed,
        mix=chosen,
        prices=prices,
        designs={name: designs[name] for name in DESIGNS},
        wall_seconds=wall,
        virtual_seconds=result.virtual_seconds,
    )
