"""``LocalCloud.deploy``: a new template applied to a running local cloud, as a stack update.

A small hand-written app: a bus, two rules into one function that writes each event it gets to a table,
a queue holding a message. Version 2 removes one rule, gives the function new code (the same module
name, in another asset folder) and another environment, and adds a table its role may now write.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from workflowkit import LocalCloud
from workflowkit.update import UpdateError

STACK = "Deploying"
WRITER_V1 = """
import os

import boto3

NOTES = boto3.resource("dynamodb").Table(os.environ["NOTES"])


def handler(event, context):
    NOTES.put_item(Item={"pk": event["detail"]["key"], "code": "v1", "label": os.environ["LABEL"]})
"""
WRITER_V2 = """
import os

import boto3

NOTES = boto3.resource("dynamodb").Table(os.environ["NOTES"])
AUDIT = boto3.resource("dynamodb").Table(os.environ["AUDIT"])


def handler(event, context):
    NOTES.put_item(Item={"pk": event["detail"]["key"], "code": "v2", "label": os.environ["LABEL"]})
    AUDIT.put_item(Item={"pk": event["detail"]["key"]})
"""


def _table() -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    }


def _rule(detail_type: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventBusName": {"Ref": "Bus"},
            "EventPattern": {"detail-type": [detail_type]},
            "Targets": [{"Id": "Writer", "Arn": {"Fn::GetAtt": ["Writer", "Arn"]}}],
        },
    }


def template(version: int) -> dict[str, Any]:
    tables = ["Notes"] if version == 1 else ["Notes", "Audit"]
    environment: dict[str, Any] = {"NOTES": {"Ref": "Notes"}, "LABEL": "first" if version == 1 else "second"}
    if version == 2:
        environment["AUDIT"] = {"Ref": "Audit"}
    resources: dict[str, Any] = {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "app"}},
        "Parked": {"Type": "AWS::SQS::Queue", "Properties": {}},
        **{name: _table() for name in tables},
        "WriterRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "write",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "dynamodb:PutItem",
                                    "Resource": [{"Fn::GetAtt": [name, "Arn"]} for name in tables],
                                }
                            ],
                        },
                    }
                ],
            },
        },
        "Writer": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "writer.handler",
                "Role": {"Fn::GetAtt": ["WriterRole", "Arn"]},
                "Runtime": "python3.13",
                "Timeout": 10,
                "Environment": {"Variables": environment},
            },
            "Metadata": {"aws:asset:path": f"asset.v{version}"},
        },
        "WriterInvoke": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["Writer", "Arn"]},
                "Principal": "events.amazonaws.com",
            },
        },
        "Greeted": _rule("Greeted"),
    }
    if version == 1:
        resources["Waved"] = _rule("Waved")
    outputs = {f"{name}Table": {"Value": {"Ref": name}} for name in tables}
    return {"Resources": resources, "Outputs": outputs}


def cloud_assembly(out: Path, version: int, *, template_body: dict[str, Any] | None = None) -> Path:
    asset = out / f"asset.v{version}"
    asset.mkdir(parents=True)
    (asset / "writer.py").write_text(textwrap.dedent(WRITER_V1 if version == 1 else WRITER_V2))
    (out / f"{STACK}.template.json").write_text(json.dumps(template_body or template(version)))
    manifest = {
        "artifacts": {
            STACK: {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": f"{STACK}.template.json"},
            }
        }
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(cdk_out=cloud_assembly(tmp_path / "v1", 1), seed=5) as local:
        yield local


def _put(cloud: LocalCloud, detail_type: str, key: str) -> str:
    entry = {
        "EventBusName": "app",
        "Source": "test",
        "DetailType": detail_type,
        "Detail": json.dumps({"key": key}),
    }
    return str(boto3.client("events").put_events(Entries=[entry])["Entries"][0]["EventId"])


def _notes(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(cloud.outputs["NotesTable"])
    return {item["pk"]: {k: v for k, v in item.items() if k != "pk"} for item in table.scan()["Items"]}


def test_a_deployment_runs_new_code_stops_a_removed_rule_and_keeps_state(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # GIVEN version 1 running: both rules deliver to the function, and a message waits in a queue
    sqs = boto3.client("sqs")
    assert cloud.app is not None
    queue = cloud.app.templates[0].queue_url("Parked")
    sqs.send_message(QueueUrl=queue, MessageBody="kept")
    _put(cloud, "Greeted", "g1")
    _put(cloud, "Waved", "w1")
    cloud.run_until_quiescent()
    assert _notes(cloud) == {"g1": {"code": "v1", "label": "first"}, "w1": {"code": "v1", "label": "first"}}
    # WHEN version 2 is deployed
    changes = cloud.deploy(cloud_assembly(tmp_path / "v2", 2))
    greeted, waved = _put(cloud, "Greeted", "g2"), _put(cloud, "Waved", "w2")
    cloud.run_until_quiescent()
    # THEN the template's changes were applied: the rule removed, the function updated, a table added
    assert f"{STACK}/Waved" in changes.removed
    assert {f"{STACK}/Writer", f"{STACK}/WriterRole"} <= set(changes.updated)
    assert f"{STACK}/Audit" in changes.added
    # AND the function's new code ran (the same module name, from the new asset) with its new environment
    notes = _notes(cloud)
    assert notes["g2"] == {"code": "v2", "label": "second"}
    # AND it may write the new table: the role's new policy is enforced, nothing was refused
    audit = boto3.resource("dynamodb").Table(cloud.outputs["AuditTable"])
    assert [item["pk"] for item in audit.scan()["Items"]] == ["g2"]
    assert cloud.access.denials == []
    # AND the removed rule delivers nothing any more
    assert "w2" not in notes
    assert cloud.ledger.events[waved].rules == []
    assert cloud.ledger.events[greeted].rules != []
    # AND state was kept: the items written before, and the queue's message
    assert notes["g1"] == {"code": "v1", "label": "first"}
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["kept"]


def test_a_table_whose_keys_change_is_refused_before_anything_changes(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    body = template(2)
    body["Resources"]["Notes"]["Properties"]["KeySchema"][0]["AttributeName"] = "id"
    body["Resources"]["Notes"]["Properties"]["AttributeDefinitions"][0]["AttributeName"] = "id"
    with pytest.raises(UpdateError, match="Notes: KeySchema, AttributeDefinitions changed"):
        cloud.deploy(cloud_assembly(tmp_path / "v2", 2, template_body=body))
    assert "AuditTable" not in cloud.outputs
    assert "Audit" not in " ".join(boto3.client("dynamodb").list_tables()["TableNames"])
