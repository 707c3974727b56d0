"""Local cloud throughput: complete order workflows per second of wall time, and the overhead ratio.

    .venv/bin/python benchmarks/local_cloud_throughput.py --orders 1000 --cdk-out cdk.out

Runs the default scenario mix through the synthesized app (``make synth`` first) and prints, side by
side with the targets of issue 3:

- workflows per second of wall time (target >= 200 on a 2-core machine);
- the overhead ratio: wall time / time spent inside handler code (the physical floor is 1.0;
  target <= 3), i.e. how much the local cloud adds around the app's own code;
- where the wall time went: inside handlers, and everything else (moto's Step Functions interpreter,
  EventBridge delivery, SQS polling, request dispatch).

A benchmark, not a test: it prints figures and exits 0; machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workflowkit.simulation import run_simulation  # noqa: E402

TARGET_WORKFLOWS_PER_SECOND = 200.0
TARGET_OVERHEAD_RATIO = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    args = parser.parse_args()

    result = run_simulation(cdk_out=args.cdk_out, orders=args.orders, seed=args.seed, progress=True)
    summary = result.summary()
    wall, handlers = result.wall_seconds, result.handler_seconds
    rate = result.workflows / wall if wall else 0.0
    ratio = wall / handlers if handlers else float("inf")

    print(f"\nlocal cloud throughput: {args.orders} orders, default mix, seed {args.seed}")
    print(f"{'figure':<36}{'measured':>14}{'target':>12}{'met':>6}")
    rate_met = _met(rate >= TARGET_WORKFLOWS_PER_SECOND)
    ratio_met = _met(ratio <= TARGET_OVERHEAD_RATIO)
    print(f"{'workflows per second (wall)':<36}{rate:>14.1f}{'>= 200':>12}{rate_met:>6}")
    print(f"{'overhead ratio (wall / handlers)':<36}{ratio:>14.2f}{'<= 3':>12}{ratio_met:>6}")
    print(f"\n{'where the wall time went':<36}{'seconds':>14}{'share':>12}")
    for label, seconds in (
        ("inside handlers", handlers),
        ("everything else", wall - handlers),
        ("total", wall),
    ):
        print(f"{label:<36}{seconds:>14.2f}{seconds / wall:>12.0%}")
    print(
        f"\nworkflows {summary['workflows']}, by status {summary['by_status']}, "
        f"unaccounted {summary['unaccounted_events']}, "
        f"invariant violations {summary['invariant_violations']}, "
        f"virtual time {summary['virtual_seconds']:.0f} s"
    )
    return 0


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
