"""One local cloud, one run: workflows arrive through the plug-in's driver, the run goes to quiescence,
then the result carries the figures, the invariants' verdict and the timelines asked for.

Workflow n arrives at n x :data:`ARRIVAL_INTERVAL` of virtual time. A sharded run calls
:func:`run_planned` once per process (:mod:`workflowkit.simulator.shards`). Under a fault profile
(:mod:`workflowkit.simulator.faulted`) the result also counts the faults, holds what the outcome faults
expect of whom they hit, and the trace of every workflow a violation or a mismatch names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from workflowkit.chaos import FaultProfile
from workflowkit.clock import real_perf_counter, run_origin
from workflowkit.cloud import LocalCloud
from workflowkit.ledger import LedgerEvent
from workflowkit.simulator.declarations import app_registry
from workflowkit.simulator.executions import workflow_executions
from workflowkit.simulator.faulted import FaultedRun
from workflowkit.simulator.invariants import PackedStatuses, Status, Statuses, check_kit, read_deployment
from workflowkit.simulator.plugin import Driver, WorkflowPlugin
from workflowkit.simulator.progress import Progress
from workflowkit.simulator.report import (
    ServiceNames,
    dead_letter_summary,
    denial_summary,
    ledger_figures,
    workflow_timeline,
)
from workflowkit.simulator.results import RunResult
from workflowkit.simulator.traces import traced_workflows, violations_by_workflow, workflow_trace

ARRIVAL_INTERVAL = timedelta(milliseconds=20)
# The controller's announcements of a workflow's end: what the progress line counts.
TERMINAL_EVENTS = ("WorkflowCompleted", "WorkflowCompensated", "WorkflowFailed", "WorkflowEscalated")

Arrivals = list[tuple[int, tuple[str, str]]]  # (n, (workflow id, scenario)): n places it in time
# Puts the run's work on the cloud's loop; the faults of a faulted run (None: a run without faults).
Submit = Callable[[LocalCloud, Driver, "FaultedRun | None"], None]
# Watches a run's cloud from the first workflow on; returns what ends the watch (see run_planned).
Observe = Callable[[LocalCloud], Callable[[], None]]


def run_planned(
    *,
    plugin: WorkflowPlugin[Any],
    cdk_out: Path,
    arrivals: Arrivals,
    seed: int,
    keep_timelines: Iterable[str] | None,
    progress: bool | None = None,
    ready: Callable[[], object] | None = None,
    on_finished: Callable[[int], None] | None = None,
    enforce_permissions: bool = True,
    faults: FaultProfile | None = None,
    trace: Iterable[str] = (),
    keep_executions: bool = False,
    observe: Observe | None = None,
) -> tuple[RunResult, float, float]:
    """Run planned workflows; returns the result and the real moments the run started and ended
    (after ``ready``, which a shard uses to start with the others). ``faults``: the profile injected;
    ``trace``: workflows to trace whatever happens to them (those a violation names always are);
    ``keep_executions``: the kept timelines' workflows also keep their state machine executions;
    ``observe``: called with the cloud once the driver has seeded it, before the first workflow; what it
    returns is called when the run is quiescent, before anything is read back (a meter's window)."""

    def submit(cloud: LocalCloud, driver: Driver, faulted: FaultedRun | None) -> None:
        for n, (workflow_id, scenario) in arrivals:
            task = _submitter(driver, scenario, workflow_id)
            if faulted is not None:
                task = faulted.submitter(task, workflow_id, scenario)
            cloud.loop.call_later(ARRIVAL_INTERVAL * n, f"submit {workflow_id}", task)

    return _run_timed(
        plugin=plugin,
        cdk_out=cdk_out,
        seed=seed,
        submit=submit,
        scenarios={workflow_id: scenario for _, (workflow_id, scenario) in arrivals},
        dead_letters_expected=plugin.expects_dead_letters(scenario for _, (_, scenario) in arrivals),
        expected_workflows=len(arrivals),
        progress=progress,
        keep_timelines=keep_timelines,
        ready=ready,
        on_finished=on_finished,
        enforce_permissions=enforce_permissions,
        faults=faults,
        trace=trace,
        keep_executions=keep_executions,
        observe=observe,
    )


def run_send(
    *, plugin: WorkflowPlugin[Any], cdk_out: Path, entries: list[dict[str, Any]], seed: int
) -> RunResult:
    """Put each entry (``Source``, ``DetailType``, ``Detail``) on the workflow's bus, one after another."""

    def submit(cloud: LocalCloud, driver: Driver, faulted: FaultedRun | None) -> None:
        for n, entry in enumerate(entries):
            cloud.loop.call_later(ARRIVAL_INTERVAL * n, f"send line {n + 1}", _sender(driver, entry))

    result, _, _ = _run_timed(
        plugin=plugin,
        cdk_out=cdk_out,
        seed=seed,
        submit=submit,
        scenarios={},
        dead_letters_expected=True,  # what the sender may have meant to provoke
        expected_workflows=0,
        progress=False,
        keep_timelines=None,
    )
    return result


def _submitter(driver: Driver, scenario: str, workflow_id: str) -> Callable[[], None]:
    def submit() -> None:
        driver.submit(scenario, workflow_id)

    return submit


def _sender(driver: Driver, entry: dict[str, Any]) -> Callable[[], None]:
    detail = entry["Detail"] if isinstance(entry["Detail"], str) else json.dumps(entry["Detail"])

    def send() -> None:
        driver.put(entry["Source"], entry["DetailType"], detail)

    return send


def _run_timed(
    *,
    plugin: WorkflowPlugin[Any],
    cdk_out: Path,
    seed: int,
    submit: Submit,
    scenarios: dict[str, str],
    dead_letters_expected: bool,
    expected_workflows: int,
    progress: bool | None,
    keep_timelines: Iterable[str] | None,
    ready: Callable[[], object] | None = None,
    on_finished: Callable[[int], None] | None = None,
    enforce_permissions: bool = True,
    faults: FaultProfile | None = None,
    trace: Iterable[str] = (),
    keep_executions: bool = False,
    observe: Observe | None = None,
) -> tuple[RunResult, float, float]:
    origin = run_origin()  # the process's start, for its first run: start-up counts as wall time
    bar = Progress(expected_workflows, enabled=progress if expected_workflows else False)
    with LocalCloud(cdk_out=cdk_out, seed=seed, enforce_permissions=enforce_permissions) as cloud:
        driver = plugin.driver(cloud)
        driver.seed()
        # After the seeding: the driver's own setup is not the app's work, and takes no faults.
        faulted = (
            None
            if faults is None or not faults.active
            else FaultedRun(cloud, faults, seed=seed, plugin=plugin)
        )

        def finished() -> int:
            return sum(cloud.ledger.published_by_type[t] for t in TERMINAL_EVENTS)

        def published() -> None:
            done = finished()
            bar.update(done)
            if on_finished is not None:
                on_finished(done)

        stop_observing = observe(cloud) if observe is not None else None
        if ready is not None:
            ready()
        started = real_perf_counter()
        submit(cloud, driver, faulted)
        cloud.ledger.on_publish = published
        cloud.run_until_quiescent()
        ended = real_perf_counter()
        if stop_observing is not None:
            stop_observing()
        wall = ended - started
        bar.update(finished(), final=True)
        statuses = _own(plugin, driver.all_statuses())
        registry = app_registry(cloud)
        deployment = read_deployment(cloud, registry)
        violations = [
            *plugin.invariants(cloud, driver, statuses),
            # Each instance is held to the deadlines of the version it runs, which need not be the newest.
            *check_kit(statuses, cloud.ledger, deployment, dead_letters_expected=dead_letters_expected),
        ]
        names = ServiceNames(cloud, registry)
        # Only this run's own workflows: a shard of a sharded run must not claim another's with no rows.
        wanted = statuses.keys() if keep_timelines is None else [w for w in keep_timelines if w in statuses]
        # Only the events of the workflows read here: a run of many keeps most of its ledger on disk.
        grouped = cloud.ledger.by_correlation(None if keep_timelines is None else wanted)
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
            run_seconds=wall,
            startup_seconds=started - origin,
            virtual_seconds=cloud.clock.elapsed().total_seconds(),
            handler_seconds=cloud.lambdas.handler_seconds(),
            emulator_seconds=cloud.lambdas.emulator_seconds(),
            timelines=timelines,
            executions={wid: workflow_executions(cloud, wid, flow_name=names.flow_of) for wid in wanted}
            if keep_executions
            else {},
            process_seconds=wall,
            denials=denial_summary(cloud),
            dead_letters=dead_letter_summary(cloud.ledger, deployment.parking_targets),
            dead_letters_expected=dead_letters_expected,
            expected={name: s.expected_status for name, s in plugin.scenarios.items()},
            expected_compensations={
                name: list(s.expected_compensations) for name, s in plugin.scenarios.items()
            },
            other_endings={name: list(endings) for name, endings in plugin.other_endings.items()},
        )
        if faulted is not None:
            result.fault_profile = faults.describe() if faults is not None else ""
            result.faults = faulted.counts()
            result.fault_expectations = {
                wid: expected.as_tuple() for wid, expected in faulted.expectations(statuses).items()
            }
        # The shortest trace of every workflow a violation or a mismatch names: its events and faults only.
        named = violations_by_workflow(violations, statuses, cloud.ledger)
        traced = traced_workflows(named, result.mismatched_workflows())
        tracing = [*traced, *(w for w in trace if w not in traced)]
        unread = [wid for wid in tracing if wid not in grouped]
        if unread:
            grouped.update(cloud.ledger.by_correlation(unread))
        for wid in tracing:
            result.trace_violations[wid] = [str(v) for v in named.get(wid, [])]
            rows = workflow_timeline(cloud, statuses.get(wid), wid, events=grouped.get(wid, []), names=names)
            injections = faulted.injections(wid) if faulted is not None else []
            result.traces[wid] = workflow_trace(rows, injections, start=cloud.clock.start)
    # From the process's start (or this run's request) to the result, the cloud's teardown included.
    result.wall_seconds = result.process_seconds = real_perf_counter() - origin
    return result, started, ended


def _own(plugin: WorkflowPlugin[Any], statuses: Statuses) -> Statuses:
    """The plug-in's workflow's instances only: a stack's workflows share one table, and a driver may
    list them all; another workflow's instances are not this run's to count or check. Packed ones stay
    packed (PackedStatuses: a run of many)."""
    kept: Statuses = PackedStatuses() if isinstance(statuses, PackedStatuses) else {}
    for wid, status in statuses.items():
        if status.get("workflowType") == plugin.name:
            kept[wid] = status
    return kept


def _timeline_rows(
    cloud: LocalCloud,
    status: Status | None,
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
