"""A campaign: many simulations (workflows x seeds) under one fault profile, as fast as the machine allows.

Each job (a workflow, a seed, a count) is the run ``simulate --workflow W --seed S --count N --workers K
--faults ...`` would make: the same plan, the same shards, the same shard seeds, so the same trace hash
per job. What differs is how the work is laid out: K processes (this one and K-1 started for the
campaign) each run their shard of every job in turn, so the interpreter's start-up and imports are paid
once per process, not once per job and shard. Each process reports its peak memory (its maximum
resident set size), the figures a CI log keeps beside the verdict.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import resource
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflowkit.chaos import FaultProfile
from workflowkit.clock import real_perf_counter
from workflowkit.simulator.invariants import TERMINAL
from workflowkit.simulator.loading import load_plugin
from workflowkit.simulator.planning import plan
from workflowkit.simulator.results import RunResult
from workflowkit.simulator.runner import run_planned
from workflowkit.simulator.shards import merge_shards, shard_arrivals, shard_seed, stop_processes

_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Job:
    workflow: str
    seed: int
    count: int

    def describe(self) -> str:
        return f"{self.workflow} seed {self.seed} x{self.count}"


@dataclass
class JobResult:
    job: Job
    result: RunResult

    @property
    def not_terminal(self) -> int:
        return sum(1 for status in self.result.statuses.values() if status["status"] not in TERMINAL)

    @property
    def sound(self) -> bool:
        """Healthy (no violation, nothing lost or dead-lettered, nothing refused), every workflow as
        expected and terminal."""
        return self.result.healthy and not self.result.mismatches() and self.not_terminal == 0


@dataclass
class CampaignResult:
    jobs: list[JobResult]
    wall_seconds: float
    peak_rss_mb: list[float] = field(default_factory=list)  # per process (the first: this one)

    @property
    def workflows(self) -> int:
        return sum(job.result.workflows for job in self.jobs)

    @property
    def sound(self) -> bool:
        return all(job.sound for job in self.jobs)

    def summary(self) -> dict[str, Any]:
        return {
            "jobs": [
                {
                    "workflow": job.job.workflow,
                    "seed": job.job.seed,
                    "workflows": job.result.workflows,
                    "trace_sha256": job.result.trace_sha256,
                    "invariant_violations": len(job.result.violations),
                    "scenario_mismatches": len(job.result.mismatches()),
                    "unaccounted_events": job.result.figures.get("unaccounted_events", 0),
                    "dead_letters": len(job.result.dead_letters),
                    "not_terminal": job.not_terminal,
                    "outcome_faults_hit": len(job.result.fault_expectations),
                    "faults_injected": dict(sorted(job.result.faults.items())),
                    "sound": job.sound,
                }
                for job in self.jobs
            ],
            "workflows": self.workflows,
            "wall_seconds": round(self.wall_seconds, 1),
            "workflows_per_second": round(self.workflows / self.wall_seconds, 1) if self.wall_seconds else 0,
            "peak_rss_mb": [round(mb, 1) for mb in self.peak_rss_mb],
            # What the campaign held at most at once, were every process at its peak together.
            "peak_rss_mb_total": round(sum(self.peak_rss_mb), 1),
            "sound": self.sound,
        }


def run_campaign(
    jobs: Sequence[Job], *, cdk_out: Path, workers: int, faults: FaultProfile | None
) -> CampaignResult:
    """Run every job over ``workers`` processes, each running its shard of every job, job after job.

    This process is the first of them (shard 0): it has imported what a shard needs already, and one
    process fewer is one interpreter's memory less. The others are started for the campaign and report
    each shard's result as it ends; this one collects them once its own shards are done.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    context = multiprocessing.get_context("spawn")  # no inherited mock or frozen clock, on every OS
    queue = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(_Work(list(jobs), shard, workers, cdk_out, faults), queue),
            name=f"workflowkit-campaign-{shard}",
        )
        for shard in range(1, workers)
    ]
    started = real_perf_counter()
    shards: dict[tuple[int, int], dict[str, Any]] = {}
    peaks: dict[int, float] = {}
    try:
        for process in processes:
            process.start()
        for index, result in _run_shards(_Work(list(jobs), 0, workers, cdk_out, faults)):
            shards[(index, 0)] = result
        peaks[0] = _peak_rss_mb()
        while len(peaks) < workers:
            while not queue.empty():
                kind, *payload = queue.get()
                if kind == "shard":
                    index, shard, result = payload
                    shards[(index, shard)] = result
                elif kind == "done":
                    peaks[payload[0]] = payload[1]
                else:
                    raise RuntimeError(f"campaign process {payload[0]} failed: {payload[1]}")
            failed = [p.name for p in processes if p.exitcode not in (None, 0)]
            if failed and len(peaks) < workers:
                raise RuntimeError(f"campaign process(es) {', '.join(failed)} failed")
            time.sleep(_POLL_SECONDS)
    finally:
        stop_processes(processes, finished=len(peaks) >= workers)
    wall = real_perf_counter() - started
    results = [
        JobResult(job, merge_shards(job.seed, [shards[(index, shard)] for shard in range(workers)]))
        for index, job in enumerate(jobs)
    ]
    return CampaignResult(results, wall, [peaks[shard] for shard in range(workers)])


