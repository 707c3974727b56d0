"""``workflowkit timeline ID --executions``: the workflow's events, then each of its state machine
executions event by event, as GetExecutionHistory records them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflowkit.cli import main


def test_timeline_shows_each_state_machine_execution_of_the_workflow(
    cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two processes: the execution histories come back from the shard that ran the workflow.
    arguments = ["timeline", "sim-000001", "--cdk-out", str(cdk_out), "--count", "4", "--mix", "happy=1"]
    assert main([*arguments, "--workers", "2", "--executions"]) == 0
    out = capsys.readouterr().out
    header = re.search(r"^state machine executions \((\d+)\):$", out, re.MULTILINE)
    assert header is not None
    assert int(header.group(1)) >= 1
    executions = out[header.end() :]
    # The order's payment flow, named by workflow and machine, with the execution the controller started.
    payment = r"^  order payment flow: sim-000001-\w+-payment-1 \(SUCCEEDED\)$"
    assert re.search(payment, executions, re.MULTILINE)
    events = re.findall(r"^    \+\s*[\d.]+s  #(\d+)\s+<-#(\d+)\s+(\w+)", executions, re.MULTILINE)
    kinds = [kind for _, _, kind in events]
    assert kinds[0] == "ExecutionStarted"
    assert "TaskStateEntered" in kinds
    assert "ExecutionSucceeded" in kinds
    assert re.search(r"TaskStateEntered\s+ValidateOrder", executions)
    # Without the option the timeline is as it was: the workflow's events only.
    assert main(arguments) == 0
    assert "state machine executions" not in capsys.readouterr().out


def test_a_saved_run_has_no_execution_histories_to_show(
    cdk_out: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "run.json"
    saved.write_text('{"workflows": {}}')
    assert main(["timeline", "sim-000000", "--run", str(saved), "--executions"]) == 1
    assert "no execution histories" in capsys.readouterr().err
