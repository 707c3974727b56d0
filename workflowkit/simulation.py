"""``simulate`` and ``send``: many workflows on the local cloud, then their figures and invariants.

Orders arrive through the real entry point (the front door's ``POST /orders`` handler), spread over
virtual time; the run goes to quiescence; the result carries what the CLI prints and what a test or a
benchmark asserts.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from workflowkit.clock import real_perf_counter
from workflowkit.cloud import LocalCloud
from workflowkit.invariants import Violation, check_all, termination_budget
from workflowkit.ledger import LedgerEvent
from workflowkit.orders import OrderDriver
from workflowkit.report import ServiceNames, denial_summary, ledger_figures, workflow_timeline
from workflowkit.scenarios import DEFAULT_MIX, SCENARIOS, initial_stock, order_for

ARRIVAL_INTERVAL = timedelta(milliseconds=20)
TERMINAL_EVENTS = ("WorkflowCompleted", "WorkflowCompensated", "WorkflowFailed", "WorkflowEscalated")


def parse_mix(text: str) -> dict[str, int]:
    """``happy=70,declined=10`` -> {"happy": 70, "declined": 10}; names must be known scenarios."""
    mix: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
        if not weight.isdigit():
            raise ValueError(f"weight of {name!r} must be a whole number, not {weight!r}")
        mix[name] = int(weight)
    if not mix or sum(mix.values()) == 0:
        raise ValueError("the mix needs at least one scenario with a positive weight")
    return mix


def plan(orders: int, mix: dict[str, int], seed: int) -> list[tuple[str, str]]:
    """(order id, scenario) for every order: drawn from the mix with the run's seed."""
    chooser = random.Random(seed)
    names = chooser.choices(list(mix), weights=list(mix.values()), k=orders)
    return [(f"sim-{n:06d}", name) for n, name in enumerate(names)]


@dataclass
class RunResult:
    seed: int
    statuses: dict[str, dict[str, Any]]
    scenarios: dict[str, str]  # workflow id -> scenario ("" for workflows started by `send`)
    figures: dict[str, int]
    violations: list[Violation]
    trace_sha256: str
    wall_seconds: float
    virtual_seconds: float
    handler_seconds: float
    timelines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Wall time summed over the processes that ran (one per shard): the overhead ratio's numerator.
    process_seconds: float = 0.0
    workers: int = 1
    denials: list[str] = field(default_factory=list)  # what was refused, distinct, with counts

    @property
    def healthy(self) -> bool:
        """No broken invariant, nothing lost, nothing refused by the template's permissions."""
        return (
            not self.violations
            and self.figures.get("unaccounted_events", 0) == 0
            and self.figures.get("access_denials", 0) == 0
            and self.figures.get("alarm_actions_failed", 0) == 0
        )

    @property
    def workflows(self) -> int:
        return len(self.statuses)

    def by_status(self) -> dict[str, int]:
        return dict(sorted(Counter(s["status"] for s in self.statuses.values()).items()))

    def mismatches(self) -> list[str]:
        wrong = []
        for workflow_id, scenario in sorted(self.scenarios.items()):
            if not scenario:
                continue
            expected = SCENARIOS[scenario].expected_status
            actual = self.statuses.get(workflow_id, {}).get("status", "MISSING")
            if actual != expected:
                wrong.append(f"{workflow_id} ({scenario}): {actual}, expected {expected}")
        return wrong

    def latencies(self) -> list[float]:
        return sorted(
            (datetime.fromisoformat(s["updatedAt"]) - datetime.fromisoformat(s["createdAt"])).total_seconds()
            for s in self.statuses.values()
        )

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies()
        compensations = sum(len(s.get("compensatedSteps", [])) for s in self.statuses.values())
        return {
            "workflows": self.workflows,
            "by_status": self.by_status(),
            "scenario_mismatches": len(self.mismatches()),
            "compensations": compensations,
            "escalations": self.by_status().get("NEEDS_ATTENTION", 0),
            "latency_p50_seconds": _percentile(latencies, 50),
            "latency_p99_seconds": _percentile(latencies, 99),
            **self.figures,
            "invariant_violations": len(self.violations),
            "trace_sha256": self.trace_sha256,
            "wall_seconds": round(self.wall_seconds, 3),
            "virtual_seconds": round(self.virtual_seconds, 3),
            "workflows_per_second": round(self.workflows / self.wall_seconds, 1)
            if self.wall_seconds
            else 0.0,
            "handler_seconds": round(self.handler_seconds, 3),
            "overhead_ratio": round(self.overhead_ratio, 2) if self.handler_seconds else None,
            "workers": self.workers,
        }

    @property
    def overhead_ratio(self) -> float:
        """Time the processes ran / time inside handler code (1.0 would be handlers and nothing else)."""
        busy = self.process_seconds or self.wall_seconds
        return busy / self.handler_seconds if self.handler_seconds else float("inf")


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(percent / 100 * len(values)) - 1))
    return round(values[index], 3)


