"""``workflowkit``: run the synthesized app locally.

workflowkit demo                 one workflow per scenario: each workflow's outcome and timeline
workflowkit simulate             many workflows from a scenario mix: figures, invariants, trace hash
workflowkit timeline ID          one workflow's timeline, from a re-run (same seed) or a saved run;
                                 --executions: its state machine executions too, event by event
workflowkit send EVENTS.jsonl    your own events on the local bus: figures and per-workflow details
workflowkit catalog              write the event catalog (JSON Schemas + index) to docs/events
workflowkit preflight            check the AWS account and region (your credentials) before cdk deploy

``demo``, ``simulate``, ``timeline`` and ``send`` run one workflow's simulation plug-in: ``--workflow
NAME`` (``simulations.NAME``) or ``--plugin MODULE`` (see :mod:`workflowkit.simulator.loading`). The
plug-in is loaded before the options are parsed: its scenarios are ``--scenario``'s choices, its mix
``--mix``'s default, and what it calls an instance (``--<unit>``) an alias of ``--count``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workflowkit import docgen, preflight
from workflowkit.catalog_docs import CATALOG_DIR
from workflowkit.catalog_docs import write as write_catalog
from workflowkit.chaos import FAULTS, PROFILES, FaultProfile, build_profile
from workflowkit.clock import real_perf_counter
from workflowkit.cloud import LocalCloud
from workflowkit.cost import command as cost_command
from workflowkit.simulator import (
    RunResult,
    WorkflowPlugin,
    format_mix,
    load_plugin,
    parse_mix,
    run_send,
    run_simulation,
    workflow_details,
)
from workflowkit.simulator.campaign import Job, run_campaign
from workflowkit.simulator.executions import format_executions
from workflowkit.simulator.loading import available_workflows
from workflowkit.simulator.report import (
    denial_summary,
    format_timeline,
    ledger_figures,
    unaccounted_summary,
    workflow_timeline,
)
from workflowkit.simulator.simulate import replay_workflow
from workflowkit.template import TemplateError

# The commands that run a workflow's simulation plug-in.
PLUGGED_COMMANDS = ("demo", "simulate", "timeline", "send", "cost")
DEFAULT_COUNT = 100


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = _parser(_plugin_named_in(arguments))
        args = parser.parse_args(arguments)
        return int(args.handler(args))
    except (TemplateError, ValueError, OSError) as error:
        print(f"workflowkit: {error}", file=sys.stderr)
        return 2


def _plugin_named_in(arguments: list[str]) -> WorkflowPlugin[Any] | None:
    """The plug-in a plugged command names (or the default one); None for the other commands."""
    if not arguments or arguments[0] not in PLUGGED_COMMANDS:
        return None
    return load_plugin(_option(arguments, "--workflow"), module=_option(arguments, "--plugin"))


def _option(arguments: list[str], name: str) -> str | None:
    for index, token in enumerate(arguments):
        if token == "--":
            break
        if token == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if token.startswith(f"{name}="):
            return token.partition("=")[2]
    return None


class _Parser(argparse.ArgumentParser):
    """Options spelled out, never abbreviated: the plug-in is chosen before parsing from ``--workflow``
    and ``--plugin`` as typed, so ``--workflo NAME`` must be refused, not run the default workflow.
    Every command's parser is one (``add_subparsers`` makes its parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})


