"""The stack of that name: absent, updatable, re-created by the CLI, or stuck."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.unit.preflight.accounts import cdk_template, set_stack_status, write_cdk_out
from workflowkit.preflight import StackStateCheck, StackTemplate, Status, load_stack_template

_QUEUE = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}


def _stack(tmp_path: Path) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template({})), "dev")


def test_no_stack_yet_is_ok(session: boto3.Session, tmp_path: Path) -> None:
    result = StackStateCheck().run(session, _stack(tmp_path))

    assert result.status is Status.OK
    assert "creates it" in result.detail


@pytest.mark.parametrize(
    ("status", "expected", "words"),
    [
        ("UPDATE_COMPLETE", Status.OK, "updates it"),
        ("ROLLBACK_COMPLETE", Status.WARNING, "deletes it and creates it again"),
        ("UPDATE_IN_PROGRESS", Status.FAILED, "another operation is running"),
        ("UPDATE_ROLLBACK_FAILED", Status.FAILED, "rollback completes"),
        ("DELETE_FAILED", Status.FAILED, "DELETE_FAILED"),
    ],
)
def test_the_deployed_stack_state_decides(
    session: boto3.Session, tmp_path: Path, status: str, expected: Status, words: str
) -> None:
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-dev", TemplateBody=json.dumps(_QUEUE)
    )
    set_stack_status("WorkflowKit-dev", status)

    result = StackStateCheck().run(session, _stack(tmp_path))

    assert result.status is expected
    assert words in result.detail
