"""Fault profiles end to end: every fault is injected and survived, a faulted run repeats for its seed,
the faults draw nothing from the run's own random, and a violation under faults is reported with its
seed, its workflow and its shortest trace, and reproduced by ``--replay``."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from simulations.onboarding.driver import OnboardingDriver
from simulations.onboarding.scenarios import SCENARIOS as ONBOARDING
from simulations.onboarding.scenarios import application_for
from tests.e2e.faulted_plugin import HAND_MADE
from workflowkit import Faults, LocalCloud
from workflowkit.chaos import FAULTS, PROFILES, FaultProfile
from workflowkit.cli import main
from workflowkit.fastpath import ServiceError
from workflowkit.simulator import load_plugin, run_simulation
from workflowkit.simulator.campaign import Job, run_campaign
from workflowkit.simulator.invariants import TERMINAL
from workflowkit.simulator.simulate import replay_workflow

# The chaos profile, with the outcome faults made likely enough that a short run sees both.
CHAOS = PROFILES["chaos"].with_rates({"never_answers": 0.3, "compensation_fails": 0.6})


@pytest.mark.parametrize(("workflow", "count", "seed"), [("order", 120, 4), ("onboarding", 120, 4)])
def test_every_fault_is_injected_and_every_workflow_still_ends_as_it_must(
    cdk_out: Path, workflow: str, count: int, seed: int
) -> None:
    result = run_simulation(
        plugin=load_plugin(workflow), cdk_out=cdk_out, count=count, seed=seed, faults=CHAOS, progress=False
    )
    # THEN every fault of the profile was injected at least once
    assert sorted(f for f, n in result.faults.items() if n > 0) == sorted(FAULTS), result.faults
    # AND the run is sound: no broken invariant, nothing lost or dead-lettered, nothing refused
    assert [str(v) for v in result.violations] == []
    assert result.healthy, result.summary()
    assert all(status["status"] in TERMINAL for status in result.statuses.values())
    # AND every workflow ended as its scenario says, or, if an outcome fault hit it, as that fault says
    assert result.mismatches() == []
    hit = {because.split(" at ")[0] for _, _, because in result.fault_expectations.values()}
    assert hit == {"never_answers", "compensation_fails"}
    for workflow_id, (status, undone, _) in result.fault_expectations.items():
        assert result.statuses[workflow_id]["status"] == status
        assert list(result.statuses[workflow_id].get("compensatedSteps", [])) == undone


def test_a_faulted_run_repeats_exactly_for_its_seed_and_not_for_another(cdk_out: Path) -> None:
    plugin = load_plugin("order")
    runs = [
        run_simulation(plugin=plugin, cdk_out=cdk_out, count=40, seed=seed, faults=CHAOS, progress=False)
        for seed in (5, 5, 6)
    ]
    assert runs[0].trace_sha256 == runs[1].trace_sha256
    assert runs[0].faults == runs[1].faults
    assert runs[0].fault_expectations == runs[1].fault_expectations
    assert runs[0].trace_sha256 != runs[2].trace_sha256


def test_the_faults_draw_nothing_from_the_runs_own_random(cdk_out: Path) -> None:
    # GIVEN every fault asked at every hop, at a rate that never fires: each draws from its own stream
    probe = FaultProfile("probe", dict.fromkeys(FAULTS, 1e-12))
    plugin = load_plugin("order")
    faulted = run_simulation(plugin=plugin, cdk_out=cdk_out, count=40, seed=9, faults=probe, progress=False)
    plain = run_simulation(plugin=plugin, cdk_out=cdk_out, count=40, seed=9, progress=False)
    # THEN the run is the run without faults: a fault that does not fire changes nothing
    assert sum(faulted.faults.values()) == 0
    assert faulted.trace_sha256 == plain.trace_sha256


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_a_violation_under_faults_prints_its_seed_workflow_and_trace_and_replay_reproduces_it(
    cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a plug-in with a hand-made invariant that every crash after a workflow's work breaks
    run = ["simulate", "--plugin", "tests.e2e.faulted_plugin", "--cdk-out", str(cdk_out)]
    run += ["--count", "30", "--seed", "3", "--faults", "chaos", "--fault", "crash_after=0.3"]
    code, out = _cli(capsys, *run)
    # THEN the run fails, naming the seed, the workflow and its own events and faults, and how to replay it
    assert code == 1
    header = next(line for line in out.splitlines() if line.strip().startswith("== seed 3, workflow "))
    workflow_id = header.split("workflow ")[1].split(":")[0]
    section = out[out.index(header) :].split("\n  == ")[0]
    assert f"violation: [{HAND_MADE}] {workflow_id}" in section
    assert "FAULT crash_after" in section
    trace = [line.strip() for line in section.splitlines() if line.strip().startswith("+")]
    assert trace
    assert all("sim-" not in line or workflow_id in line for line in trace)
    replay = next(line.split("replay: ", 1)[1] for line in section.splitlines() if "replay: " in line)
    assert replay.endswith(f"--replay {workflow_id}")
    # WHEN that one workflow's run is replayed, with the command the run printed
    command = shlex.split(replay)
    assert command[:4] == ["workflowkit", "simulate", "--plugin", "tests.e2e.faulted_plugin"]
    code, out = _cli(capsys, *command[1:])
    # THEN the same faults hit it and the same violation comes back, with its timeline
    assert code == 1
    assert f"[{HAND_MADE}] {workflow_id}" in out
    replayed = [
        line.strip() for line in out.split("trace (events and faults):")[1].split("timeline:")[0].splitlines()
    ]
    assert [line for line in replayed if line] == trace
    assert "timeline:" in out


def test_a_replayed_workflow_is_run_in_its_own_shard_with_the_same_trace(cdk_out: Path) -> None:
    plugin = load_plugin("order")
    whole = run_simulation(plugin=plugin, cdk_out=cdk_out, count=20, seed=2, faults=CHAOS, progress=False)
    replayed, shard = replay_workflow(
        plugin=plugin, cdk_out=cdk_out, count=20, seed=2, workflow_id="sim-000007", faults=CHAOS
    )
    assert shard == 0
    assert replayed.trace_sha256 == whole.trace_sha256
    assert replayed.statuses["sim-000007"] == whole.statuses["sim-000007"]
    assert replayed.traces["sim-000007"]  # traced whatever happened to it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "drop=2"], "within [0, 1]"),
        (["--fault", "drop=-0.1"], "within [0, 1]"),
        (["--fault", "drop=nan"], "within [0, 1]"),
        (["--fault", "lightning=0.1"], "unknown fault 'lightning'"),
        (["--fault", "drop"], "NAME=RATE"),
        (["--fault", "drop=often"], "must be a number"),
        (["--replay", "sim-999999"], "no workflow sim-999999"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_simulate_refuses_bad_fault_options_before_running(
    cdk_out: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["simulate", "--workflow", "order", "--count", "5", "--cdk-out", str(cdk_out), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_simulate_refuses_an_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["simulate", "--workflow", "order", "--faults", "storm"])
    assert raised.value.code == 2
    assert "invalid choice: 'storm'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "one,two"], "--seeds takes whole numbers"),
        (["--workflows", "nope"], "no workflow plug-in 'nope'"),
        (["--count", "0"], "--count and --workers must be at least 1"),
        (["--fault", "race=7"], "within [0, 1]"),
    ],
)
def test_campaign_refuses_bad_options_before_running(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["campaign", *args]) == 2
    assert message in capsys.readouterr().err


class ThrottleTaskAnswers(Faults):
    """Step Functions throttles the app's first ``times`` SendTaskSuccess calls."""

    def __init__(self, times: int) -> None:
        self.times, self.throttled = times, 0

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        if operation == "SendTaskSuccess" and self.throttled < self.times:
            self.throttled += 1
            raise ServiceError("ThrottlingException", "Rate exceeded", status=400)


