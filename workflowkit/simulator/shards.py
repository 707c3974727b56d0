"""One simulation over several processes: a local cloud per process, the workflows dealt round-robin.

A local cloud is one Python process, so one core. ``--workers N`` runs N of them side by side: the
plan is drawn once from the run's seed (the same workflows and scenarios as a one-process run),
workflow n goes to shard n mod N (or with its plug-in's ``shard_key``, see :func:`shards_of`) and keeps
its arrival time, and each shard's cloud has a seed derived
from the run's seed and its index. The shards start together (a barrier after every cloud is built)
and their results merge into one :class:`RunResult`: the trace hash is a hash over the shards' hashes
in shard sequence, so one seed and one worker count still give one trace.

What a shard does not share with the others: its tables. Workflows in different shards never contend
for the same item, so a plug-in whose workflows compete for something keys them to shards by it
(``WorkflowPlugin.shard_key``, docs/decisions/0037): what they compete for stays in one process.
The plug-in travels to each shard by pickling: its callables must be module-level. See
docs/decisions/0014.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflowkit.chaos import FaultProfile
from workflowkit.clock import real_perf_counter, run_origin
from workflowkit.cloud import running
from workflowkit.simulator.invariants import PackedStatuses, Statuses
from workflowkit.simulator.invariants import base as invariants_base
from workflowkit.simulator.planning import Plan
from workflowkit.simulator.plugin import WorkflowPlugin
from workflowkit.simulator.progress import Progress
from workflowkit.simulator.results import RunResult
from workflowkit.simulator.runner import run_planned

_POLL_SECONDS = 0.2


def shard_seed(seed: int, shard: int) -> int:
    """A shard's cloud seed: fixed by the run's seed and the shard's index (str seeding is stable)."""
    return random.Random(f"workflowkit-shard/{seed}/{shard}").getrandbits(32)


def run_sharded(
    *,
    plugin: WorkflowPlugin[Any],
    cdk_out: Path,
    planned: Plan,
    seed: int,
    workers: int,
    progress: bool | None,
    keep_timelines: Iterable[str] | None,
    faults: FaultProfile | None = None,
    keep_executions: bool = False,
) -> RunResult:
    origin = run_origin()  # this (the parent) process's start: the run's wall time includes start-up
    context = multiprocessing.get_context("fork") if _may_fork() else multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    finished = [context.Value("i", 0) for _ in range(workers)]
    keep = None if keep_timelines is None else list(keep_timelines)
    processes = [
        context.Process(
            target=_shard_main,
            args=(
                _ShardJob(plugin, shard, cdk_out, planned, workers, seed, keep, faults, keep_executions),
                barrier,
                finished[shard],
                results,
            ),
            name=f"workflowkit-shard-{shard}",
        )
        for shard in range(workers)
    ]
    bar = Progress(len(planned), enabled=progress)
    collected: dict[int, Any] = {}
    try:
        for process in processes:
            process.start()
        while len(collected) < workers:
            bar.update(sum(counter.value for counter in finished))
            while not results.empty():
                shard, payload = results.get()
                collected[shard] = payload
            if any(p.exitcode not in (None, 0) for p in processes) and len(collected) < workers:
                _drain(results, collected)
                failed = [p.name for p in processes if p.exitcode not in (None, 0)]
                raise RuntimeError(f"simulation shard(s) {', '.join(failed)} failed: {_errors(collected)}")
            time.sleep(_POLL_SECONDS)
    finally:
        stop_processes(processes, finished=len(collected) >= workers)
    bar.update(len(planned), final=True)
    errors = _errors(collected)
    if errors:
        raise RuntimeError(f"simulation shard failed: {errors}")
    return merge_shards(seed, [collected[shard] for shard in range(workers)], origin=origin)


def _may_fork() -> bool:
    """``fork`` where it is safe: the shards inherit the imports (seconds of start-up each) and nothing
    else (no local cloud runs here: no mock, no frozen clock; one thread, so no lock held by another).
    ``spawn`` otherwise, and where there is no fork. The threads counted are the kernel's (``/proc``) where
    it says: one started by ``_thread`` or a C library is no threading thread, and may hold a lock too."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and _os_threads() in (1, None)
        and not running()
    )


def _os_threads() -> int | None:
    """The threads of this process as the kernel counts them (None: not known here)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


@dataclass(frozen=True)
class _ShardJob:
    plugin: WorkflowPlugin[Any]
    shard: int
    cdk_out: Path
    planned: Plan
    workers: int
    seed: int
    keep_timelines: list[str] | None
    faults: FaultProfile | None = None
    keep_executions: bool = False


ShardKey = Callable[[str, str], str]  # (scenario, workflow id) -> what must run in one shard


def shard_arrivals(
    planned: Plan, workers: int, shard: int, key: ShardKey | None = None
) -> list[tuple[int, tuple[str, str]]]:
    """The workflows shard ``shard`` of ``workers`` runs: see :func:`shards_of`."""
    dealt = shards_of(planned, workers, key)
    return [(n, planned_workflow) for n, planned_workflow in enumerate(planned) if dealt[n] == shard]


def shard_of(planned: Plan, workers: int, workflow_id: str, key: ShardKey | None = None) -> int | None:
    """The shard that runs ``workflow_id`` (None: the plan has no such workflow)."""
    dealt = shards_of(planned, workers, key)
    for n, (planned_id, _) in enumerate(planned):
        if planned_id == workflow_id:
            return dealt[n]
    return None