def _parser(plugin: WorkflowPlugin[Any] | None) -> argparse.ArgumentParser:
    parser = _Parser(prog="workflowkit", description="Run the synthesized app locally.")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = _with_plugin(
        commands.add_parser("demo", help="one workflow per scenario: outcomes and timelines"), plugin
    )
    demo.add_argument(
        "--scenario",
        action="append",
        choices=sorted(plugin.scenarios) if plugin else None,
        help="only these (repeatable)",
    )
    demo.set_defaults(handler=run_demo)

    simulate = _with_plugin(
        commands.add_parser("simulate", help="many workflows: figures, invariants, trace hash"), plugin
    )
    _with_run(simulate, plugin)
    simulate.add_argument("--json", action="store_true", help="print one JSON object")
    simulate.add_argument("--save", type=Path, help="save the run (statuses, timelines) for 'timeline --run'")
    simulate.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    _with_faults(simulate, default="none")
    simulate.add_argument(
        "--replay",
        metavar="ID",
        help="run again only the part of this run (same --seed, --count, --mix, --workers, faults) "
        "that ran workflow ID, and print what happened to it",
    )
    simulate.set_defaults(handler=run_simulate)

    timeline = _with_plugin(
        commands.add_parser("timeline", help="one workflow's timeline, event by event"), plugin
    )
    timeline.add_argument("workflow_id", help="the correlation id: sim-000042, demo-<scenario>, ...")
    _with_run(timeline, plugin)
    timeline.add_argument(
        "--run", type=Path, help="read a run saved by 'simulate --save' instead of re-running"
    )
    timeline.add_argument(
        "--executions",
        action="store_true",
        help="also every state machine execution of the workflow, event by event (GetExecutionHistory)",
    )
    timeline.set_defaults(handler=run_timeline)

    send = _with_plugin(
        commands.add_parser("send", help="put your own events (JSON lines) on the local bus"), plugin
    )
    send.add_argument(
        "events", type=Path, help="JSON lines, each a PutEvents entry: Source, DetailType, Detail"
    )
    send.add_argument("--json", action="store_true", help="print one JSON object")
    send.set_defaults(handler=run_send_command)

    catalog = commands.add_parser(
        "catalog", help="write the event catalog (JSON Schema per event and version)"
    )
    catalog.add_argument("--out", type=Path, default=CATALOG_DIR)
    catalog.add_argument(
        "--functions", type=Path, default=Path("functions"), help="the app's functions folder"
    )
    catalog.set_defaults(handler=run_catalog)

    docs = commands.add_parser(
        "docs", help="regenerate the docs of every deployed workflow (flowchart, event catalog)"
    )
    docgen.add_arguments(docs)
    docs.set_defaults(handler=docgen.run)

    new = commands.add_parser("new", help="scaffold a workflow or a step the way the kit expects them")
    kinds = new.add_subparsers(dest="kind", required=True)
    new_workflow = kinds.add_parser(
        "workflow", help="a workflow: declaration, contracts, a first step, a plug-in"
    )
    new_workflow.add_argument("name", help="the workflow's name: [a-z][a-z0-9]*, at most 24 characters")
    new_workflow.add_argument("--step", default="process", help="its first step's name (default process)")
    new_step = kinds.add_parser("step", help="a step appended to a scaffolded workflow, and its undo")
    new_step.add_argument("workflow", help="the workflow's name")
    new_step.add_argument("name", help="the step's name: [a-z][a-z0-9]*, at most 12 characters")
    for scaffold in (new_workflow, new_step):
        scaffold.add_argument(
            "--pattern",
            choices=("choreographed", "orchestrated"),
            default="choreographed",
            help="who runs it",
        )
        scaffold.add_argument("--root", type=Path, default=Path("."), help="the project's root folder")
    new.set_defaults(handler=run_new)

    _campaign_parser(commands)

    check = commands.add_parser(
        "preflight", help="check the AWS account and region with your credentials before cdk deploy"
    )
    check.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="the synthesized app (cdk.out)")
    check.add_argument("--stage", default="dev", help="the stage whose stack to check (default dev)")
    check.add_argument("--region", help="the region (default: your AWS profile's, else cdk.out's)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=run_preflight)
    cost = commands.add_parser("cost", help="what a workflow costs a month in each pattern, and its latency")
    cost_command.configure(_with_plugin(cost, plugin), plugin)
    return parser


def _with_faults(parser: argparse.ArgumentParser, *, default: str) -> None:
    parser.add_argument(
        "--faults",
        choices=list(PROFILES),
        default=default,
        help=f"the fault profile the local cloud injects, seeded by --seed (default {default})",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help=f"one fault's rate, within [0, 1], over the profile's (repeatable): {', '.join(FAULTS)}",
    )


def _campaign_parser(commands: Any) -> None:
    campaign = commands.add_parser(
        "campaign", help="many simulations (workflows x seeds) under a fault profile, one verdict"
    )
    campaign.add_argument(
        "--workflows", default=None, help="comma-separated workflows (default: every simulations plug-in)"
    )
    campaign.add_argument("--seeds", default="11,12", help="comma-separated seeds (default 11,12)")
    campaign.add_argument("--count", type=int, default=2500, help="workflows per job (default 2500)")
    campaign.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    _with_faults(campaign, default="chaos")
    campaign.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="the synthesized app")
    campaign.add_argument("--json", action="store_true", help="print one JSON object")
    campaign.set_defaults(handler=run_campaign_command)


