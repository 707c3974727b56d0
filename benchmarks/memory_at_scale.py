"""Memory at scale: the peak resident memory of one ``simulate`` process, by number of workflows.

    .venv/bin/python benchmarks/memory_at_scale.py [--counts 1000,10000] [--full] [--seed 7]

Runs ``workflowkit simulate --orders N --seed 7 --json --no-progress`` as a subprocess for each N, in one
process (no --workers), each in a fresh helper process so one run's peak cannot hide the next one's, and
reads its peak resident memory (``getrusage(RUSAGE_CHILDREN).ru_maxrss``: what ``/usr/bin/time -v``
calls "Maximum resident set size"). Printed per run: the peak, the memory per workflow above the
smallest run's (the slope: what each more workflow keeps), the run's time, its trace hash and verdict.

Issue 11's target: 100,000 workflows in one run under 2 GB. ``--full`` also runs 100,000 (long: about
half an hour to an hour and a half on this shared 2-core machine); without it the 100,000 figure is
EXTRAPOLATED from the two largest runs' slope and printed as such, never as a measurement.

A benchmark, not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measured_run import measure

ROOT = Path(__file__).resolve().parents[1]
TARGET_WORKFLOWS = 100_000
TARGET_MB = 2048.0  # issue 11: 100,000 workflows in one run under 2 GB


@dataclass
class Run:
    count: int
    seconds: float
    peak_mb: float
    summary: dict[str, Any]


def run_once(count: int, args: argparse.Namespace) -> Run:
    command = [
        sys.executable,
        "-m",
        "workflowkit",
        "simulate",
        "--orders",
        str(count),
        "--seed",
        str(args.seed),
        "--json",
        "--no-progress",
        "--cdk-out",
        str(args.cdk_out),
    ]
    run = measure(command, cwd=ROOT)
    try:
        summary = json.loads(run.stdout)
    except ValueError:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}") from None
    return Run(count, run.seconds, run.peak_mb, summary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", default="1000,10000", help="workflows per run, comma-separated")
    parser.add_argument("--full", action="store_true", help=f"also run {TARGET_WORKFLOWS:,} workflows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    args = parser.parse_args()

    counts = sorted({int(text) for text in args.counts.split(",") if text.strip()})
    if args.full:
        counts = sorted({*counts, TARGET_WORKFLOWS})
    runs = [run_once(count, args) for count in counts]

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nmemory at scale: simulate --orders N --seed {args.seed}, one process (load {load})")
    print(f"{'workflows':>10}{'peak MB':>10}{'KB/workflow*':>14}{'seconds':>10}  verdict, trace")
    smallest = runs[0]
    for run in runs:
        slope = _slope(smallest, run)
        summary = run.summary
        verdict = (
            f"mismatches {summary['scenario_mismatches']}, violations {summary['invariant_violations']}, "
            f"unaccounted {summary['unaccounted_events']}"
        )
        print(
            f"{run.count:>10,}{run.peak_mb:>10.0f}{'' if slope is None else f'{slope:.1f}':>14}"
            f"{run.seconds:>10.0f}  {verdict}, {summary['trace_sha256'][:12]}"
        )
    print("  * peak memory above the smallest run's, per workflow more")

    measured = next((run for run in runs if run.count == TARGET_WORKFLOWS), None)
    if measured is not None:
        figure, how = measured.peak_mb, "measured"
    elif len(runs) >= 2:
        low, high = runs[-2], runs[-1]
        slope_mb = (high.peak_mb - low.peak_mb) / (high.count - low.count)
        figure = high.peak_mb + slope_mb * (TARGET_WORKFLOWS - high.count)
        how = f"EXTRAPOLATED from {low.count:,} and {high.count:,} (not measured; --full measures it)"
    else:
        print(f"\n{TARGET_WORKFLOWS:,} workflows: give two counts or --full to see the figure")
        return 0
    met = "yes" if figure < TARGET_MB else "NO"
    print(f"\n{TARGET_WORKFLOWS:,} workflows: peak {figure:,.0f} MB ({how})")
    print(f"  target < {TARGET_MB:,.0f} MB (issue 11), met: {met}")
    return 0


def _slope(smallest: Run, run: Run) -> float | None:
    if run.count == smallest.count:
        return None
    return (run.peak_mb - smallest.peak_mb) * 1024 / (run.count - smallest.count)


if __name__ == "__main__":
    raise SystemExit(main())
