"""The ``cost`` command's options and handler (registered by :mod:`workflowkit.cli`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workflowkit.cost.chart import write_chart
from workflowkit.cost.prices import DEFAULT_PRICES
from workflowkit.cost.report import format_report
from workflowkit.cost.run import run_cost
from workflowkit.simulator import WorkflowPlugin, format_mix, parse_mix

DEFAULT_MONTHLY = 1_000_000
DEFAULT_SAMPLE = 1000


def configure(parser: argparse.ArgumentParser, plugin: WorkflowPlugin[Any] | None) -> None:
    aliases = [f"--{plugin.unit}"] if plugin and plugin.unit not in ("count", "workflows") else []
    parser.add_argument(
        "--count",
        *aliases,
        dest="count",
        type=float,
        default=DEFAULT_MONTHLY,
        help=f"workflows a month to price (default {DEFAULT_MONTHLY:,})",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE,
        help=f"workflows simulated and metered (default {DEFAULT_SAMPLE})",
    )
    mix = format_mix(plugin.default_mix) if plugin else None
    parser.add_argument(
        "--mix", default=mix, help=f"scenario weights (default {mix or 'the plug-in default'})"
    )
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="the price file (JSON)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (every bill line)")
    parser.add_argument(
        "--chart", type=Path, help="write the SVG chart there (e.g. docs/cost/cost-by-pattern.svg)"
    )
    parser.set_defaults(handler=run_cost_command)


def run_cost_command(args: argparse.Namespace) -> int:
    plugin: WorkflowPlugin[Any] = args.plugin_object
    if args.count <= 0 or args.sample < 1:
        raise ValueError("--count must be positive and --sample at least 1")
    report = run_cost(
        plugin=plugin,
        cdk_out=args.cdk_out,
        workflows_a_month=args.count,
        sample=args.sample,
        seed=args.seed,
        mix=parse_mix(args.mix, plugin.scenarios) if args.mix else None,
        prices_path=args.prices,
    )
    if args.chart:
        write_chart(report, args.chart)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(format_report(report))
        if args.chart:
            print(f"chart written to {args.chart}")
    return 0
