"""Encryption at rest with the stage key, a closed bus, and no wildcard actions anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.infra.conftest import Synthesized

ENCRYPTED: dict[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("SSESpecification", "KMSMasterKeyId"),
    "AWS::SQS::Queue": ("KmsMasterKeyId",),
    "AWS::SNS::Topic": ("KmsMasterKeyId",),
    "AWS::Logs::LogGroup": ("KmsKeyId",),
}


def _key_id(synth: Synthesized) -> str:
    (key_id,) = synth.of_type("AWS::KMS::Key")
    return key_id


@pytest.mark.parametrize("cfn_type", sorted(ENCRYPTED))
def test_resources_are_encrypted_with_the_stage_key(synthesized: Synthesized, cfn_type: str) -> None:
    key_id = _key_id(synthesized)
    resources = synthesized.of_type(cfn_type)
    assert resources
    for lid, resource in resources.items():
        value: Any = resource["Properties"]
        for part in ENCRYPTED[cfn_type]:
            value = value[part]
        assert value == {"Fn::GetAtt": [key_id, "Arn"]}, lid
        if cfn_type == "AWS::DynamoDB::Table":
            assert resource["Properties"]["SSESpecification"]["SSEEnabled"] is True
            assert resource["Properties"]["PointInTimeRecoverySpecification"] == {
                "PointInTimeRecoveryEnabled": True
            }
            assert resource["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


def test_key_rotates(synthesized: Synthesized) -> None:
    (key,) = synthesized.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True


def test_bus_policy_admits_put_events_from_this_account_only(synthesized: Synthesized) -> None:
    (policy,) = synthesized.of_type("AWS::Events::EventBusPolicy").values()
    statement = policy["Properties"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Principal"] == {
        "AWS": {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
            ]
        }
    }
    bus_id = synthesized.logical_id(synthesized.stack.events.bus)
    assert policy["Properties"]["EventBusName"] == {"Ref": bus_id}
    assert statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_bus_is_archived(synthesized: Synthesized) -> None:
    (bus_id,) = synthesized.of_type("AWS::Events::EventBus")
    (archive,) = synthesized.of_type("AWS::Events::Archive").values()
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["RetentionDays"] >= 1


def test_queues_and_topics_refuse_plain_http(synthesized: Synthesized) -> None:
    secured = set()
    for policy_type, key in (("AWS::SQS::QueuePolicy", "Queues"), ("AWS::SNS::TopicPolicy", "Topics")):
        for policy in synthesized.of_type(policy_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if (
                    statement["Effect"] == "Deny"
                    and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                ):
                    secured |= {json.dumps(ref, sort_keys=True) for ref in policy["Properties"][key]}
    queues = {json.dumps({"Ref": lid}) for lid in synthesized.of_type("AWS::SQS::Queue")}
    topics = {json.dumps({"Ref": lid}) for lid in synthesized.of_type("AWS::SNS::Topic")}
    assert queues | topics <= secured


def _statements(synth: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    documents = {
        "AWS::IAM::Policy": "PolicyDocument",
        "AWS::IAM::Role": "AssumeRolePolicyDocument",
        "AWS::KMS::Key": "KeyPolicy",
        "AWS::SQS::QueuePolicy": "PolicyDocument",
        "AWS::SNS::TopicPolicy": "PolicyDocument",
    }
    for lid, resource in synth.resources.items():
        document = resource.get("Properties", {}).get(documents.get(resource["Type"], ""), None)
        if document:
            for statement in document["Statement"]:
                yield lid, statement
        if resource["Type"] == "AWS::Events::EventBusPolicy":
            yield lid, resource["Properties"]["Statement"]


def test_no_policy_statement_allows_a_wildcard_action(synthesized: Synthesized) -> None:
    count = 0
    for lid, statement in _statements(synthesized):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        wildcards = [a for a in actions if "*" in a]
        if statement["Effect"] == "Allow":
            assert not wildcards, f"{lid}: {actions}"
            count += 1
        else:  # the only Deny with a wildcard: refuse every SQS action over plain HTTP (enforce_ssl)
            assert not wildcards or statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, lid
    assert count > 20


def test_wildcard_resources_are_only_where_aws_requires_them(synthesized: Synthesized) -> None:
    allowed_prefixes = (
        "xray:",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    )
    for lid, resource in synthesized.of_type("AWS::IAM::Policy").items():
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if "*" in resources:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert all(a.startswith(allowed_prefixes) for a in actions), f"{lid}: {actions}"


ACCOUNT_REF = {"Ref": "AWS::AccountId"}
ALARM_ARNS = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":cloudwatch:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":alarm:*",
        ],
    ]
}


def _topic_policy_statements(synth: Synthesized, topic_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synth.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in policy["Properties"]["Topics"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _principal_services(statement: dict[str, Any]) -> list[Any]:
    principal = statement.get("Principal", {})
    service = principal.get("Service", []) if isinstance(principal, dict) else []
    return list(service if isinstance(service, list) else [service])


def _key_statements(synth: Synthesized) -> list[dict[str, Any]]:
    (key,) = synth.of_type("AWS::KMS::Key").values()
    return list(key["Properties"]["KeyPolicy"]["Statement"])


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


def test_cloudwatch_alarms_may_publish_to_the_alarm_topic(synthesized: Synthesized) -> None:
    # A topic policy replaces SNS's default one: without this statement no alarm ever notifies anyone.
    topic_id = synthesized.logical_id(synthesized.stack.topics.alarms)
    allows = [
        s
        for s in _topic_policy_statements(synthesized, topic_id)
        if s["Effect"] == "Allow" and "cloudwatch.amazonaws.com" in _principal_services(s)
    ]
    assert len(allows) == 1
    (statement,) = allows
    assert _actions(statement) == {"sns:Publish"}
    assert statement["Resource"] == {"Ref": topic_id}
    # Only this account's alarms in this region (confused deputy).
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_REF},
        "ArnLike": {"aws:SourceArn": ALARM_ARNS},
    }


def test_cloudwatch_alarms_may_use_the_key_that_encrypts_the_alarm_topic(synthesized: Synthesized) -> None:
    statements = [
        s for s in _key_statements(synthesized) if "cloudwatch.amazonaws.com" in _principal_services(s)
    ]
    assert len(statements) == 1
    (statement,) = statements
    assert _principal_services(statement) == ["cloudwatch.amazonaws.com"]
    # SNS encrypts a published message with a data key generated for CloudWatch, then verifies it.
    assert _actions(statement) == {"kms:Decrypt", "kms:GenerateDataKey"}
    # Not documented to reach KMS, so not relied on (0016): the topic policy carries the source conditions.
    assert "Condition" not in statement


def test_eventbridge_may_use_the_key_without_source_conditions(synthesized: Synthesized) -> None:
    # docs/decisions/0016: the SQS/SNS call to KMS on EventBridge's behalf does not carry aws:SourceAccount
    # or aws:SourceArn; with such a condition every rule -> queue delivery (and its DLQ) would fail.
    # The confused-deputy guard is each queue's policy (aws:SourceArn = the one rule).
    statements = [s for s in _key_statements(synthesized) if "events.amazonaws.com" in _principal_services(s)]
    assert len(statements) == 1
    (statement,) = statements
    assert _principal_services(statement) == ["events.amazonaws.com"]
    assert _actions(statement) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert "Condition" not in statement
    for queue_policy in synthesized.of_type("AWS::SQS::QueuePolicy").values():
        for s in queue_policy["Properties"]["PolicyDocument"]["Statement"]:
            if s["Effect"] == "Allow" and "events.amazonaws.com" in _principal_services(s):
                assert set(s["Condition"]) == {"ArnEquals"}
                assert set(s["Condition"]["ArnEquals"]) == {"aws:SourceArn"}


def _rendered(value: Any) -> str:
    """A principal or ARN as text: pseudo parameters as ``<Name>``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_rendered(part) for part in parts)
    return f"<{value['Ref']}>"


