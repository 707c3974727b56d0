"""Credentials: who the caller is, and whether cdk.out deploys to that account and region."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tests.unit.preflight.accounts import ACCOUNT, StubbedSession, cdk_template, write_cdk_out
from workflowkit.preflight import CredentialsCheck, StackTemplate, Status, load_stack_template


def _stack(tmp_path: Path, environment: str = "aws://unknown-account/us-east-1") -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template({}), environment=environment), "dev")


def test_the_caller_and_target_are_reported(session: boto3.Session, tmp_path: Path) -> None:
    result = CredentialsCheck().run(session, _stack(tmp_path))

    assert result.status is Status.OK
    assert f"account {ACCOUNT}, region us-east-1" in result.detail


def test_no_credentials_fail_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no credentials anywhere botocore looks (environment, files, instance metadata)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    result = CredentialsCheck().run(boto3.Session(region_name="us-east-1"), _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "no AWS credentials" in result.detail
    assert "aws sso login" in result.fix


def test_expired_credentials_fail(tmp_path: Path) -> None:
    # moto accepts any key; the expired-token answer is stubbed.
    sts = boto3.client("sts", region_name="us-east-1")
    stubber = Stubber(sts)
    stubber.add_client_error("get_caller_identity", "ExpiredToken", "The security token included has expired")
    with stubber:
        result = CredentialsCheck().run(StubbedSession({"sts": sts}), _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "expired" in result.detail


def test_a_stack_synthesized_for_another_account_fails(session: boto3.Session, tmp_path: Path) -> None:
    result = CredentialsCheck().run(session, _stack(tmp_path, "aws://111122223333/us-east-1"))

    assert result.status is Status.FAILED
    assert "synthesized for account 111122223333" in result.detail


def test_a_stack_synthesized_for_another_region_fails(session: boto3.Session, tmp_path: Path) -> None:
    result = CredentialsCheck().run(session, _stack(tmp_path, "aws://unknown-account/eu-west-1"))

    assert result.status is Status.FAILED
    assert "synthesized for region eu-west-1" in result.detail
    assert "--region eu-west-1" in result.fix


def test_no_region_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    result = CredentialsCheck().run(boto3.Session(), _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "--region" in result.fix
