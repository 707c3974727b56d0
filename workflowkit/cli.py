"""``workflowkit``: run the synthesized app locally.

workflowkit demo       one order per scenario, each workflow's outcome and timeline
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from workflowkit.catalog_docs import CATALOG_DIR
from workflowkit.catalog_docs import write as write_catalog
from workflowkit.clock import real_perf_counter
from workflowkit.cloud import LocalCloud
from workflowkit.orders import OrderDriver
from workflowkit.report import format_timeline, ledger_figures, unaccounted_summary, workflow_timeline
from workflowkit.scenarios import SCENARIOS, order_for
from workflowkit.template import TemplateError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="workflowkit", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run one order per scenario and print each outcome and timeline")
    _common(demo)
    demo.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="run only these scenarios (repeatable); default: all",
    )
    catalog = commands.add_parser(
        "catalog", help="write the event catalog (JSON Schema per event and version)"
    )
    catalog.add_argument("--out", type=Path, default=CATALOG_DIR)
    catalog.add_argument(
        "--functions", type=Path, default=Path("functions"), help="the app's functions folder"
    )
    catalog.set_defaults(handler=run_catalog)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except TemplateError as error:
        print(f"workflowkit: {error}", file=sys.stderr)
        return 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cdk-out", type=Path, default=Path("cdk.out"), help="the synthesized app (cdk synth output)"
    )
    parser.add_argument("--seed", type=int, default=7, help="the seed of the run (same seed, same run)")
    parser.set_defaults(handler=_commands[parser.prog.split()[-1]])


def run_demo(args: argparse.Namespace) -> int:
    names = args.scenario or list(SCENARIOS)
    started = real_perf_counter()
    with LocalCloud(cdk_out=args.cdk_out, seed=args.seed) as cloud:
        orders = OrderDriver(cloud)
        orders.stock()
        for name in names:
            orders.submit_http(order_for(SCENARIOS[name], f"demo-{name}"))
        cloud.run_until_quiescent()
        wall = real_perf_counter() - started
        statuses = {name: orders.status(f"demo-{name}") for name in names}

        print(
            f"WorkflowKit demo: the order workflow on the local cloud "
            f"(app: {args.cdk_out}, seed {args.seed})\n"
        )
        print(f"{'scenario':<22}{'expected':<18}{'final status':<18}{'compensated (in order)':<36}ok")
        failures = 0
        for name in names:
            scenario, status = SCENARIOS[name], statuses[name] or {}
            final = status.get("status", "MISSING")
            compensated = ", ".join(status.get("compensatedSteps", [])) or "-"
            ok = final == scenario.expected_status and tuple(status.get("compensatedSteps", [])) == (
                scenario.expected_compensations
            )
            failures += not ok
            print(
                f"{name:<22}{scenario.expected_status:<18}{final:<18}{compensated:<36}{'yes' if ok else 'NO'}"
            )

        for name in names:
            workflow_id = f"demo-{name}"
            found = statuses[name]
            print(f"\n== {workflow_id}: {SCENARIOS[name].description}")
            if found and found.get("reason"):
                print(f"   reason: {found['reason']}")
            print(format_timeline(workflow_timeline(cloud, found, workflow_id), start=cloud.clock.start))

        figures = ledger_figures(cloud)
        print(
            f"\nevents published {figures['events_published']}, "
            f"deliveries processed {figures['events_delivered']}, "
            f"dead-lettered {figures['dead_lettered']}, unaccounted {figures['unaccounted_events']}; "
            f"virtual time {cloud.clock.elapsed()}, wall time {wall:.2f} s"
        )
        for line in unaccounted_summary(cloud.ledger.unaccounted()):
            print(f"  unaccounted: {line}")
        return 0 if failures == 0 and figures["unaccounted_events"] == 0 else 1


def run_catalog(args: argparse.Namespace) -> int:
    written = write_catalog(args.out, args.functions.resolve())
    print(f"wrote {len(written)} files to {args.out}")
    return 0


_commands = {"demo": run_demo}