def test_only_aws_services_that_publish_as_themselves_get_key_or_topic_statements(
    synthesized: Synthesized,
) -> None:
    services = {
        _rendered(service)
        for statement in _key_statements(synthesized)
        for service in _principal_services(statement)
    }
    assert services == {
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
        "logs.<AWS::Region>.amazonaws.com",
    }
    # Escalation and notices topics are published by this stack's functions (IAM grants), never by a
    # service principal: their topic policies hold only the TLS deny.
    for topic in (synthesized.stack.topics.escalation, synthesized.stack.topics.notices):
        topic_id = synthesized.logical_id(topic)
        assert [s["Effect"] for s in _topic_policy_statements(synthesized, topic_id)] == ["Deny"]


def test_the_functions_that_publish_to_a_topic_may_do_so_and_no_other(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    # The services whose deployment.py names the topic (TopicNeed): order's notification and onboarding's
    # notices tell people on the notices topic; the controller escalates to operators.
    publishers = {
        stack.topics.escalation: (stack.controller.handler.role,),
        stack.topics.notices: (
            stack.consumers["notification"].handler.role,
            stack.consumers["onboarding_notices"].handler.role,
        ),
    }
    for topic, roles in publishers.items():
        for role in roles:
            role_ref = {"Ref": synthesized.logical_id(role)}
            statements = [
                s
                for policy in synthesized.of_type("AWS::IAM::Policy").values()
                if role_ref in policy["Properties"]["Roles"]
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            ]
            assert any(
                "sns:Publish" in _actions(s) and s["Resource"] == {"Ref": synthesized.logical_id(topic)}
                for s in statements
            ), (topic, role)
            kms = {"kms:GenerateDataKey", "kms:Decrypt"}
            assert any(kms <= _actions(s) for s in statements), (topic, role)
        granted = {
            role["Ref"]
            for policy in synthesized.of_type("AWS::IAM::Policy").values()
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if "sns:Publish" in _actions(s) and s["Resource"] == {"Ref": synthesized.logical_id(topic)}
            for role in policy["Properties"]["Roles"]
        }
        assert granted == {synthesized.logical_id(role) for role in roles}, topic
