"""Resource types whose name is unique in an account (and region), and how to ask whether it is taken.

Only types where CloudFormation fails with "already exists" belong here: an HTTP API's ``Name``, for
one, is not unique, so two APIs of one name never collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

from workflowkit.preflight.errors import error_code, exists
from workflowkit.preflight.identity import Caller

# (session, caller, name, scope) -> whether a resource of that name exists; scope is the event bus of
# a rule or the group of a schedule (None: the default one).
Probe = Callable[[boto3.Session, Caller, str, str | None], bool]


@dataclass(frozen=True)
class NamedType:
    name_property: str
    noun: str
    probe: Probe
    scope_property: str | None = None


def _table(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("dynamodb").describe_table(TableName=name))


def _queue(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("sqs").get_queue_url(QueueName=name))


def _topic(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    arn = f"arn:{caller.partition}:sns:{caller.region}:{caller.account}:{name}"
    return exists(lambda: session.client("sns").get_topic_attributes(TopicArn=arn))


def _log_group(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    pages = session.client("logs").get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
    return any(group["logGroupName"] == name for page in pages for group in page["logGroups"])


def _event_bus(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("events").describe_event_bus(Name=name))


def _rule(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    bus = scope or "default"
    return exists(lambda: session.client("events").describe_rule(Name=name, EventBusName=bus))


def _archive(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("events").describe_archive(ArchiveName=name))


def _schedule_group(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("scheduler").get_schedule_group(Name=name))


def _schedule(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    group = scope or "default"
    return exists(lambda: session.client("scheduler").get_schedule(Name=name, GroupName=group))


def _state_machine(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    arn = f"arn:{caller.partition}:states:{caller.region}:{caller.account}:stateMachine:{name}"
    return exists(lambda: session.client("stepfunctions").describe_state_machine(stateMachineArn=arn))


def _function(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("lambda").get_function(FunctionName=name))


def _alias(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("kms").describe_key(KeyId=name))


def _role(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("iam").get_role(RoleName=name))


def _managed_policy(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    path = scope or "/"
    arn = f"arn:{caller.partition}:iam::{caller.account}:policy{path}{name}"
    return exists(lambda: session.client("iam").get_policy(PolicyArn=arn))


def _alarm(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    found = session.client("cloudwatch").describe_alarms(
        AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    return bool(found.get("MetricAlarms") or found.get("CompositeAlarms"))


def _dashboard(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("cloudwatch").get_dashboard(DashboardName=name))


def _parameter(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    return exists(lambda: session.client("ssm").get_parameter(Name=name))


def _bucket(session: boto3.Session, caller: Caller, name: str, scope: str | None) -> bool:
    # Bucket names are global: 403 means the name is taken, by another account.
    try:
        session.client("s3").head_bucket(Bucket=name)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket"):
            return False
        if error_code(error) in ("403", "AccessDenied"):
            return True
        raise
    return True


NAMED_TYPES: dict[str, NamedType] = {
    "AWS::DynamoDB::Table": NamedType("TableName", "table", _table),
    "AWS::DynamoDB::GlobalTable": NamedType("TableName", "table", _table),
    "AWS::SQS::Queue": NamedType("QueueName", "queue", _queue),
    "AWS::SNS::Topic": NamedType("TopicName", "topic", _topic),
    "AWS::Logs::LogGroup": NamedType("LogGroupName", "log group", _log_group),
    "AWS::Events::EventBus": NamedType("Name", "event bus", _event_bus),
    "AWS::Events::Rule": NamedType("Name", "rule", _rule, scope_property="EventBusName"),
    "AWS::Events::Archive": NamedType("ArchiveName", "archive", _archive),
    "AWS::Scheduler::ScheduleGroup": NamedType("Name", "schedule group", _schedule_group),
    "AWS::Scheduler::Schedule": NamedType("Name", "schedule", _schedule, scope_property="GroupName"),
    "AWS::StepFunctions::StateMachine": NamedType("StateMachineName", "state machine", _state_machine),
    "AWS::Lambda::Function": NamedType("FunctionName", "function", _function),
    "AWS::KMS::Alias": NamedType("AliasName", "key alias", _alias),
    "AWS::IAM::Role": NamedType("RoleName", "IAM role", _role),
    "AWS::IAM::ManagedPolicy": NamedType(
        "ManagedPolicyName", "IAM policy", _managed_policy, scope_property="Path"
    ),
    "AWS::CloudWatch::Alarm": NamedType("AlarmName", "alarm", _alarm),
    "AWS::CloudWatch::Dashboard": NamedType("DashboardName", "dashboard", _dashboard),
    "AWS::SSM::Parameter": NamedType("Name", "SSM parameter", _parameter),
    "AWS::S3::Bucket": NamedType("BucketName", "bucket", _bucket),
}