def _with_plugin(
    parser: argparse.ArgumentParser, plugin: WorkflowPlugin[Any] | None
) -> argparse.ArgumentParser:
    """The options of a command that runs a workflow's plug-in on the synthesized app."""
    named = parser.add_mutually_exclusive_group()
    named.add_argument(
        "--workflow",
        metavar="NAME",
        help="the workflow whose plug-in to run: simulations.NAME (default: simulations.DEFAULT_WORKFLOW"
        + (f", {plugin.name}" if plugin else "")
        + ")",
    )
    named.add_argument(
        "--plugin", metavar="MODULE", help="a plug-in elsewhere: MODULE's PLUGIN (or MODULE:NAME)"
    )
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="the synthesized app (cdk.out)")
    parser.add_argument("--seed", type=int, default=7, help="the run's seed: same seed, same run")
    parser.set_defaults(plugin_object=plugin)
    return parser


def _with_run(parser: argparse.ArgumentParser, plugin: WorkflowPlugin[Any] | None) -> None:
    aliases = [f"--{plugin.unit}"] if plugin and plugin.unit not in ("count", "workflows") else []
    parser.add_argument(
        "--count",
        *aliases,
        dest="count",
        type=int,
        default=DEFAULT_COUNT,
        help=f"how many workflows (default {DEFAULT_COUNT})",
    )
    mix = format_mix(plugin.default_mix) if plugin else None
    shown = mix or "the plug-in's default mix"
    parser.add_argument("--mix", default=mix, help=f"scenario weights (default {shown})")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes, one local cloud each, workflows dealt round-robin "
        "(default 1; the trace depends on it)",
    )


# --- demo -----------------------------------------------------------------------------------------
def run_demo(args: argparse.Namespace) -> int:
    plugin: WorkflowPlugin[Any] = args.plugin_object
    names = args.scenario or list(plugin.scenarios)
    started = real_perf_counter()
    with LocalCloud(cdk_out=args.cdk_out, seed=args.seed) as cloud:
        driver = plugin.driver(cloud)
        driver.seed()
        for name in names:
            driver.submit(name, f"demo-{name}")
        cloud.run_until_quiescent()
        wall = real_perf_counter() - started
        statuses = {name: driver.status(f"demo-{name}") or {} for name in names}

        print(
            f"WorkflowKit demo: the {plugin.name} workflow on the local cloud (app: {args.cdk_out}, "
            f"seed {args.seed})\n"
        )
        print(f"{'scenario':<22}{'expected':<18}{'final status':<18}{'compensated (in sequence)':<36}ok")
        failures = 0
        for name in names:
            scenario, status = plugin.scenarios[name], statuses[name]
            final = status.get("status", "MISSING")
            compensated = tuple(status.get("compensatedSteps", []))
            ok = final == scenario.expected_status and compensated == scenario.expected_compensations
            failures += not ok
            shown = ", ".join(compensated) or "-"
            print(f"{name:<22}{scenario.expected_status:<18}{final:<18}{shown:<36}{'yes' if ok else 'NO'}")

        for name in names:
            workflow_id, status = f"demo-{name}", statuses[name]
            version = status.get("definitionVersion")
            print(f"\n== {workflow_id} (v{version}): {plugin.scenarios[name].description}")
            if status.get("reason"):
                print(f"   reason: {status['reason']}")
            print(format_timeline(workflow_timeline(cloud, status, workflow_id), start=cloud.clock.start))

        figures = ledger_figures(cloud)
        print(
            f"\nevents published {figures['events_published']}, deliveries processed "
            f"{figures['events_delivered']}, dead-lettered {figures['dead_lettered']}, unaccounted "
            f"{figures['unaccounted_events']}, access denials {figures['access_denials']}; "
            f"virtual time {cloud.clock.elapsed()}, wall time {wall:.2f} s"
        )
        for line in unaccounted_summary(cloud.ledger.unaccounted()):
            print(f"  unaccounted: {line}")
        for line in denial_summary(cloud):
            print(f"  refused: {line}")
        clean = figures["unaccounted_events"] == 0 and figures["access_denials"] == 0
        return 0 if failures == 0 and clean else 1


