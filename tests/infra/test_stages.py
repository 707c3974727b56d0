"""What differs between stages is safe: data kept where it must be, a stack redeployable after deletion,
and the topics' subscribers taken from configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import stage_config
from infra.constructs.topics import TopicSubscription, parse_subscriptions
from tests.infra.conftest import DEV_CONTEXT, ROOT, Synthesized

# Properties that give a resource a fixed physical name, per type (retained or not).
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Archive": "ArchiveName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
}


def _mentions_stack_id(value: Any) -> bool:
    if isinstance(value, dict):
        return value == {"Ref": "AWS::StackId"} or any(_mentions_stack_id(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_stack_id(v) for v in value)
    return False


def _retained(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in synth.resources.items() if r.get("DeletionPolicy") == "Retain"}


def test_a_retained_resource_never_has_a_name_a_redeploy_would_collide_with(synthesized: Synthesized) -> None:
    # A resource left behind by a deleted stack keeps its name: a fixed name makes the next deploy of the
    # stage fail with AlreadyExists. Retained resources get CloudFormation's generated names, or a name
    # unique to the stack instance (derived from AWS::StackId).
    retained = _retained(synthesized)
    assert {"AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::Logs::LogGroup"} <= {
        r["Type"] for r in retained.values()
    }
    for lid, resource in retained.items():
        name_property = NAME_PROPERTIES.get(resource["Type"])
        assert name_property is not None or resource["Type"] == "AWS::KMS::Key", f"{lid}: {resource['Type']}"
        name = resource.get("Properties", {}).get(name_property) if name_property else None
        assert name is None or _mentions_stack_id(name), f"{lid} is retained with the fixed name {name!r}"


def test_what_keeps_no_data_is_not_retained(synthesized: Synthesized) -> None:
    # The bus holds no data (events are delivered in seconds; the archive goes with it): it keeps its
    # well-known name, so it must not outlive the stack.
    (bus,) = synthesized.of_type("AWS::Events::EventBus").values()
    assert bus.get("DeletionPolicy", "Delete") == "Delete"


def test_tables_are_protected_from_deletion_where_the_stage_keeps_data(
    synthesized: Synthesized, dev_synthesized: Synthesized
) -> None:
    tables = synthesized.of_type("AWS::DynamoDB::Table")
    assert tables
    for lid, table in tables.items():
        assert table["DeletionPolicy"] == "Retain", lid
        assert table["Properties"]["DeletionProtectionEnabled"] is True, lid
    for lid, table in dev_synthesized.of_type("AWS::DynamoDB::Table").items():
        assert table["DeletionPolicy"] == "Delete", lid
        assert not table["Properties"].get("DeletionProtectionEnabled", False), lid


def test_topic_subscribers_come_from_cdk_context(
    synthesized: Synthesized, dev_synthesized: Synthesized
) -> None:
    assert not synthesized.of_type("AWS::SNS::Subscription")  # no context, no subscribers
    topics = dev_synthesized.stack.topics
    alarms, escalation, notices = (
        dev_synthesized.logical_id(topic) for topic in (topics.alarms, topics.escalation, topics.notices)
    )
    subscriptions = {
        (s["Properties"]["TopicArn"]["Ref"], s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in dev_synthesized.of_type("AWS::SNS::Subscription").values()
    }
    assert subscriptions == {
        (alarms, "email", "ops@example.com"),
        (alarms, "https", "https://hooks.example.com/alarms"),
        (escalation, "email", "oncall@example.com"),
        (notices, "email-json", "notices@example.com"),
    }


def test_stage_config_reads_the_stage_and_the_subscriptions_from_context() -> None:
    config = stage_config(cdk.App(context=DEV_CONTEXT))
    assert config.stage == "dev"
    assert not config.retain_data
    assert config.alarm_subscriptions == (
        TopicSubscription("email", "ops@example.com"),
        TopicSubscription("https", "https://hooks.example.com/alarms"),
    )
    assert stage_config(cdk.App(context={"stage": "prod"})).retain_data
    assert stage_config(cdk.App(context={"stage": "prod"})).alarm_subscriptions == ()
    assert config.notice_subscriptions == (TopicSubscription("email-json", "notices@example.com"),)


def test_the_functions_and_state_machine_folders_come_from_context(tmp_path: Path) -> None:
    default = stage_config(cdk.App())
    assert (default.functions_dir, default.statemachines_dir) == (ROOT / "functions", ROOT / "statemachines")
    config = stage_config(
        cdk.App(context={"functionsDir": str(tmp_path / "functions"), "statemachinesDir": "build/asl"})
    )
    assert config.functions_dir == tmp_path / "functions"
    assert config.statemachines_dir == ROOT / "build" / "asl"  # relative to the app, where cdk runs it


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        (
            " email:a@example.com , https://h.example.com/x ",
            (
                TopicSubscription("email", "a@example.com"),
                TopicSubscription("https", "https://h.example.com/x"),
            ),
        ),
        (["sms:+15550100"], (TopicSubscription("sms", "+15550100"),)),
    ],
)
def test_subscriptions_are_protocol_endpoint_pairs(
    value: Any, expected: tuple[TopicSubscription, ...]
) -> None:
    assert parse_subscriptions(value) == expected


@pytest.mark.parametrize(
    "value", ["http://plain.example.com/x", "lambda:arn:aws:lambda:x", "ops@example.com"]
)
def test_a_subscription_the_kit_cannot_deliver_safely_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="subscription"):
        parse_subscriptions(value)