class Progress:
    """A progress line on stderr while workflows finish (only where stderr is a terminal)."""

    def __init__(self, total: int, *, enabled: bool | None = None) -> None:
        self._total = total
        self._enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        if not self._enabled:
            return
        now = real_perf_counter()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        width = 30
        filled = int(width * done / self._total) if self._total else width
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self._total} workflows finished"
        )
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_simulation(
    *,
    cdk_out: Path,
    orders: int,
    seed: int,
    mix: dict[str, int] | None = None,
    progress: bool | None = None,
    keep_timelines: Iterable[str] | None = (),
    workers: int = 1,
) -> RunResult:
    """``keep_timelines``: workflow ids whose timelines to keep; None keeps every workflow's.

    ``workers`` > 1 runs the orders over that many processes (:mod:`workflowkit.shards`).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    orders_plan = plan(orders, mix or DEFAULT_MIX, seed)
    if workers > 1:
        from workflowkit.shards import run_sharded  # noqa: PLC0415 - shards builds on this module

        return run_sharded(
            cdk_out=cdk_out,
            orders_plan=orders_plan,
            seed=seed,
            workers=workers,
            progress=progress,
            keep_timelines=keep_timelines,
        )
    result, _, _ = run_planned(
        cdk_out=cdk_out,
        arrivals=list(enumerate(orders_plan)),
        seed=seed,
        keep_timelines=keep_timelines,
        progress=progress,
    )
    return result


def run_planned(
    *,
    cdk_out: Path,
    arrivals: list[tuple[int, tuple[str, str]]],
    seed: int,
    keep_timelines: Iterable[str] | None,
    progress: bool | None = None,
    ready: Callable[[], object] | None = None,
    on_finished: Callable[[int], None] | None = None,
    enforce_permissions: bool = True,
) -> tuple[RunResult, float, float]:
    """Run planned orders (n, (order id, scenario)); order n arrives at n x ARRIVAL_INTERVAL.

    Returns the result and the real moments the run started and ended (after ``ready``, which a shard
    uses to start with the others).
    """

    def submit(cloud: LocalCloud, driver: OrderDriver) -> None:
        for n, (order_id, scenario) in arrivals:
            order = order_for(SCENARIOS[scenario], order_id)
            cloud.loop.call_later(ARRIVAL_INTERVAL * n, f"submit {order_id}", _poster(driver, order))

    return _run_timed(
        cdk_out=cdk_out,
        seed=seed,
        submit=submit,
        scenarios={order_id: scenario for _, (order_id, scenario) in arrivals},
        expected_workflows=len(arrivals),
        progress=progress,
        keep_timelines=keep_timelines,
        ready=ready,
        on_finished=on_finished,
        enforce_permissions=enforce_permissions,
    )


def run_send(*, cdk_out: Path, entries: list[dict[str, Any]], seed: int) -> RunResult:
    """Put each entry (``Source``, ``DetailType``, ``Detail``) on the app's bus, in order."""

    def submit(cloud: LocalCloud, driver: OrderDriver) -> None:
        for n, entry in enumerate(entries):
            cloud.loop.call_later(ARRIVAL_INTERVAL * n, f"send line {n + 1}", _sender(driver, entry))

    result, _, _ = _run_timed(
        cdk_out=cdk_out,
        seed=seed,
        submit=submit,
        scenarios={},
        expected_workflows=0,
        progress=False,
        keep_timelines=None,
    )
    return result


