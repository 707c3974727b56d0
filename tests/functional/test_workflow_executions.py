"""The state-machine part of ``timeline``: a workflow's executions, found by correlation, event by event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.functional.test_execution_history import HANDLER, STACK, template
from workflowkit import LocalCloud
from workflowkit.simulator.executions import format_executions, workflow_executions


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    (tmp_path / "asset.work").mkdir()
    (tmp_path / "asset.work" / "work.py").write_text(HANDLER)
    (tmp_path / f"{STACK}.template.json").write_text(json.dumps(template()))
    artifact = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{STACK}.template.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {STACK: artifact}}))
    with LocalCloud(cdk_out=tmp_path, seed=5) as local:
        yield local


def test_a_workflows_executions_are_those_its_correlation_id_names(cloud: LocalCloud) -> None:
    states = boto3.client("stepfunctions")
    machine = cloud.outputs["MachineArn"]
    # Started by the controller with an event's detail, by a rule with the whole event, by someone else.
    inputs = {
        "w-1-direct": {"metadata": {"correlationId": "w-1"}, "fail": True},
        "w-1-by-rule": {"detail": {"metadata": {"correlationId": "w-1"}}},
        "w-2": {"metadata": {"correlationId": "w-2"}},
        "unrelated": {"n": 1},
    }
    for name, execution_input in inputs.items():
        states.start_execution(stateMachineArn=machine, name=name, input=json.dumps(execution_input))
    cloud.run_until_quiescent()

    found = workflow_executions(cloud, "w-1", flow_name=lambda machine_name: f"{machine_name} flow")
    assert [(e["flow"], e["execution"], e["status"]) for e in found] == [
        ("history-flow flow", "w-1-direct", "SUCCEEDED"),
        ("history-flow flow", "w-1-by-rule", "SUCCEEDED"),
    ]
    failed = found[0]["events"]
    assert [e["type"] for e in failed] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert failed[1]["state"] == "Work"
    assert failed[4]["note"].startswith("ValueError: ")
    assert failed[2]["note"] == cloud.outputs["WorkFunction"]
    assert all(e["offset_seconds"] >= 0 for e in failed)
    lines = format_executions(found)
    assert lines[0] == "  history-flow flow: w-1-direct (SUCCEEDED)"
    assert any("LambdaFunctionFailed" in line and "ValueError" in line for line in lines)
    assert workflow_executions(cloud, "nobody") == []
