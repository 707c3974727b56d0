"""What enforcing the template's permissions costs a simulation: the same orders, enforced and not.

    .venv/bin/python benchmarks/permission_checks.py --orders 1000 --cdk-out cdk.out

Each configuration runs in a fresh process of its own (a second run in one process is slower for
reasons that have nothing to do with permissions), alternating, ``--rounds`` times; the table prints
the best of each side by side: wall seconds from process start to its result (start-up included:
interpreter, imports, building the local cloud) and the run alone (first order to quiescence),
workflows per second of the run, checks and refusals, and the trace hash (the same: enforcement
changes nothing a correct template does).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _one(orders: int, seed: int, cdk_out: Path, enforced: bool) -> None:
    from workflowkit.simulator import load_plugin, plan, run_planned  # noqa: PLC0415 - timed in the child

    plugin = load_plugin()  # the default workflow's plug-in (simulations.DEFAULT_WORKFLOW)
    arrivals = list(enumerate(plan(orders, plugin.default_mix, seed)))
    result, started, ended = run_planned(
        plugin=plugin,
        cdk_out=cdk_out,
        arrivals=arrivals,
        seed=seed,
        keep_timelines=(),
        enforce_permissions=enforced,
    )
    figures = result.figures
    print(
        json.dumps(
            {
                "run": ended - started,
                "workflows": result.workflows,
                "checks": figures["access_checks"],
                "denials": figures["access_denials"],
                "trace": result.trace_sha256,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"))
    parser.add_argument("--one", choices=("enforced", "not"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.orders, args.seed, args.cdk_out, args.one == "enforced")
        return
    best: dict[str, tuple[float, dict[str, float]]] = {}
    for _ in range(args.rounds):
        for side in ("not", "enforced"):
            command = [sys.executable, __file__, "--one", side, "--orders", str(args.orders)]
            command += ["--seed", str(args.seed), "--cdk-out", str(args.cdk_out)]
            started = time.perf_counter()
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            wall = time.perf_counter() - started
            figures = json.loads(output.strip().splitlines()[-1])
            if side not in best or wall < best[side][0]:
                best[side] = (wall, figures)
    print(f"{args.orders} orders, seed {args.seed}, best of {args.rounds} fresh processes each")
    header = f"{'process s':>10}{'run s':>8}{'wf/s (run)':>12}{'checks':>9}{'denials':>9}"
    print(f"  {'permissions':<14}{header}  trace")
    for side, label in (("not", "not enforced"), ("enforced", "enforced")):
        wall, f = best[side]
        print(
            f"  {label:<14}{wall:>10.2f}{f['run']:>8.2f}{f['workflows'] / f['run']:>12.1f}"
            f"{int(f['checks']):>9}{int(f['denials']):>9}  {str(f['trace'])[:16]}"
        )
    process = best["enforced"][0] / best["not"][0]
    run = best["enforced"][1]["run"] / best["not"][1]["run"]
    print(f"  enforcement: {process:.2f}x the process wall time, {run:.2f}x the run")


if __name__ == "__main__":
    main()