def _poster(driver: OrderDriver, order: dict[str, Any]) -> Callable[[], None]:
    def post() -> None:
        driver.submit_http(order)

    return post


def _sender(driver: OrderDriver, entry: dict[str, Any]) -> Callable[[], None]:
    detail = entry["Detail"] if isinstance(entry["Detail"], str) else json.dumps(entry["Detail"])

    def send() -> None:
        driver.put(entry["Source"], entry["DetailType"], detail)

    return send


def _run_timed(
    *,
    cdk_out: Path,
    seed: int,
    submit: Callable[[LocalCloud, OrderDriver], None],
    scenarios: dict[str, str],
    expected_workflows: int,
    progress: bool | None,
    keep_timelines: Iterable[str] | None,
    ready: Callable[[], object] | None = None,
    on_finished: Callable[[int], None] | None = None,
    enforce_permissions: bool = True,
) -> tuple[RunResult, float, float]:
    bar = Progress(expected_workflows, enabled=progress if expected_workflows else False)
    with LocalCloud(cdk_out=cdk_out, seed=seed, enforce_permissions=enforce_permissions) as cloud:
        driver = OrderDriver(cloud)
        stocked = initial_stock()
        driver.stock(stocked)

        def finished() -> int:
            return sum(cloud.ledger.published_by_type[t] for t in TERMINAL_EVENTS)

        def published() -> None:
            done = finished()
            bar.update(done)
            if on_finished is not None:
                on_finished(done)

        if ready is not None:
            ready()
        started = real_perf_counter()
        submit(cloud, driver)
        cloud.ledger.on_publish = published
        cloud.run_until_quiescent()
        ended = real_perf_counter()
        wall = ended - started
        bar.update(finished(), final=True)
        statuses = driver.all_statuses()
        violations = check_all(cloud, statuses, stocked=stocked, budget=termination_budget(_declaration()))
        grouped = cloud.ledger.by_correlation()
        names = ServiceNames(cloud)
        # Only this run's own workflows: a shard of a sharded run must not claim another's with no rows.
        wanted = statuses.keys() if keep_timelines is None else [w for w in keep_timelines if w in statuses]
        timelines = {
            wid: _timeline_rows(cloud, statuses.get(wid), wid, grouped.get(wid, []), names) for wid in wanted
        }
        result = RunResult(
            seed=seed,
            statuses=statuses,
            scenarios=scenarios,
            figures=ledger_figures(cloud),
            violations=violations,
            trace_sha256=cloud.ledger.trace_sha256,
            wall_seconds=wall,
            virtual_seconds=cloud.clock.elapsed().total_seconds(),
            handler_seconds=cloud.lambdas.handler_seconds(),
            timelines=timelines,
            process_seconds=wall,
            denials=denial_summary(cloud),
        )
        return result, started, ended


def _declaration() -> Any:
    """The app's workflow declaration, from its code asset (on sys.path while the local cloud runs)."""
    from workflow_core.order_workflow import ORDER_WORKFLOW  # noqa: PLC0415 - the app's own code

    return ORDER_WORKFLOW


def _timeline_rows(
    cloud: LocalCloud,
    status: dict[str, Any] | None,
    workflow_id: str,
    events: list[LedgerEvent],
    names: ServiceNames,
) -> list[dict[str, Any]]:
    return [
        {
            "at": row.at.isoformat(),
            "offset_seconds": (row.at - cloud.clock.start).total_seconds(),
            "detail_type": row.detail_type,
            "source": row.source,
            "handled_by": row.handled_by,
            "state_changes": row.state_changes,
            "status_change": row.status_change,
            "notes": row.notes,
        }
        for row in workflow_timeline(cloud, status, workflow_id, events=events, names=names)
    ]


def workflow_details(result: RunResult) -> dict[str, Any]:
    return {
        workflow_id: {
            "status": status["status"],
            "steps": {name: step["status"] for name, step in status["steps"].items()},
            "compensations": status.get("compensatedSteps", []),
            "reason": status.get("reason"),
        }
        for workflow_id, status in sorted(result.statuses.items())
    }
