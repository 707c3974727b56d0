"""CDK bootstrap: the version parameter against what the stack requires, the toolkit stack, the bucket."""

from __future__ import annotations

from pathlib import Path

import boto3

from tests.unit.preflight.accounts import (
    ACCOUNT,
    REGION,
    bootstrap,
    cdk_template,
    set_stack_status,
    write_cdk_out,
)
from workflowkit.preflight import (
    BootstrapVersionCheck,
    StackTemplate,
    Status,
    ToolkitStackCheck,
    load_stack_template,
)


def _stack(tmp_path: Path, required: int = 6) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template({}), required_version=required), "dev")


def test_a_recent_bootstrap_passes(session: boto3.Session, tmp_path: Path) -> None:
    bootstrap(session, version=30)

    result = BootstrapVersionCheck().run(session, _stack(tmp_path))

    assert result.status is Status.OK
    assert "version 30 >= 6" in result.detail


def test_no_bootstrap_parameter_fails_with_the_bootstrap_command(
    session: boto3.Session, tmp_path: Path
) -> None:
    result = BootstrapVersionCheck().run(session, _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "not bootstrapped" in result.detail
    assert result.fix == f"npx cdk bootstrap aws://{ACCOUNT}/{REGION}"


def test_an_old_bootstrap_version_fails(session: boto3.Session, tmp_path: Path) -> None:
    bootstrap(session, version=5)

    result = BootstrapVersionCheck().run(session, _stack(tmp_path, required=21))

    assert result.status is Status.FAILED
    assert "bootstrap version 5" in result.detail
    assert "requires 21" in result.detail
    assert result.fix.startswith("npx cdk bootstrap")


def test_a_healthy_toolkit_stack_with_its_bucket_passes(session: boto3.Session, tmp_path: Path) -> None:
    bootstrap(session)

    result = ToolkitStackCheck().run(session, _stack(tmp_path))

    assert result.status is Status.OK
    assert "CDKToolkit CREATE_COMPLETE" in result.detail


def test_no_toolkit_stack_fails(session: boto3.Session, tmp_path: Path) -> None:
    bootstrap(session, stack=False)

    result = ToolkitStackCheck().run(session, _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "no CDKToolkit stack" in result.detail
    assert "toolkitStackName" in result.fix


def test_a_failed_toolkit_stack_fails_with_how_to_recover(session: boto3.Session, tmp_path: Path) -> None:
    bootstrap(session)
    set_stack_status("CDKToolkit", "UPDATE_ROLLBACK_FAILED")

    result = ToolkitStackCheck().run(session, _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "continue-update-rollback" in result.fix


def test_a_deleted_asset_bucket_fails_with_delete_and_bootstrap_again(
    session: boto3.Session, tmp_path: Path
) -> None:
    bootstrap(session, bucket=False)

    result = ToolkitStackCheck().run(session, _stack(tmp_path))

    assert result.status is Status.FAILED
    assert "asset bucket" in result.detail
    assert "delete the CDKToolkit stack" in result.fix
