"""Local cloud throughput: complete order workflows per second of wall time, and the overhead ratio.

    .venv/bin/python benchmarks/local_cloud_throughput.py --orders 1000 --cdk-out cdk.out

Runs the default scenario mix through the synthesized app (``make synth`` first), once in one
process and once over ``--workers`` processes (one local cloud each, orders dealt round-robin; see
docs/decisions/0014), and prints, side by side with the targets of issue 3:

- workflows per second of wall time (target >= 200 on a 2-core machine);
- the overhead ratio: the processes' wall time / time spent inside handler code (the physical floor
  is 1.0; target <= 3), i.e. how much the local cloud adds around the app's own code;
- where the wall time went: inside handlers, and everything else (the ASL interpreter, EventBridge
  delivery, SQS polling, request dispatch).

A benchmark, not a test: it prints figures and exits 0; machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workflowkit.simulator import RunResult, load_plugin, run_simulation  # noqa: E402

TARGET_WORKFLOWS_PER_SECOND = 200.0
TARGET_OVERHEAD_RATIO = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="processes for the second run (default 2)")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--workflow", help="the simulation plug-in (default: simulations.DEFAULT_WORKFLOW)")
    args = parser.parse_args()

    plugin = load_plugin(args.workflow)
    runs: list[tuple[str, RunResult]] = []
    for workers in sorted({1, args.workers}):
        result = run_simulation(
            plugin=plugin,
            cdk_out=args.cdk_out,
            count=args.orders,
            seed=args.seed,
            workers=workers,
            progress=True,
        )
        runs.append((f"{workers} process{'es' if workers > 1 else ''}", result))

    print(f"\nlocal cloud throughput: {args.orders} orders, default mix, seed {args.seed}")
    header = "".join(f"{label:>16}" for label, _ in runs)
    print(f"{'figure':<36}{header}{'target':>10}")
    rates = [r.workflows / r.wall_seconds if r.wall_seconds else 0.0 for _, r in runs]
    ratios = [r.overhead_ratio for _, r in runs]
    print(f"{'workflows per second (wall)':<36}{_row(rates, '.1f')}{'>= 200':>10}")
    print(f"{'  target met':<36}{_row([_met(x >= TARGET_WORKFLOWS_PER_SECOND) for x in rates])}")
    print(f"{'overhead ratio (busy / handlers)':<36}{_row(ratios, '.2f')}{'<= 3':>10}")
    print(f"{'  target met':<36}{_row([_met(x <= TARGET_OVERHEAD_RATIO) for x in ratios])}")
    print(f"{'wall seconds':<36}{_row([r.wall_seconds for _, r in runs], '.2f')}")
    print(f"{'process seconds (summed)':<36}{_row([r.process_seconds for _, r in runs], '.2f')}")
    print(f"{'  of which inside handlers':<36}{_row([r.handler_seconds for _, r in runs], '.2f')}")
    for label, result in runs:
        summary = result.summary()
        print(
            f"\n{label}: workflows {summary['workflows']}, by status {summary['by_status']}, "
            f"scenario mismatches {summary['scenario_mismatches']}, "
            f"unaccounted {summary['unaccounted_events']}, "
            f"invariant violations {summary['invariant_violations']}, "
            f"virtual time {summary['virtual_seconds']:.0f} s"
        )
    return 0


def _row(values: list[object], spec: str = "") -> str:
    return "".join(f"{value:>16{spec}}" for value in values)


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