# --- simulate -------------------------------------------------------------------------------------
def run_simulate(args: argparse.Namespace) -> int:
    plugin: WorkflowPlugin[Any] = args.plugin_object
    if args.count < 1:
        raise ValueError("--count must be at least 1")
    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    faults = build_profile(args.faults, args.fault)
    if args.replay:
        return run_replay(args, faults)
    result = run_simulation(
        plugin=plugin,
        cdk_out=args.cdk_out,
        count=args.count,
        seed=args.seed,
        mix=parse_mix(args.mix, plugin.scenarios),
        progress=False if args.json else args.progress,
        keep_timelines=None if args.save else (),
        workers=args.workers,
        faults=faults,
    )
    if args.save:
        _save(result, args)
    summary = {"workflow": plugin.name, **result.summary()}
    if result.traces:
        summary["traces"] = {
            wid: {
                "replay": _replay_command(args, wid),
                "violations": result.trace_violations.get(wid, []),
                "events": lines,
            }
            for wid, lines in result.traces.items()
        }
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        title = f"simulate: {args.count} {plugin.unit}, seed {args.seed}, mix {args.mix}"
        if faults.active:
            title += f", faults {faults.describe()}"
        _print_summary(result, summary, title=title)
        _print_traces(result, args)
    return 0 if result.healthy and not result.mismatches() else 1


def _print_traces(result: RunResult, args: argparse.Namespace) -> None:
    """For each workflow a violation or mismatch names: the seed, the workflow, its trace, its replay."""
    for workflow_id, lines in result.traces.items():
        print(f"\n  == seed {args.seed}, workflow {workflow_id}: its events and the faults that hit it")
        for violation in result.trace_violations.get(workflow_id, []):
            print(f"    violation: {violation}")
        for line in lines:
            print(f"    {line}")
        print(f"    replay: {_replay_command(args, workflow_id)}")


def _replay_command(args: argparse.Namespace, workflow_id: str) -> str:
    """The command that re-runs what ran ``workflow_id``: this run's plug-in, app, plan and faults."""
    plugin: WorkflowPlugin[Any] = args.plugin_object
    named = f"--plugin {args.plugin}" if args.plugin else f"--workflow {plugin.name}"
    app = f" --cdk-out {shlex.quote(str(args.cdk_out))}" if args.cdk_out != Path("cdk.out") else ""
    fault_options = "".join(f" --fault {shlex.quote(text)}" for text in args.fault)
    return (
        f"workflowkit simulate {named}{app} --count {args.count} --mix {shlex.quote(args.mix)} "
        f"--seed {args.seed} --workers {args.workers} --faults {args.faults}{fault_options} "
        f"--replay {shlex.quote(workflow_id)}"
    )


