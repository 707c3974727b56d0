"""The workflowkit commands, run in-process on the synthesized app: what a user types, what they read."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import multiprocessing
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from simulations.order import PLUGIN
from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, order_for
from tests.e2e.conftest import ROOT, synthesize
from workflowkit import LocalCloud
from workflowkit.cli import main
from workflowkit.simulator import RunResult, run_simulation
from workflowkit.simulator.report import ServiceNames

REQUIRED_KEYS = {
    "workflows",
    "by_status",
    "events_published",
    "events_delivered",
    "dead_lettered",
    "unaccounted_events",
    "invariant_violations",
    "trace_sha256",
    "wall_seconds",
    "virtual_seconds",
    "workflows_per_second",
    "startup_seconds",
    "run_seconds",
    "handler_seconds",
    "emulator_seconds",
    "overhead_ratio",
}


def simulate_json(cdk_out: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code = main(["simulate", "--cdk-out", str(cdk_out), "--json", *args])
    summary: dict[str, object] = json.loads(capsys.readouterr().out)
    assert code == 0, summary
    return summary


def test_simulate_reports_every_workflow_terminal_and_nothing_lost(
    cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mix = "happy=40,declined=15,out_of_stock=15,shipping_failure=15,timeout=10,compensation_failure=5"
    first = simulate_json(
        cdk_out, capsys, "--workflow", "order", "--count", "30", "--seed", "7", "--mix", mix
    )
    assert first.keys() >= REQUIRED_KEYS
    assert first["workflow"] == "order"
    assert first["workflows"] == 30
    assert first["unaccounted_events"] == 0
    assert first["invariant_violations"] == 0
    assert first["scenario_mismatches"] == 0
    # Honest timing (issue 11): the wall time holds the start-up and the run; handlers' own code and the
    # emulator's answers to their calls are told apart
    seconds = {key: float(str(first[key])) for key in REQUIRED_KEYS if key.endswith("_seconds")}
    assert seconds["wall_seconds"] + 0.002 >= seconds["startup_seconds"] + seconds["run_seconds"]
    assert seconds["startup_seconds"] > 0
    assert seconds["run_seconds"] > 0
    assert seconds["handler_seconds"] > 0
    assert seconds["emulator_seconds"] > 0
    by_status = first["by_status"]
    assert isinstance(by_status, dict)
    assert set(by_status) <= {"COMPLETED", "COMPENSATED", "FAILED", "NEEDS_ATTENTION"}
    # The plug-in's own word for the count (what `make demo` typed before plug-ins) means the same run.
    again = simulate_json(cdk_out, capsys, "--orders", "30", "--seed", "7", "--mix", mix)
    assert again["trace_sha256"] == first["trace_sha256"]


def test_timeline_of_a_saved_run_shows_events_handlers_and_state_changes(
    cdk_out: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "run.json"
    code = main(
        ["simulate", "--cdk-out", str(cdk_out), "--count", "3", "--mix", "timeout=1", "--save", str(saved)]
    )
    capsys.readouterr()
    assert code == 0
    document = json.loads(saved.read_text())
    assert (document["workflow"], document["count"], document["orders"]) == ("order", 3, 3)
    assert main(["timeline", "sim-000001", "--run", str(saved)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "sim-000001 v2: COMPENSATED (shipping missed its deadline)"
    assert "StepDeadlineReached" in out
    assert "workflow: RUNNING -> COMPENSATING; shipping: RUNNING->COMPENSATING" in out
    assert "-> controller" in out


def test_send_runs_your_events_and_details_each_workflow(
    cdk_out: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    lines = []
    for n, name in enumerate(("happy", "declined")):
        order = order_for(SCENARIOS[name], f"mine-{n}")
        detail = {
            "metadata": {
                "eventId": f"mine-{n}:submitted",
                "correlationId": order["orderId"],
                "schemaVersion": 2,
                "occurredAt": "2026-01-05T09:00:00Z",
                "producer": "test",
            },
            "data": order,
        }
        lines.append(
            json.dumps({"Source": "commerce.orders", "DetailType": "OrderSubmitted", "Detail": detail})
        )
    lines.append(json.dumps({"Source": "commerce.orders", "DetailType": "OrderSubmitted", "Detail": "{}"}))
    events.write_text("\n".join(lines) + "\n")
    assert main(["send", str(events), "--cdk-out", str(cdk_out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    details = summary["workflow_details"]
    assert (details["mine-0"]["status"], details["mine-0"]["version"]) == ("COMPLETED", 2)
    assert details["mine-1"]["status"] == "FAILED"
    assert summary["dead_lettered"] == 1  # the empty event: rejected by the controller, dead-lettered
    assert summary["unaccounted_events"] == 0


def test_a_bad_mix_is_a_clear_error(cdk_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--cdk-out", str(cdk_out), "--mix", "happy=70,nonsense=1"]) == 2
    assert "unknown scenario 'nonsense'" in capsys.readouterr().err


def test_an_unknown_workflow_is_a_clear_error_naming_the_known_ones(
    cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--cdk-out", str(cdk_out), "--workflow", "nonsense"]) == 2
    assert "no workflow plug-in 'nonsense'; known: onboarding, order" in capsys.readouterr().err


def test_a_plugin_is_found_by_its_module_too(cdk_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a plug-in named by module (as a user's own package would be), run on one scenario
    code = main(
        ["demo", "--cdk-out", str(cdk_out), "--plugin", "simulations.order", "--scenario", "declined"]
    )
    out = capsys.readouterr().out
    # THEN the demo runs that plug-in's scenario, as --workflow would
    assert code == 0
    assert "the order workflow on the local cloud" in out
    assert "declined              FAILED            FAILED" in out


def test_simulate_over_two_processes_runs_the_same_workflows_and_repeats_its_trace(cdk_out: Path) -> None:
    watched = ["sim-000000"]  # dealt to the first shard (the second must not overwrite it with nothing)
    one = run_simulation(
        plugin=PLUGIN, cdk_out=cdk_out, count=12, seed=11, progress=False, keep_timelines=watched
    )
    two = run_simulation(
        plugin=PLUGIN, cdk_out=cdk_out, count=12, seed=11, progress=False, workers=2, keep_timelines=watched
    )
    again = run_simulation(plugin=PLUGIN, cdk_out=cdk_out, count=12, seed=11, progress=False, workers=2)

    assert two.workers == 2
    # The parent's wall time holds its shards' start-ups and their run
    assert two.wall_seconds >= two.startup_seconds + two.run_seconds > 0
    assert two.startup_seconds > 0
    assert two.process_seconds > 0
    assert two.emulator_seconds > 0
    assert two.scenarios == one.scenarios  # the same plan, dealt over the shards
    assert _final_statuses(two) == _final_statuses(one)
    assert two.mismatches() == []
    assert two.violations == []
    assert two.figures["unaccounted_events"] == 0
    assert two.trace_sha256 == again.trace_sha256
    assert two.trace_sha256 != one.trace_sha256  # a different interleaving: two clouds, not one
    # The same events (the order of parallel branches' events depends on the interleaving)
    assert sorted(row["detail_type"] for row in two.timelines["sim-000000"]) == sorted(
        row["detail_type"] for row in one.timelines["sim-000000"]
    )
    assert two.timelines["sim-000000"]


def _final_statuses(result: RunResult) -> dict[str, str]:
    return {workflow_id: status["status"] for workflow_id, status in result.statuses.items()}


def test_a_failing_shard_fails_the_run_and_leaves_no_process_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="shard"):
        run_simulation(
            plugin=PLUGIN, cdk_out=tmp_path / "no-such-cdk-out", count=4, seed=1, progress=False, workers=2
        )
    assert multiprocessing.active_children() == []


def test_an_abbreviated_option_is_refused_not_read_as_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN `--workflo` typed for `--workflow`: the plug-in is chosen from the options as typed, so an
    # abbreviation argparse accepted would run the default workflow's plug-in instead of the one named
    for typed in (["--workflo", "ticket"], ["--workfl=ticket"], ["--plug", "simulations.order"]):
        with pytest.raises(SystemExit) as exited:
            main(["simulate", "--cdk-out", str(tmp_path / "no-such-cdk-out"), *typed, "--count", "1"])
        # THEN it is refused before anything runs
        assert exited.value.code == 2
        assert f"unrecognized arguments: {' '.join(typed)}" in capsys.readouterr().err


# --- one stack, several workflows and versions --------------------------------------------------------
SHARED_REGISTRY = '''
"""The order workflow v1 and v2 (shipping's deadline 48 h instead of 24 h), and a scaffolded workflow."""

import dataclasses
from datetime import timedelta

from order_workflow import INVENTORY, ORDER_WORKFLOW, PAYMENT, SHIPPING
from ticket_workflow import TICKET_WORKFLOW

ORDER_V2 = dataclasses.replace(
    ORDER_WORKFLOW,
    version=2,
    steps=(PAYMENT, INVENTORY, dataclasses.replace(SHIPPING, deadline=timedelta(hours=48))),
)
WORKFLOWS = (ORDER_WORKFLOW, ORDER_V2, TICKET_WORKFLOW)
'''


@dataclasses.dataclass(frozen=True)
class SharedStack:
    root: Path
    cdk_out: Path
    scaffolded: str  # what the `new` commands printed


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> SharedStack:
    """A copy of the project whose one stack runs the order workflow v1 and v2 beside a scaffolded
    ``ticket`` workflow (a choreographed step, then an orchestrated one and its undo machine)."""
    root = tmp_path_factory.mktemp("shared-stack")
    for folder in ("functions", "statemachines", "simulations"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["new", "workflow", "ticket", "--step", "triage", "--root", str(root)]) == 0
        assert (
            main(["new", "step", "ticket", "resolve", "--pattern", "orchestrated", "--root", str(root)]) == 0
        )
    (root / "functions" / "workflow_registry.py").write_text(SHARED_REGISTRY.lstrip())
    out = root / "cdk.out"
    synthesize(
        out,
        context={"functionsDir": str(root / "functions"), "statemachinesDir": str(root / "statemachines")},
    )
    return SharedStack(root, out, printed.getvalue())


def test_new_names_the_workflow_to_simulate_next(shared_stack: SharedStack) -> None:
    hints = [line for line in shared_stack.scaffolded.splitlines() if line.startswith("next:")]
    assert len(hints) == 2  # `new workflow ticket`, then `new step ticket resolve`
    assert all(hint.endswith("`workflowkit simulate --workflow ticket`") for hint in hints), hints


def test_each_instance_is_held_to_the_termination_budget_of_its_own_version(
    shared_stack: SharedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 and v2 deployed, v2 (the newest, on which new orders start) waiting 48 h for a carrier
    # WHEN orders the carrier never confirms run: each takes v2's 48 h, past v1's whole budget (26 h 35)
    result = run_simulation(
        plugin=PLUGIN,
        cdk_out=shared_stack.cdk_out,
        count=3,
        seed=7,
        mix={"timeout": 1},
        progress=False,
        keep_timelines=["sim-000000"],
    )
    assert {s["definitionVersion"] for s in result.statuses.values()} == {2}
    assert min(result.latencies()) > timedelta(hours=48).total_seconds()
    # THEN none breaks termination: each is held to v2's deadlines, not to those of the first listed
    assert [str(v) for v in result.violations] == []
    assert result.mismatches() == []
    # AND the timeline names the state machine a rule started (the refund) by workflow and machine
    handled = {name for row in result.timelines["sim-000000"] for name in row["handled_by"]}
    assert "order refund flow" in handled
    # AND `simulate` says the same
    summary = simulate_json(shared_stack.cdk_out, capsys, "--count", "3", "--mix", "timeout=1")
    assert (summary["invariant_violations"], summary["scenario_mismatches"]) == (0, 0)


class EveryInstanceDriver(OrderDriver):
    """An order driver that also starts a ticket, and lists every instance in the workflows table,
    whichever its workflow (as the order driver did): a plug-in's driver the runner must not trust to
    keep to its own workflow."""

    def seed(self) -> None:
        super().seed()
        answer = self._cloud.http("POST", "/start/ticket", {"ticketId": "t-beside", "note": ""})
        assert answer["statusCode"] == 202, answer

    def status(self, workflow_id: str) -> dict[str, Any] | None:
        from workflow_core.workflow_status import load_status  # noqa: PLC0415 - the app's own code

        found: dict[str, Any] | None = load_status(self._table, workflow_id)
        return found


def test_a_run_counts_and_checks_only_its_own_workflows_instances(shared_stack: SharedStack) -> None:
    # GIVEN a stack whose table also holds another workflow's instance, listed by the plug-in's driver
    plugin = dataclasses.replace(PLUGIN, driver=EveryInstanceDriver)
    # WHEN orders run
    result = run_simulation(
        plugin=plugin, cdk_out=shared_stack.cdk_out, count=2, seed=3, mix={"happy": 1}, progress=False
    )
    # THEN the ticket is neither counted nor checked by the order workflow's invariants (a completed
    # ticket has no captured payment)
    assert sorted(result.statuses) == ["sim-000000", "sim-000001"]
    assert [str(v) for v in result.violations] == []
    assert result.healthy


def test_the_order_driver_reads_only_orders_and_flows_are_named_by_workflow(
    shared_stack: SharedStack,
) -> None:
    with LocalCloud(cdk_out=shared_stack.cdk_out, seed=5) as cloud:
        # GIVEN an order and a ticket in one stack
        orders = OrderDriver(cloud)
        orders.seed()
        orders.submit("happy", "o-1")
        assert cloud.http("POST", "/start/ticket", {"ticketId": "t-1", "note": ""})["statusCode"] == 202
        cloud.run_until_quiescent()
        assert cloud.http("GET", "/workflows/t-1")["statusCode"] == 200
        # THEN the order driver lists and reads the order only
        assert sorted(orders.all_statuses()) == ["o-1"]
        assert orders.status("t-1") is None
        # AND every state machine reads "<workflow> <machine> flow", a scaffolded undo machine included
        machines = boto3.client("stepfunctions", region_name=cloud.region).list_state_machines()
        names = ServiceNames(cloud)
        assert sorted(names.of(f"statemachine:{m['name']}") for m in machines["stateMachines"]) == [
            "order payment flow",
            "order refund flow",
            "ticket ticket-resolve flow",
            "ticket ticket-resolve-undo flow",
        ]
