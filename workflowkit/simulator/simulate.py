"""``simulate``: many workflows of one plug-in on the local cloud, in one process or several."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workflowkit.simulator.planning import plan
from workflowkit.simulator.plugin import WorkflowPlugin
from workflowkit.simulator.results import RunResult
from workflowkit.simulator.runner import run_planned
from workflowkit.simulator.shards import run_sharded


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
) -> RunResult:
    """``count`` workflows drawn from ``mix`` (the plug-in's default mix if None) with ``seed``.

    ``keep_timelines``: workflow ids whose timelines to keep; None keeps every workflow's.
    ``workers`` > 1 deals the workflows over that many processes (:mod:`workflowkit.simulator.shards`).
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
        )
    result, _, _ = run_planned(
        plugin=plugin,
        cdk_out=cdk_out,
        arrivals=list(enumerate(planned)),
        seed=seed,
        keep_timelines=keep_timelines,
        progress=progress,
    )
    return result
