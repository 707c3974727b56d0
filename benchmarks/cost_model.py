"""Cost model: USD per 1,000 workflows and end-to-end latency per design, and what the model cost to run.

    .venv/bin/python benchmarks/cost_model.py --workflow order --sample 1000 --orders 1000000

Runs ``workflowkit cost``'s model (a metered sample on the synthesized app, ``make synth`` first) and prints,
per design, USD per 1,000 workflows at the monthly volume given and the happy path's p50/p99, then the
sample size, its wall time (start-up included) and virtual time. A benchmark, not a test: it prints figures
and exits 0. The hybrid is measured, the other designs modelled from it (docs/cost.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workflowkit.clock import real_perf_counter  # noqa: E402
from workflowkit.cost import run_cost  # noqa: E402
from workflowkit.cost.designs import TITLES  # noqa: E402
from workflowkit.simulator import load_plugin  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workflow", default=None)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--orders", type=float, default=1_000_000, help="workflows a month")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    args = parser.parse_args()

    started = real_perf_counter()
    plugin = load_plugin(args.workflow)
    report = run_cost(
        plugin=plugin,
        cdk_out=args.cdk_out,
        workflows_a_month=args.orders,
        sample=args.sample,
        seed=args.seed,
    )
    total = real_perf_counter() - started
    print(f"\ncost model: {plugin.name}, {args.orders:,.0f} workflows a month", end="")
    print(f", prices read {report.prices.read_on}")
    print(f"{'design':<34}{'basis':>10}{'USD / 1k':>12}{'USD / month':>14}{'p50 ms':>10}{'p99 ms':>10}")
    for name, result in report.designs.items():
        print(
            f"{TITLES[name]:<34}{result.basis:>10}{report.per_thousand(name):>12.4f}{result.total:>14,.2f}"
            f"{result.latency.p50_ms:>10,.0f}{result.latency.p99_ms:>10,.0f}"
        )
    print(
        f"\nsample: {report.sample} workflows (seed {args.seed}); "
        f"sample run {report.wall_seconds:.1f} s wall "
        f"(start-up included), {report.virtual_seconds:,.0f} s virtual; whole model {total:.1f} s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
