"""Named resources that exist outside the stack: what an earlier stack retained, or anyone else's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.unit.preflight.accounts import ACCOUNT, REGION, cdk_template, set_stack_status, write_cdk_out
from workflowkit.preflight import NameCollisionCheck, StackTemplate, Status, load_stack_template

_KEY = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
_TABLE_PROPS = {
    "TableName": "workflowkit-prod-orders",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
    **_KEY,
}


def _retained(resource_type: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": resource_type,
        "Properties": properties,
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    }


def _stack(tmp_path: Path, resources: dict[str, Any]) -> StackTemplate:
    return load_stack_template(
        write_cdk_out(tmp_path, cdk_template(resources), stack="WorkflowKit-prod"), "prod"
    )


def _role_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "states.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def _state_machine(session: boto3.Session) -> None:
    role = session.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument=_role_policy())
    session.client("stepfunctions").create_state_machine(
        name="workflowkit-prod-payment",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=role["Role"]["Arn"],
    )


def _rule(session: boto3.Session) -> None:
    session.client("events").create_event_bus(Name="workflowkit-prod")
    session.client("events").put_rule(
        Name="orders", EventBusName="workflowkit-prod", EventPattern='{"a":["b"]}'
    )


def _alias(session: boto3.Session) -> None:
    key = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
    session.client("kms").create_alias(AliasName="alias/workflowkit/prod", TargetKeyId=key)


# (resource type, its properties in the template, how an earlier stack or a person left it in the account)
EXISTING: list[tuple[str, dict[str, Any], Callable[[boto3.Session], Any]]] = [
    (
        "AWS::DynamoDB::Table",
        _TABLE_PROPS,
        lambda s: s.client("dynamodb").create_table(
            TableName="workflowkit-prod-orders",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            **_KEY,
        ),
    ),
    ("AWS::SQS::Queue", {"QueueName": "wk-q"}, lambda s: s.client("sqs").create_queue(QueueName="wk-q")),
    ("AWS::SNS::Topic", {"TopicName": "wk-t"}, lambda s: s.client("sns").create_topic(Name="wk-t")),
    (
        "AWS::Logs::LogGroup",
        {"LogGroupName": "/aws/vendedlogs/states/workflowkit-prod-payment"},
        lambda s: s.client("logs").create_log_group(
            logGroupName="/aws/vendedlogs/states/workflowkit-prod-payment"
        ),
    ),
    (
        "AWS::Events::EventBus",
        {"Name": "workflowkit-prod"},
        lambda s: s.client("events").create_event_bus(Name="workflowkit-prod"),
    ),
    ("AWS::Events::Rule", {"Name": "orders", "EventBusName": "workflowkit-prod"}, _rule),
    (
        "AWS::Events::Archive",
        {"ArchiveName": "wk-archive"},
        lambda s: s.client("events").create_archive(
            ArchiveName="wk-archive", EventSourceArn=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
        ),
    ),
    (
        "AWS::Scheduler::ScheduleGroup",
        {"Name": "workflowkit-prod"},
        lambda s: s.client("scheduler").create_schedule_group(Name="workflowkit-prod"),
    ),
    ("AWS::StepFunctions::StateMachine", {"StateMachineName": "workflowkit-prod-payment"}, _state_machine),
    ("AWS::KMS::Alias", {"AliasName": "alias/workflowkit/prod"}, _alias),
    (
        "AWS::IAM::Role",
        {"RoleName": "wk-role"},
        lambda s: s.client("iam").create_role(RoleName="wk-role", AssumeRolePolicyDocument=_role_policy()),
    ),
    (
        "AWS::CloudWatch::Dashboard",
        {"DashboardName": "wk"},
        lambda s: s.client("cloudwatch").put_dashboard(DashboardName="wk", DashboardBody="{}"),
    ),
    (
        "AWS::CloudWatch::Alarm",
        {"AlarmName": "wk-alarm"},
        lambda s: s.client("cloudwatch").put_metric_alarm(
            AlarmName="wk-alarm",
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        ),
    ),
    (
        "AWS::SSM::Parameter",
        {"Name": "/wk/setting"},
        lambda s: s.client("ssm").put_parameter(Name="/wk/setting", Value="x", Type="String"),
    ),
    (
        "AWS::S3::Bucket",
        {"BucketName": "wk-bucket-1"},
        lambda s: s.client("s3").create_bucket(Bucket="wk-bucket-1"),
    ),
]


@pytest.mark.parametrize(("resource_type", "properties", "leave"), EXISTING, ids=[e[0] for e in EXISTING])
def test_a_retained_named_resource_left_in_the_account_collides(
    session: boto3.Session,
    tmp_path: Path,
    resource_type: str,
    properties: dict[str, Any],
    leave: Callable[[boto3.Session], Any],
) -> None:
    # GIVEN the resource exists, and no stack of that name does (it was deleted, retaining it)
    leave(session)
    stack = _stack(tmp_path, {"Thing": _retained(resource_type, properties)})

    # WHEN preflight looks for collisions
    result = NameCollisionCheck().run(session, stack)

    # THEN it fails, naming the resource and the ways out
    assert result.status is Status.FAILED, result.detail
    assert "(Thing) exists outside WorkflowKit-prod" in result.detail
    assert "import it into the stack" in result.fix


@pytest.mark.parametrize(("resource_type", "properties", "leave"), EXISTING, ids=[e[0] for e in EXISTING])
def test_a_free_name_passes(
    session: boto3.Session,
    tmp_path: Path,
    resource_type: str,
    properties: dict[str, Any],
    leave: Callable[[boto3.Session], Any],
) -> None:
    result = NameCollisionCheck().run(
        session, _stack(tmp_path, {"Thing": _retained(resource_type, properties)})
    )

    assert result.status is Status.OK
    assert "1 named resources (1 retained on delete), none taken" in result.detail


def test_a_named_resource_that_is_not_retained_collides_too(session: boto3.Session, tmp_path: Path) -> None:
    session.client("sqs").create_queue(QueueName="wk-q")

    result = NameCollisionCheck().run(
        session, _stack(tmp_path, {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "wk-q"}}})
    )

    assert result.status is Status.FAILED
    assert "not the stack's" in result.fix


def test_names_built_from_pseudo_parameters_resolve(session: boto3.Session, tmp_path: Path) -> None:
    session.client("sqs").create_queue(QueueName=f"wk-{REGION}-{ACCOUNT}")
    name = {"Fn::Sub": "wk-${AWS::Region}-${AWS::AccountId}"}

    result = NameCollisionCheck().run(
        session, _stack(tmp_path, {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}}})
    )

    assert result.status is Status.FAILED
    assert f"queue 'wk-{REGION}-{ACCOUNT}'" in result.detail


def test_the_stacks_own_resource_is_no_collision(session: boto3.Session, tmp_path: Path) -> None:
    # GIVEN the stack is deployed and holds the named table under the same logical id
    resources = {"Orders": _retained("AWS::DynamoDB::Table", _TABLE_PROPS)}
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-prod", TemplateBody=json.dumps({"Resources": resources})
    )

    result = NameCollisionCheck().run(session, _stack(tmp_path, resources))

    assert result.status is Status.OK


def test_a_name_moved_to_another_logical_id_collides(session: boto3.Session, tmp_path: Path) -> None:
    deployed = {"OldOrders": _retained("AWS::DynamoDB::Table", _TABLE_PROPS)}
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-prod", TemplateBody=json.dumps({"Resources": deployed})
    )

    result = NameCollisionCheck().run(
        session, _stack(tmp_path, {"Orders": _retained("AWS::DynamoDB::Table", _TABLE_PROPS)})
    )

    assert result.status is Status.FAILED
    assert "moved to another logical id" in result.fix


def test_a_stack_the_cli_recreates_owns_nothing(session: boto3.Session, tmp_path: Path) -> None:
    # GIVEN the stack's first create failed, retaining its table; cdk deploy deletes and re-creates it
    resources = {"Orders": _retained("AWS::DynamoDB::Table", _TABLE_PROPS)}
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-prod", TemplateBody=json.dumps({"Resources": resources})
    )
    set_stack_status("WorkflowKit-prod", "ROLLBACK_COMPLETE")

    result = NameCollisionCheck().run(session, _stack(tmp_path, resources))

    assert result.status is Status.FAILED


def test_names_that_depend_on_generated_ones_are_skipped(session: boto3.Session, tmp_path: Path) -> None:
    resources = {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {"Name": "r", "EventBusName": {"Ref": "Bus"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["Bus", "Arn"]}}},
    }

    result = NameCollisionCheck().run(session, _stack(tmp_path, resources))

    assert result.status is Status.OK
    assert "names no resource" in result.detail