def run_replay(args: argparse.Namespace, faults: FaultProfile) -> int:
    """``simulate --replay ID``: the shard that ran ID, again: what happened to ID, and whether it held."""
    plugin: WorkflowPlugin[Any] = args.plugin_object
    result, shard = replay_workflow(
        plugin=plugin,
        cdk_out=args.cdk_out,
        count=args.count,
        seed=args.seed,
        workflow_id=args.replay,
        mix=parse_mix(args.mix, plugin.scenarios),
        workers=args.workers,
        faults=faults,
    )
    workflow_id = args.replay
    status = result.statuses.get(workflow_id, {})
    violations = result.trace_violations.get(workflow_id, [])
    mismatches = [line for line in result.mismatches() if line.startswith(f"{workflow_id} ")]
    sound = not violations and not mismatches
    if args.json:
        document = {
            "workflow": plugin.name,
            "workflow_id": workflow_id,
            "shard": shard,
            "shard_trace_sha256": result.trace_sha256,
            "status": status.get("status", "MISSING"),
            "scenario": result.scenarios.get(workflow_id, ""),
            "expected": result.fault_expectations.get(workflow_id),
            "violations": violations,
            "mismatches": mismatches,
            "trace": result.traces.get(workflow_id, []),
            "timeline": result.timelines.get(workflow_id, []),
        }
        print(json.dumps(document, sort_keys=True))
        return 0 if sound else 1
    print(
        f"replay: {workflow_id} ({result.scenarios.get(workflow_id, '?')}), seed {args.seed}, "
        f"shard {shard} of {args.workers}, faults {faults.describe()}; shard trace {result.trace_sha256}"
    )
    print(
        f"  status: {status.get('status', 'MISSING')}"
        + (f" ({status['reason']})" if status.get("reason") else "")
    )
    for line in [*mismatches, *violations]:
        print(f"  violation: {line}")
    print("  trace (events and faults):")
    for line in result.traces.get(workflow_id, []):
        print(f"    {line}")
    print("  timeline:")
    _print_timeline_rows(result.timelines.get(workflow_id, []))
    return 0 if sound else 1


def _print_summary(result: RunResult, summary: dict[str, Any], *, title: str) -> None:
    print(title)
    print(f"\n  {'final status':<20}{'workflows':>10}")
    for status, count in summary["by_status"].items():
        print(f"  {status:<20}{count:>10}")
    rows = [
        ("compensations (steps undone)", summary["compensations"]),
        ("escalations", summary["escalations"]),
        ("scenario mismatches", summary["scenario_mismatches"]),
        (
            "latency p50 / p99 (virtual)",
            f"{summary['latency_p50_seconds']} s / {summary['latency_p99_seconds']} s",
        ),
        ("events published", summary["events_published"]),
        ("events delivered", summary["events_delivered"]),
        ("dead-lettered", summary["dead_lettered"]),
        ("unaccounted events", summary["unaccounted_events"]),
        ("access denials", summary["access_denials"]),
        ("alarm notifications refused", summary["alarm_actions_failed"]),
        ("invariant violations", summary["invariant_violations"]),
        ("wall / virtual time", f"{summary['wall_seconds']} s / {summary['virtual_seconds']} s"),
        ("  of wall: start-up / run", f"{summary['startup_seconds']} s / {summary['run_seconds']} s"),
        ("workflows per second (wall)", summary["workflows_per_second"]),
        (
            "handlers' own code / emulator",
            f"{summary['handler_seconds']} s / {summary['emulator_seconds']} s",
        ),
        ("trace sha256", summary["trace_sha256"]),
    ]
    if "faults_injected" in summary:
        injected = ", ".join(f"{fault} {count}" for fault, count in summary["faults_injected"].items())
        rows.append(("faults injected", injected or "none"))
        rows.append(("hit by an outcome fault", summary["outcome_faults_hit"]))
    print()
    for label, value in rows:
        print(f"  {label:<32}{value}")
    for line in result.mismatches()[:20]:
        print(f"  mismatch: {line}")
    for violation in result.violations[:20]:
        print(f"  violation: {violation}")
    for line in result.dead_letters[:20]:
        print(f"  dead letter: {line}")
    for denial in result.denials[:20]:
        print(f"  refused: {denial}")


def _save(result: RunResult, args: argparse.Namespace) -> None:
    plugin: WorkflowPlugin[Any] = args.plugin_object
    document: dict[str, Any] = {
        "workflow": plugin.name,
        "seed": args.seed,
        "count": args.count,
        "mix": args.mix,
        "workers": args.workers,
        "summary": result.summary(),
        "workflows": {
            workflow_id: {
                "scenario": result.scenarios.get(workflow_id, ""),
                "version": status.get("definitionVersion"),
                "status": status["status"],
                "reason": status.get("reason"),
                "timeline": result.timelines.get(workflow_id, []),
            }
            for workflow_id, status in result.statuses.items()
        },
    }
    # Files saved before plug-ins carried the count under the unit's name: readers of them still find it.
    document.setdefault(plugin.unit, args.count)
    args.save.write_text(json.dumps(document, indent=1, sort_keys=True))


