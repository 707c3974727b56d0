"""The workflowkit commands, run in-process on the synthesized app: what a user types, what they read."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from simulations.order import PLUGIN
from simulations.order.scenarios import SCENARIOS, order_for
from workflowkit.cli import main
from workflowkit.simulator import RunResult, run_simulation

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
    assert out.splitlines()[0] == "sim-000001 v1: COMPENSATED (shipping missed its deadline)"
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
    assert (details["mine-0"]["status"], details["mine-0"]["version"]) == ("COMPLETED", 1)
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
    assert "no workflow plug-in 'nonsense'; known: order" in capsys.readouterr().err


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
    assert two.scenarios == one.scenarios  # the same plan, dealt over the shards
    assert _final_statuses(two) == _final_statuses(one)
    assert two.mismatches() == []
    assert two.violations == []
    assert two.figures["unaccounted_events"] == 0
    assert two.trace_sha256 == again.trace_sha256
    assert two.trace_sha256 != one.trace_sha256  # a different interleaving: two clouds, not one
    assert [row["detail_type"] for row in two.timelines["sim-000000"]] == [
        row["detail_type"] for row in one.timelines["sim-000000"]
    ]
    assert two.timelines["sim-000000"]


def _final_statuses(result: RunResult) -> dict[str, str]:
    return {workflow_id: status["status"] for workflow_id, status in result.statuses.items()}


def test_a_failing_shard_fails_the_run_and_leaves_no_process_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="shard"):
        run_simulation(
            plugin=PLUGIN, cdk_out=tmp_path / "no-such-cdk-out", count=4, seed=1, progress=False, workers=2
        )
    assert multiprocessing.active_children() == []
