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
        document = resource["Properties"].get(documents.get(resource["Type"], ""), None)
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