# --- timeline -------------------------------------------------------------------------------------
def run_timeline(args: argparse.Namespace) -> int:
    executions: list[dict[str, Any]] = []
    if args.run and args.executions:
        print("workflowkit: a saved run keeps no execution histories: leave out --run", file=sys.stderr)
        return 1
    if args.run:
        workflows = json.loads(args.run.read_text())["workflows"]
        entry = workflows.get(args.workflow_id)
        if entry is None:
            print(f"workflowkit: {args.workflow_id} is not in {args.run}", file=sys.stderr)
            return 1
        rows, status, reason = entry["timeline"], entry["status"], entry.get("reason")
        version = entry.get("version")
    else:
        plugin: WorkflowPlugin[Any] = args.plugin_object
        result = run_simulation(
            plugin=plugin,
            cdk_out=args.cdk_out,
            count=args.count,
            seed=args.seed,
            mix=parse_mix(args.mix, plugin.scenarios),
            progress=False,
            keep_timelines=[args.workflow_id],
            workers=args.workers,
            keep_executions=args.executions,
        )
        if args.workflow_id not in result.statuses:
            print(
                f"workflowkit: no workflow {args.workflow_id} in this run (ids: sim-000000 ...)",
                file=sys.stderr,
            )
            return 1
        rows = result.timelines[args.workflow_id]
        executions = result.executions.get(args.workflow_id, [])
        status, reason = (
            result.statuses[args.workflow_id]["status"],
            result.statuses[args.workflow_id].get("reason"),
        )
        version = result.statuses[args.workflow_id].get("definitionVersion")
    # The declaration's version the instance ran (docs/decisions/0024).
    shown = f" v{version}" if version is not None else ""
    print(f"{args.workflow_id}{shown}: {status}" + (f" ({reason})" if reason else ""))
    _print_timeline_rows(rows)
    if args.executions:
        print(f"state machine executions ({len(executions)}):")
        for line in format_executions(executions):
            print(line)
    return 0


def _print_timeline_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        handled = ", ".join(row["handled_by"]) or "no subscriber"
        print(
            f"  +{row['offset_seconds']:>12.3f}s  {row['detail_type']:<30} {row['source']:<22} -> {handled}"
        )
        changes = [f"{step}: {change}" for step, change in row["state_changes"].items()]
        if row["status_change"]:
            changes.insert(0, f"workflow: {row['status_change']}")
        if changes:
            print(f"  {'':>14}  {'; '.join(changes)}")
        for note in row["notes"]:
            print(f"  {'':>14}  note: {note}")


