"""``simulate``: many workflows of one plug-in on the local cloud, in one process or several."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workflowkit.chaos import FaultProfile
from workflowkit.simulator.planning import plan
from workflowkit.simulator.plugin import WorkflowPlugin
from workflowkit.simulator.results import RunResult
from workflowkit.simulator.runner import run_planned
from workflowkit.simulator.shards import run_sharded, shard_arrivals, shard_of, shard_seed


def run_simulation(
    *,
    plugin: WorkflowPlugin[Any],
    cdk_out: Path,
    count: int,
    seed: int,
    mix: Mapping[str, int] | None = None,
    progress: bool | None = None,
    keep_timelines: Iterable[str] | None = (),
    workers: int = 1,
    faults: FaultProfile | None = None,
    keep_executions: bool = False,
) -> RunResult:
    """``count`` workflows drawn from ``mix`` (the plug-in's default mix if None) with ``seed``.

    ``keep_timelines``: workflow ids whose timelines to keep; None keeps every workflow's.
    ``workers`` > 1 deals the workflows over that many processes (:mod:`workflowkit.simulator.shards`).
    ``faults``: the fault profile injected (:mod:`workflowkit.simulator.faulted`); None injects nothing.
    ``keep_executions``: the kept timelines' workflows also keep their state machine executions' history
    events (``RunResult.executions``, see :mod:`workflowkit.simulator.executions`).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    planned = plan(count, mix or plugin.default_mix, seed)
    if workers > 1:
        return run_sharded(
            plugin=plugin,
            cdk_out=cdk_out,
            planned=planned,
            seed=seed,
            workers=workers,
            progress=progress,
            keep_timelines=keep_timelines,
            faults=faults,
            keep_executions=keep_executions,
        )
    result, _, _ = run_planned(
        plugin=plugin,
        cdk_out=cdk_out,
        arrivals=list(enumerate(planned)),
        seed=seed,
        keep_timelines=keep_timelines,
        progress=progress,
        faults=faults,
        keep_executions=keep_executions,
    )
    return result


def replay_workflow(
    *,
    plugin: WorkflowPlugin[Any],
    cdk_out: Path,
    count: int,
    seed: int,
    workflow_id: str,
    mix: Mapping[str, int] | None = None,
    workers: int = 1,
    faults: FaultProfile | None = None,
) -> tuple[RunResult, int]:
    """Run again, in this process, the shard of a ``simulate`` run that ran ``workflow_id``: the same
    plan, the same shard seed, the same faults, so the same trace (the shard's trace hash is the one the
    run's hash was made of). Returns that shard's result, with the workflow's timeline and trace, and the
    shard's index."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    planned = plan(count, mix or plugin.default_mix, seed)
    shard = shard_of(planned, workers, workflow_id, plugin.shard_key)
    if shard is None:
        raise ValueError(
            f"no workflow {workflow_id} in this run ({planned[0][0]} ... {planned[-1][0]}): "
            "give the run's --count, --mix and --workers"
        )
    result, _, _ = run_planned(
        plugin=plugin,
        cdk_out=cdk_out,
        arrivals=shard_arrivals(planned, workers, shard, plugin.shard_key)
        if workers > 1
        else list(enumerate(planned)),
        seed=shard_seed(seed, shard) if workers > 1 else seed,
        keep_timelines=[workflow_id],
        progress=False,
        faults=faults,
        trace=[workflow_id],
    )
    return result, shard
