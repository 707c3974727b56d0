"""What enforcing the template's permissions costs a simulation: the same orders, enforced and not.

    .venv/bin/python benchmarks/permission_checks.py --orders 500 --cdk-out cdk.out

Both runs happen in this one process, one after the other (the local cloud is process-wide), each
from a fresh LocalCloud; the figures are wall seconds from submitting the first order to quiescence
(the cloud's start-up, ~1-2 s, is excluded from both), plus the number of checks and refusals.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workflowkit.scenarios import DEFAULT_MIX
from workflowkit.simulation import plan, run_planned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"))
    args = parser.parse_args()
    arrivals = list(enumerate(plan(args.orders, DEFAULT_MIX, args.seed)))
    rows = []
    for enforced in (False, True):
        result, started, ended = run_planned(
            cdk_out=args.cdk_out,
            arrivals=arrivals,
            seed=args.seed,
            keep_timelines=(),
            enforce_permissions=enforced,
        )
        rows.append((enforced, ended - started, result))
    print(f"{args.orders} orders, seed {args.seed}: wall seconds from first order to quiescence")
    print(f"  {'permissions':<14}{'wall s':>9}{'workflows/s':>13}{'denials':>9}  trace sha256")
    for enforced, wall, result in rows:
        label = "enforced" if enforced else "not enforced"
        print(
            f"  {label:<14}{wall:>9.2f}{result.workflows / wall:>13.1f}"
            f"{result.figures['access_denials']:>9}  {result.trace_sha256[:16]}"
        )
    print(f"  cost of enforcement: {rows[1][1] / rows[0][1]:.2f}x the unenforced wall time")


if __name__ == "__main__":
    main()