# --- campaign -------------------------------------------------------------------------------------
def run_campaign_command(args: argparse.Namespace) -> int:
    faults = build_profile(args.faults, args.fault)
    workflows = _names(args.workflows) if args.workflows else available_workflows()
    for workflow in workflows:
        load_plugin(workflow)  # an unknown workflow fails here, before any process starts
    try:
        seeds = [int(seed) for seed in _names(args.seeds)]
    except ValueError:
        raise ValueError(f"--seeds takes whole numbers, not {args.seeds!r}") from None
    if not seeds or not workflows:
        raise ValueError("a campaign needs at least one workflow and one seed")
    if args.count < 1 or args.workers < 1:
        raise ValueError("--count and --workers must be at least 1")
    jobs = [Job(workflow, seed, args.count) for workflow in workflows for seed in seeds]
    campaign = run_campaign(jobs, cdk_out=args.cdk_out, workers=args.workers, faults=faults)
    summary = {"faults": faults.describe(), **campaign.summary()}
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        return 0 if campaign.sound else 1
    print(
        f"campaign: {len(jobs)} jobs x {args.count} workflows, {args.workers} workers, "
        f"faults {faults.describe()}"
    )
    for job in campaign.jobs:
        figures = summary["jobs"][campaign.jobs.index(job)]
        print(
            f"  {job.job.describe():<28} violations {figures['invariant_violations']}, mismatches "
            f"{figures['scenario_mismatches']}, unaccounted {figures['unaccounted_events']}, dead letters "
            f"{figures['dead_letters']}, not terminal {figures['not_terminal']}, outcome faults "
            f"{figures['outcome_faults_hit']}, trace {job.result.trace_sha256[:16]} "
            f"{'ok' if job.sound else 'FAILED'}"
        )
        for line in [*job.result.mismatches()[:5], *(str(v) for v in job.result.violations[:5])]:
            print(f"      {line}")
    print(
        f"  {campaign.workflows} workflows in {summary['wall_seconds']} s "
        f"({summary['workflows_per_second']}/s), "
        f"peak memory per process {', '.join(f'{mb:.0f} MB' for mb in campaign.peak_rss_mb)} "
        f"({summary['peak_rss_mb_total']:.0f} MB in all): "
        f"{'sound' if campaign.sound else 'FAILED'}"
    )
    return 0 if campaign.sound else 1


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# --- send -----------------------------------------------------------------------------------------
def run_send_command(args: argparse.Namespace) -> int:
    entries = _read_entries(args.events)
    result = run_send(plugin=args.plugin_object, cdk_out=args.cdk_out, entries=entries, seed=args.seed)
    summary: dict[str, Any] = {"workflow": args.plugin_object.name, **result.summary()}
    summary["workflow_details"] = workflow_details(result)
    # Dead letters may be what the sender meant to provoke; lost events and broken invariants never are.
    healthy = result.healthy
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        return 0 if healthy else 1
    _print_summary(result, summary, title=f"send: {len(entries)} events from {args.events}, seed {args.seed}")
    for workflow_id, details in summary["workflow_details"].items():
        steps = ", ".join(f"{name}={state}" for name, state in details["steps"].items())
        print(
            f"  {workflow_id}: {details['status']} [{steps}] compensated: {details['compensations'] or '-'}"
        )
    return 0 if healthy else 1


def _read_entries(path: Path) -> list[dict[str, Any]]:
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not JSON: {error.msg}") from None
        missing = [key for key in ("Source", "DetailType", "Detail") if key not in entry]
        if missing:
            raise ValueError(f"{path}:{number}: a PutEvents entry needs {', '.join(missing)}")
        entries.append(entry)
    return entries


# --- catalog --------------------------------------------------------------------------------------
def run_catalog(args: argparse.Namespace) -> int:
    written = write_catalog(args.out, args.functions.resolve())
    print(f"wrote {len(written)} files to {args.out}")
    return 0


# --- preflight ------------------------------------------------------------------------------------
def run_preflight(args: argparse.Namespace) -> int:
    template = preflight.load_stack_template(args.cdk_out, args.stage)
    session = preflight.open_session(args.region, template)
    results = preflight.run_checks(session, template, preflight.default_checks())
    if args.json:
        document = preflight.as_json(results, stack=template.stack_name, region=session.region_name)
        print(json.dumps(document, sort_keys=True))
    else:
        title = f"preflight: {template.stack_name} in {session.region_name or '(no region)'} ({args.cdk_out})"
        print(preflight.format_table(results, title=title))
    return 1 if any(result.failed for result in results) else 0


def run_new(args: argparse.Namespace) -> int:
    from workflowkit import scaffold  # noqa: PLC0415 - only this command needs it

    try:
        if args.kind == "workflow":
            written = scaffold.new_workflow(args.root, args.name, step=args.step, pattern=args.pattern)
        else:
            written = scaffold.new_step(args.root, args.workflow, args.name, pattern=args.pattern)
    except scaffold.ScaffoldError as error:
        print(f"workflowkit new: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"  wrote {path}")
    workflow = args.name if args.kind == "workflow" else args.workflow
    print(f"next: fill in the TODOs, then `make synth` and `workflowkit simulate --workflow {workflow}`")
    return 0
