"""The runner (one row per check, whatever AWS answers) and the table and JSON it prints."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.unit.preflight.accounts import cdk_template, write_cdk_out
from workflowkit.preflight import (
    Check,
    CheckResult,
    CredentialsCheck,
    StackTemplate,
    Status,
    as_json,
    format_table,
    load_stack_template,
    run_checks,
)


class Denied(Check):
    name = "denied"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetServiceQuota")


class Broken(Check):
    name = "broken"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        raise KeyError("Resources")


class Fine(Check):
    name = "fine"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        return self.ok("all good")


@pytest.fixture
def stack(tmp_path: Path) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template({})), "dev")


def test_an_access_denied_is_a_warning_naming_the_permission(
    session: boto3.Session, stack: StackTemplate
) -> None:
    (result,) = run_checks(session, stack, [Denied()])

    assert result.status is Status.WARNING
    assert result.detail == "could not check: GetServiceQuota was denied (AccessDeniedException)"
    assert "allow GetServiceQuota" in result.fix


def test_a_crashing_check_fails_its_row_and_the_others_still_run(
    session: boto3.Session, stack: StackTemplate
) -> None:
    broken, fine = run_checks(session, stack, [Broken(), Fine()])

    assert broken.status is Status.FAILED
    assert "KeyError" in broken.detail
    assert fine.status is Status.OK


def test_without_credentials_the_other_checks_are_not_run(
    stack: StackTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    credentials, fine = run_checks(
        boto3.Session(region_name="us-east-1"), stack, [CredentialsCheck(), Fine()]
    )

    assert credentials.status is Status.FAILED
    assert (fine.status, fine.detail) == (Status.WARNING, "not run: the credentials check failed")


def test_the_table_shows_each_row_and_the_fix_under_rows_that_are_not_ok() -> None:
    results = [
        CheckResult("credentials", Status.OK, "arn:aws:iam::1:user/me"),
        CheckResult(
            "cdk-bootstrap", Status.FAILED, "not bootstrapped", "npx cdk bootstrap aws://1/us-east-1"
        ),
        CheckResult("name-collisions", Status.WARNING, "2 found:\na\nb", "import a\nrename b"),
    ]

    table = format_table(results, title="preflight: WorkflowKit-dev")

    assert table.splitlines() == [
        "preflight: WorkflowKit-dev",
        "",
        "check            status   detail",
        "credentials      ok       arn:aws:iam::1:user/me",
        "cdk-bootstrap    failed   not bootstrapped",
        "                          fix: npx cdk bootstrap aws://1/us-east-1",
        "name-collisions  warning  2 found:",
        "                          a",
        "                          b",
        "                          fix: import a",
        "                               rename b",
        "",
        "1 failed, 1 warning, 1 ok: not ready to deploy",
    ]


def test_the_json_form_carries_the_verdict_and_every_row() -> None:
    results = [CheckResult("a", Status.OK, "x"), CheckResult("b", Status.WARNING, "y", "z")]

    document = as_json(results, stack="WorkflowKit-dev")

    assert document == {
        "stack": "WorkflowKit-dev",
        "ok": True,
        "failed": 0,
        "warnings": 1,
        "checks": [
            {"check": "a", "status": "ok", "detail": "x", "fix": ""},
            {"check": "b", "status": "warning", "detail": "y", "fix": "z"},
        ],
    }