def test_a_decision_step_functions_throttled_past_the_clients_retries_is_tried_again_and_counts(
    cdk_out: Path,
) -> None:
    # GIVEN Step Functions throttles the front door's SendTaskSuccess through all of botocore's attempts
    # (found by the chaos campaign: the officer never retried the 503 and the review waited forever)
    faults = ThrottleTaskAnswers(times=3)
    with LocalCloud(cdk_out=cdk_out, seed=1, faults=faults) as cloud:
        customers = OnboardingDriver(cloud)
        customers.seed()
        customers.submit("refer_approved", "cus-throttled")
        cloud.run_until_quiescent()
        # THEN the front door answered 503 (claimed, not delivered), the officer tried again as it asks,
        # and the second decision reached the review
        assert faults.throttled == 3
        assert customers.decisions["cus-throttled"].status_code == 202
        status = customers.status("cus-throttled")
        assert status is not None
        assert status["status"] == "COMPLETED"


def test_a_campaign_job_is_the_run_simulate_makes_with_as_many_workers(
    cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign = run_campaign(
        [Job("order", 8, 16), Job("onboarding", 8, 16)], cdk_out=cdk_out, workers=2, faults=CHAOS
    )
    assert campaign.sound, campaign.summary()
    assert len(campaign.peak_rss_mb) == 2
    # THEN each job's trace is the one `simulate --workers 2` gives for it
    args = ["simulate", "--cdk-out", str(cdk_out), "--count", "16", "--seed", "8", "--workers", "2", "--json"]
    args += ["--faults", "chaos", "--fault", "never_answers=0.3", "--fault", "compensation_fails=0.6"]
    for job in campaign.jobs:
        assert main([*args, "--workflow", job.job.workflow]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["trace_sha256"] == job.result.trace_sha256


class ThrottleFirstPublishes(Faults):
    """EventBridge throttles the app's first ``times`` PutEvents calls (the front door's, at a start)."""

    def __init__(self, times: int) -> None:
        self.times, self.throttled = times, 0

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        if operation == "PutEvents" and self.throttled < self.times:
            self.throttled += 1
            raise ServiceError("ThrottlingException", "Rate exceeded", status=400)


def test_a_start_the_front_door_could_not_publish_is_tried_again_by_the_client(cdk_out: Path) -> None:
    # GIVEN EventBridge throttles the front door's PutEvents through all of botocore's three attempts
    faults = ThrottleFirstPublishes(times=3)
    with LocalCloud(cdk_out=cdk_out, seed=1, faults=faults) as cloud:
        customers = OnboardingDriver(cloud)
        customers.seed()
        # WHEN a client starts a workflow: the first POST is answered 503, the client tries again
        response = customers.start(application_for(ONBOARDING["pass"], "cus-retried"))
        cloud.run_until_quiescent()
        # THEN the second was accepted and the workflow ran, once
        assert response["statusCode"] == 202
        assert faults.throttled == 3
        status = customers.status("cus-retried")
        assert status is not None
        assert status["status"] == "COMPLETED"
        assert cloud.ledger.published_by_type["WorkflowStarted"] == 1