@dataclass(frozen=True)
class _Work:
    """What one campaign process runs: shard ``shard`` of ``workers`` of every job."""

    jobs: list[Job]
    shard: int
    workers: int
    cdk_out: Path
    faults: FaultProfile | None


def _worker(work: _Work, queue: Any) -> None:
    try:
        for index, result in _run_shards(work):
            queue.put(("shard", index, work.shard, result))
        queue.put(("done", work.shard, _peak_rss_mb()))
    except BaseException as error:  # reported to the parent, which raises it
        queue.put(("error", work.shard, f"{type(error).__name__}: {error}"))
        raise


def _run_shards(work: _Work) -> Iterator[tuple[int, dict[str, Any]]]:
    """Shard ``work.shard`` of every job, one after another: (job index, the shard's result)."""
    shard, workers = work.shard, work.workers
    for index, job in enumerate(work.jobs):
        plugin = load_plugin(job.workflow)
        planned = plan(job.count, plugin.default_mix, job.seed)
        result, started, ended = run_planned(
            plugin=plugin,
            cdk_out=work.cdk_out,
            arrivals=shard_arrivals(planned, workers, shard, plugin.shard_key)
            if workers > 1
            else list(enumerate(planned)),
            seed=shard_seed(job.seed, shard) if workers > 1 else job.seed,
            keep_timelines=(),
            progress=False,
            faults=work.faults,
        )
        yield index, {"result": _verdict_only(result), "started": started, "ended": ended}
        del result
        _give_memory_back()


def _peak_rss_mb() -> float:
    """This process's peak resident memory (``ru_maxrss``: kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# What the campaign's verdict reads of a status document (mismatches, other endings, terminal or not).
_VERDICT_FIELDS = ("status", "compensatedSteps", "reason", "workflowType", "definitionVersion")


def _verdict_only(result: RunResult) -> RunResult:
    """The result, its status documents cut to what the verdict reads: a shard's documents hold every
    workflow's history, tens of megabytes the process collecting every job's results need not hold."""
    result.statuses = {
        workflow_id: {key: status[key] for key in _VERDICT_FIELDS if key in status}
        for workflow_id, status in result.statuses.items()
    }
    return result


def _give_memory_back() -> None:
    """Between jobs: collect the finished cloud, and hand freed heap pages back to the system (glibc),
    so the next job's peak is not stacked on the last one's leftovers."""
    gc.collect()
    # Not glibc: the allocator keeps its pages, nothing else changes.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
