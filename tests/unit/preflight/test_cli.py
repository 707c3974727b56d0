"""``workflowkit preflight`` in-process: the table, the JSON, and the exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import workflowkit.preflight
from tests.unit.preflight.accounts import (
    POWERTOOLS_LAYER,
    POWERTOOLS_PARAMETER,
    REGION,
    StubbedSession,
    bootstrap,
    cdk_template,
    publish_public_parameter,
    write_cdk_out,
)
from workflowkit.cli import main

RESOURCES: dict[str, Any] = {
    "Orders": {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": "wk-orders",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        },
        "DeletionPolicy": "Retain",
    },
    "Fn": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "Layers": [f"{{{{resolve:ssm:{POWERTOOLS_PARAMETER}}}}}"]},
    },
}


@pytest.fixture
def cdk_out(tmp_path: Path) -> Path:
    return write_cdk_out(tmp_path, cdk_template(RESOURCES))


@pytest.fixture
def lambda_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto has no GetAccountSettings: the CLI's session hands out a stubbed lambda client."""
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}},
    )
    stubber.activate()
    monkeypatch.setattr(
        workflowkit.preflight, "open_session", lambda region, template: StubbedSession({"lambda": client})
    )


@pytest.mark.usefixtures("lambda_limits")
def test_a_ready_account_prints_all_ok_and_exits_0(
    session: boto3.Session, cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(session)
    publish_public_parameter(POWERTOOLS_PARAMETER, POWERTOOLS_LAYER)

    code = main(["preflight", "--cdk-out", str(cdk_out), "--stage", "dev"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("preflight: WorkflowKit-dev in us-east-1")
    for check in ("credentials", "cdk-bootstrap", "ssm-parameters", "name-collisions", "lambda-concurrency"):
        assert any(line.startswith(check) and "  ok  " in line for line in out.splitlines()), out
    assert out.rstrip().endswith("0 failed, 0 warnings, 13 ok: ready to deploy")


def test_an_unprepared_account_prints_the_failures_with_fixes_and_exits_1(
    session: boto3.Session, cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no bootstrap, no layer parameter, and the table left by an earlier stack
    session.client("dynamodb").create_table(
        TableName="wk-orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    code = main(["preflight", "--cdk-out", str(cdk_out)])

    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    failed = {line.split()[0] for line in lines if line and line.split()[1:2] == ["failed"]}
    assert failed == {"cdk-bootstrap", "cdk-toolkit-stack", "ssm-parameters", "name-collisions"}
    assert "fix: npx cdk bootstrap aws://123456789012/us-east-1" in out
    assert "table 'wk-orders' (Orders) exists outside WorkflowKit-dev" in out
    assert "lambda-concurrency" in out  # moto has no GetAccountSettings: a warning, not a failure
    assert "not ready to deploy" in out


def test_json_output(session: boto3.Session, cdk_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preflight", "--cdk-out", str(cdk_out), "--json"])

    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["stack"] == "WorkflowKit-dev"
    assert document["region"] == "us-east-1"
    assert document["ok"] is False
    assert {c["check"] for c in document["checks"] if c["status"] == "failed"} >= {"cdk-bootstrap"}


def test_another_region_than_cdk_out_fails_before_anything_else(
    session: boto3.Session, cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["preflight", "--cdk-out", str(cdk_out), "--region", "eu-west-1"])

    out = capsys.readouterr().out
    assert code == 1
    assert "synthesized for region us-east-1" in out
    assert "not run: the credentials check failed" in out


def test_a_missing_cdk_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preflight", "--cdk-out", str(tmp_path / "cdk.out")])

    assert code == 2
    assert "npx cdk synth" in capsys.readouterr().err