def shards_of(planned: Plan, workers: int, key: ShardKey | None = None) -> list[int]:
    """The shard of each planned workflow. Without ``key``, workflow n goes to shard n mod workers; with
    it (the plug-in's ``shard_key``), the keys are dealt so, in the sequence of their first workflow, and
    every workflow goes with its key: what its workflows compete for stays in one process."""
    if key is None:
        return [n % workers for n in range(len(planned))]
    dealt: dict[str, int] = {}
    for workflow_id, scenario in planned:
        dealt.setdefault(key(scenario, workflow_id), len(dealt) % workers)
    return [dealt[key(scenario, workflow_id)] for workflow_id, scenario in planned]


def _shard_main(job: _ShardJob, barrier: Any, finished: Any, results: Any) -> None:
    shard = job.shard
    try:
        arrivals = shard_arrivals(job.planned, job.workers, shard, job.plugin.shard_key)
        result, started, ended = run_planned(
            plugin=job.plugin,
            cdk_out=job.cdk_out,
            arrivals=arrivals,
            seed=shard_seed(job.seed, shard),
            keep_timelines=job.keep_timelines,
            ready=barrier.wait,
            on_finished=lambda done: setattr(finished, "value", done),
            faults=job.faults,
            keep_executions=job.keep_executions,
        )
        results.put((shard, {"result": result, "started": started, "ended": ended}))
    except BaseException as error:  # reported to the parent, which raises it with the shard's name
        results.put((shard, {"error": f"{type(error).__name__}: {error}"}))
        barrier.abort()
        raise


def _drain(results: Any, collected: dict[int, Any]) -> None:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not results.empty():
        shard, payload = results.get()
        collected[shard] = payload


def _merged_statuses(results: list[RunResult]) -> Statuses:
    """Every shard's status documents; for a run of many, packed as a run of many in one process keeps
    them (invariants.base.PackedStatuses), not every one parsed at once in the parent."""
    if not any(isinstance(r.statuses, PackedStatuses) for r in results) and (
        sum(len(r.statuses) for r in results) < invariants_base.PACK_STATUSES_FROM
    ):
        return {k: v for r in results for k, v in r.statuses.items()}
    merged = PackedStatuses()
    for result in results:
        if isinstance(result.statuses, PackedStatuses):
            merged.add_packed(result.statuses)  # already packed: taken as they are
        else:
            for workflow_id, status in result.statuses.items():
                merged[workflow_id] = status
    return merged


def _errors(collected: dict[int, Any]) -> str:
    return "; ".join(f"shard {s}: {p['error']}" for s, p in sorted(collected.items()) if "error" in p)


def merge_shards(seed: int, shards: list[dict[str, Any]], *, origin: float | None = None) -> RunResult:
    """One result from the shards' (each {"result", "started", "ended"}), in shard sequence; ``origin``:
    when the parent process started (None: the first shard's start), on the host's monotonic clock."""
    first = min(s["started"] for s in shards)
    origin = first if origin is None else origin
    results: list[RunResult] = [s["result"] for s in shards]
    figures: dict[str, int] = {}
    for result in results:
        for key, value in result.figures.items():
            figures[key] = figures.get(key, 0) + value
    trace = hashlib.sha256(json.dumps([r.trace_sha256 for r in results]).encode()).hexdigest()
    return RunResult(
        seed=seed,
        statuses=_merged_statuses(results),
        scenarios={k: v for r in results for k, v in r.scenarios.items()},
        figures=figures,
        violations=[v for r in results for v in r.violations],
        trace_sha256=trace,
        # Wall time from the parent's start to now (one monotonic clock per host): start-ups included.
        wall_seconds=real_perf_counter() - origin,
        startup_seconds=first - origin,
        run_seconds=max(s["ended"] for s in shards) - first,
        emulator_seconds=sum(r.emulator_seconds for r in results),
        virtual_seconds=max(r.virtual_seconds for r in results),
        handler_seconds=sum(r.handler_seconds for r in results),
        process_seconds=sum(r.process_seconds for r in results),
        timelines={k: v for r in results for k, v in r.timelines.items()},
        executions={k: v for r in results for k, v in r.executions.items()},
        workers=len(results),
        denials=[f"shard {i}: {d}" for i, r in enumerate(results) for d in r.denials],
        expected={k: v for r in results for k, v in r.expected.items()},
        expected_compensations={k: v for r in results for k, v in r.expected_compensations.items()},
        dead_letters=[f"shard {i}: {d}" for i, r in enumerate(results) for d in r.dead_letters],
        dead_letters_expected=any(r.dead_letters_expected for r in results),
        other_endings={k: v for r in results for k, v in r.other_endings.items()},
        fault_profile=results[0].fault_profile,
        faults=_summed(r.faults for r in results),
        fault_expectations={k: v for r in results for k, v in r.fault_expectations.items()},
        traces={k: v for r in results for k, v in r.traces.items()},
        trace_violations={k: v for r in results for k, v in r.trace_violations.items()},
    )


def _summed(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Key by key sums (a key counted 0 everywhere stays, with 0)."""
    total: dict[str, int] = {}
    for one in counts:
        for key, value in one.items():
            total[key] = total.get(key, 0) + value
    return total


def stop_processes(processes: Sequence[multiprocessing.process.BaseProcess], *, finished: bool) -> None:
    """Join every started process; unless the work ``finished``, terminate the live ones first: a failed
    shard (or an interrupt) must not leave the others running, or waiting at a barrier."""
    for process in processes:
        if process.is_alive() and not finished:
            process.terminate()
        if process.pid is not None:
            process.join()
