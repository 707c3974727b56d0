"""The cost model on the synthesized app: the meter's counts against the local cloud's own records, and
``workflowkit cost`` end to end on a small sample."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from simulations.order import PLUGIN
from workflowkit.cli import main
from workflowkit.cloud import LocalCloud
from workflowkit.cost import Meter, PriceBook, Usage
from workflowkit.simulator import plan, run_planned

SAMPLE = 20


@pytest.fixture(scope="module")
def metered(cdk_out: Path) -> tuple[Usage, dict[str, Any]]:
    """A 20-workflow run of the default mix, metered; with what the cloud itself recorded in the window."""
    planned = plan(SAMPLE, PLUGIN.default_mix, 7)
    found: dict[str, Any] = {}

    def observe(cloud: LocalCloud) -> Any:
        invocations = {name: stats.invocations for name, stats in cloud.lambdas.stats.items()}
        events = set(cloud.ledger.events)
        executions = {
            e.execution_arn for m in cloud.backend("stepfunctions").state_machines for e in m.executions
        }
        meter = Meter().attach(cloud)

        def stop() -> None:
            found["usage"] = meter.stop(workflows=SAMPLE)
            found["invocations"] = {
                name: stats.invocations - invocations.get(name, 0)
                for name, stats in cloud.lambdas.stats.items()
            }
            found["published"] = sum(1 for event_id in cloud.ledger.events if event_id not in events)
            entered = retried = 0
            for machine in cloud.backend("stepfunctions").state_machines:
                for execution in machine.executions:
                    if execution.execution_arn in executions:
                        continue
                    history = cloud.stepfunctions.history(execution.execution_arn)
                    assert history is not None
                    kinds = [event[0] for event in history.events]
                    entered += sum(1 for kind in kinds if kind.endswith("StateEntered"))
                    scheduled = sum(
                        1 for kind in kinds if kind in ("TaskScheduled", "LambdaFunctionScheduled")
                    )
                    retried += scheduled - kinds.count("TaskStateEntered")
            found["transitions"] = entered + retried

        return stop

    run_planned(
        plugin=PLUGIN,
        cdk_out=cdk_out,
        arrivals=list(enumerate(planned)),
        seed=7,
        keep_timelines=(),
        progress=False,
        observe=observe,
    )
    return found["usage"], found


def test_transitions_are_the_states_entered_and_the_retries_of_every_execution(metered: Any) -> None:
    usage, cloud = metered
    assert cloud["transitions"] > SAMPLE  # every workflow ran at least its first step's machine
    assert usage.total("stepfunctions", "transitions") == cloud["transitions"]


def test_events_published_are_the_ledger_s(metered: Any) -> None:
    usage, cloud = metered
    assert cloud["published"] > SAMPLE
    assert usage.total("events", "published") == cloud["published"]


def test_invocations_are_the_runtime_s_per_function(metered: Any) -> None:
    usage, cloud = metered
    counted = {
        actor.removeprefix("function:"): n
        for (actor, service, metric), n in usage.counts.items()
        if service == "lambda" and metric == "invocations"
    }
    assert counted == {name: n for name, n in cloud["invocations"].items() if n}


def test_only_the_app_s_calls_are_counted_and_writes_cost_at_least_a_unit_each(metered: Any) -> None:
    usage, _ = metered
    actors = {actor for actor, _, metric in usage.counts if metric.startswith("call:")}
    assert actors
    assert all(actor.startswith(("function:", "machine:")) for actor in actors)
    writes = sum(
        n
        for (_, service, metric), n in usage.counts.items()
        if service == "dynamodb" and metric in ("call:PutItem", "call:UpdateItem", "call:DeleteItem")
    )
    assert usage.total("dynamodb", "wru") >= writes


def test_the_template_s_customer_managed_keys_are_counted(metered: Any) -> None:
    usage, _ = metered
    assert usage.total("kms", "keys") == 1  # the stage's one key (infra: every resource encrypts with it)


def test_the_cost_command_prints_every_design_and_a_bill_that_adds_up(cdk_out: Path, tmp_path: Path) -> None:
    chart = tmp_path / "cost.svg"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "cost", "--workflow", "order", "--orders", "50000", "--sample", "10",
                "--cdk-out", str(cdk_out), "--json", "--chart", str(chart),
            ]
        )  # fmt: skip

    assert code == 0
    report = json.loads(out.getvalue())
    prices = PriceBook.load()
    assert report["workflows_a_month"] == 50000
    assert report["sample"]["workflows"] == 10
    assert [d["basis"] for d in report["designs"].values()] == [
        "measured",
        "modelled",
        "modelled",
        "modelled",
    ]
    for design in report["designs"].values():
        lines = design["lines"]
        assert sum(line["quantity"] * prices[line["price"]] for line in lines) == pytest.approx(
            design["total_usd"], abs=1e-3
        )
        assert design["usd_per_1000_workflows"] == pytest.approx(design["total_usd"] / 50, rel=1e-3)
        assert 0 < design["latency_ms"]["p50"] <= design["latency_ms"]["p99"]
    hybrid = report["designs"]["hybrid"]["monthly_usd"]
    assert hybrid["Step Functions"] > 0
    assert report["designs"]["choreographed"]["monthly_usd"]["Step Functions"] == 0
    assert chart.read_text().startswith("<svg")
