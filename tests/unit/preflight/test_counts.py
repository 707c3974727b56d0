"""Account-wide counts: IAM roles and policies, tables, state machines, schedule groups vs their quotas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.iam.models import iam_backends

from tests.unit.preflight.accounts import ACCOUNT, REGION, StubbedSession, cdk_template, write_cdk_out
from workflowkit.preflight import ResourceCountCheck, StackTemplate, Status, load_stack_template
from workflowkit.preflight.counts import resource_count_checks

_TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _check(name: str) -> ResourceCountCheck:
    return next(check for check in resource_count_checks() if check.name == name)


def _roles(count: int) -> dict[str, Any]:
    return {
        f"Role{i}": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
        for i in range(count)
    }


def _stack(tmp_path: Path, resources: dict[str, Any]) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template(resources)), "dev")


def _roles_quota(value: int) -> None:
    """moto reports IAM's default quotas; a lower one is set on its account summary."""
    iam_backends[ACCOUNT]["global"].account_summary._roles_quota = value


def test_roles_within_the_quota_pass(session: boto3.Session, tmp_path: Path) -> None:
    result = _check("iam-roles").run(session, _stack(tmp_path, _roles(11)))

    assert result.status is Status.OK
    assert "0 exist + 11 new = 11 of 1000" in result.detail
    assert "IAM GetAccountSummary RolesQuota" in result.detail


def test_roles_beyond_the_quota_fail(session: boto3.Session, tmp_path: Path) -> None:
    _roles_quota(12)
    for index in range(3):
        session.client("iam").create_role(RoleName=f"other-{index}", AssumeRolePolicyDocument=_TRUST)

    result = _check("iam-roles").run(session, _stack(tmp_path, _roles(11)))

    assert result.status is Status.FAILED
    assert "3 exist + 11 new = 14 of 12" in result.detail
    assert "L-FE177D64" in result.fix


def test_roles_near_the_quota_warn(session: boto3.Session, tmp_path: Path) -> None:
    _roles_quota(12)

    result = _check("iam-roles").run(session, _stack(tmp_path, _roles(11)))

    assert result.status is Status.WARNING  # 11 of 12, above 90%


def test_a_deployed_stacks_roles_are_not_new(session: boto3.Session, tmp_path: Path) -> None:
    _roles_quota(12)
    deployed = {
        f"Role{i}": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
        for i in range(10)
    }
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-dev", TemplateBody=json.dumps({"Resources": deployed})
    )

    result = _check("iam-roles").run(session, _stack(tmp_path, _roles(11)))

    assert "10 exist + 1 new = 11 of 12" in result.detail


def test_tables_use_the_applied_service_quota(session: boto3.Session, tmp_path: Path) -> None:
    client = boto3.client("service-quotas", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_service_quota",
        {"Quota": {"QuotaCode": "L-F98FE922", "Value": 2.0}},
        {"ServiceCode": "dynamodb", "QuotaCode": "L-F98FE922"},
    )
    session.client("dynamodb").create_table(
        TableName="other",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    tables = {f"T{i}": {"Type": "AWS::DynamoDB::Table", "Properties": {}} for i in range(2)}

    with stubber:
        result = _check("dynamodb-tables").run(
            StubbedSession({"service-quotas": client}), _stack(tmp_path, tables)
        )

    assert result.status is Status.FAILED
    assert "1 exist + 2 new = 3 of 2 (150%) (quota: Service Quotas L-F98FE922)" in result.detail


@pytest.mark.parametrize(
    ("name", "resource_type", "default"),
    [
        ("iam-managed-policies", "AWS::IAM::ManagedPolicy", "1500"),
        ("dynamodb-tables", "AWS::DynamoDB::Table", "2500"),
        ("state-machines", "AWS::StepFunctions::StateMachine", "100000"),
        ("schedule-groups", "AWS::Scheduler::ScheduleGroup", "500"),
    ],
)
def test_each_count_reads_the_account(
    session: boto3.Session, tmp_path: Path, name: str, resource_type: str, default: str
) -> None:
    result = _check(name).run(session, _stack(tmp_path, {"R": {"Type": resource_type, "Properties": {}}}))

    assert result.status is Status.OK
    assert "+ 1 new = " in result.detail
    assert f" of {default} " in result.detail


def test_a_type_the_template_does_not_use_is_ok_without_asking(
    session: boto3.Session, tmp_path: Path
) -> None:
    result = _check("state-machines").run(session, _stack(tmp_path, {}))

    assert result.status is Status.OK
    assert result.detail == "the template declares no state machine"
