"""A state machine paused for a human decision, on the local cloud, answered through boto3.

A small hand-written app: a table of pending decisions; a state machine whose first task puts its task
token in that table (``aws-sdk:dynamodb:putItem.waitForTaskToken``) and waits; two functions that read
the token and call ``states:SendTaskSuccess`` / ``SendTaskFailure``: ``Decide``, whose role holds what
CDK's ``stateMachine.grantTaskResponse(fn)`` grants (the three SendTask* actions on the state machine's
ARN), and ``Outsider``, whose role does not.
"""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from workflowkit import LocalCloud
from workflowkit.asl.tokens import new_token
from workflowkit.lambdas import HandlerError

STACK = "Approvals"
HANDLER = """
import json
import os

import boto3

DECISIONS = boto3.resource("dynamodb").Table(os.environ["DECISIONS"])
STATES = boto3.client("stepfunctions")


def handler(event, context):
    token = DECISIONS.get_item(Key={"id": event["id"]})["Item"]["token"]
    if "reject" in event:
        STATES.send_task_failure(taskToken=token, error="Rejected", cause=event["reject"])
    else:
        STATES.send_task_success(taskToken=token, output=json.dumps(event["decision"]))
    return {"answered": event["id"]}
"""


def _role(service: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {"PolicyName": "grants", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
            ],
        },
    }


def _function(role: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Handler": "answer.handler",
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Runtime": "python3.13",
            "Timeout": 10,
            "Environment": {"Variables": {"DECISIONS": {"Ref": "Decisions"}}},
        },
        "Metadata": {"aws:asset:path": "asset.answer"},
    }


def _definition() -> dict[str, Any]:
    ask = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
        "Parameters": {
            "TableName": "@TABLE@",
            "Item": {"id": {"S.$": "$.id"}, "token": {"S.$": "$$.Task.Token"}},
        },
        "TimeoutSeconds": 7 * 24 * 3600,  # a week for the human: background work, never "busy"
        "HeartbeatSecondsPath": "$.heartbeat",
        "ResultPath": "$.decision",
        "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}],
        "Next": "Decided",
    }
    return {
        "StartAt": "AskHuman",
        "States": {
            "AskHuman": ask,
            "Decided": {"Type": "Succeed"},
            "Rejected": {"Type": "Fail", "Error": "Rejected"},
        },
    }


def template() -> dict[str, Any]:
    table_arn = {"Fn::GetAtt": ["Decisions", "Arn"]}
    before, after = json.dumps(_definition()).split("@TABLE@")
    resources = {
        "Decisions": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        },
        "MachineRole": _role(
            "states.amazonaws.com", [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn}]
        ),
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "RoleArn": {"Fn::GetAtt": ["MachineRole", "Arn"]},
                "DefinitionString": {"Fn::Join": ["", [before, {"Ref": "Decisions"}, after]]},
            },
        },
        # What stateMachine.grantTaskResponse(decide) adds to the function's role
        "DecideRole": _role(
            "lambda.amazonaws.com",
            [
                {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table_arn},
                {
                    "Effect": "Allow",
                    "Action": [
                        "states:SendTaskSuccess",
                        "states:SendTaskFailure",
                        "states:SendTaskHeartbeat",
                    ],
                    "Resource": {"Ref": "Machine"},
                },
            ],
        ),
        "Decide": _function("DecideRole"),
        "OutsiderRole": _role(
            "lambda.amazonaws.com", [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table_arn}]
        ),
        "Outsider": _function("OutsiderRole"),
    }
    outputs = {
        "Table": {"Value": {"Ref": "Decisions"}},
        "MachineArn": {"Value": {"Ref": "Machine"}},
        "DecideFunction": {"Value": {"Ref": "Decide"}},
        "OutsiderFunction": {"Value": {"Ref": "Outsider"}},
    }
    return {"Resources": resources, "Outputs": outputs}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    (tmp_path / "asset.answer").mkdir()
    (tmp_path / "asset.answer" / "answer.py").write_text(textwrap.dedent(HANDLER))
    (tmp_path / f"{STACK}.template.json").write_text(json.dumps(template()))
    manifest = {
        "artifacts": {
            STACK: {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": f"{STACK}.template.json"},
            }
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with LocalCloud(cdk_out=tmp_path, seed=3) as local:
        yield local


def start(cloud: LocalCloud, decision_id: str, heartbeat: int = 3600) -> str:
    response = boto3.client("stepfunctions").start_execution(
        stateMachineArn=cloud.outputs["MachineArn"],
        name=decision_id,
        input=json.dumps({"id": decision_id, "heartbeat": heartbeat}),
    )
    return str(response["executionArn"])


def describe(execution_arn: str) -> dict[str, Any]:
    return dict(boto3.client("stepfunctions").describe_execution(executionArn=execution_arn))


def token_of(cloud: LocalCloud, decision_id: str) -> str:
    item = boto3.client("dynamodb").get_item(TableName=cloud.outputs["Table"], Key={"id": {"S": decision_id}})
    return str(item["Item"]["token"]["S"])


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def test_a_paused_execution_resumes_with_the_decision_sent_through_send_task_success(
    cloud: LocalCloud,
) -> None:
    # GIVEN an execution that stored its token and waits for a decision
    execution = start(cloud, "d-1")
    cloud.run_until_quiescent()  # returns although the task's week-long timeout is pending
    assert describe(execution)["status"] == "RUNNING"
    token = token_of(cloud, "d-1")
    # WHEN the function granted the task response sends the decision
    assert cloud.lambdas.invoke(
        cloud.outputs["DecideFunction"], {"id": "d-1", "decision": {"approved": True}}
    ) == {"answered": "d-1"}
    cloud.run_until_quiescent()
    # THEN the execution went on with the decision as the task's result
    described = describe(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["decision"] == {"approved": True}
    assert cloud.access.denials == []
    # AND the token is spent: answering it again is too late
    states = boto3.client("stepfunctions")
    assert error_code(lambda: states.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"


def test_a_caller_without_the_grant_is_denied_and_the_execution_keeps_waiting(cloud: LocalCloud) -> None:
    execution = start(cloud, "d-2")
    cloud.run_until_quiescent()
    # WHEN a function whose role lacks states:SendTaskSuccess on the state machine answers
    with pytest.raises(HandlerError) as refused:
        cloud.lambdas.invoke(cloud.outputs["OutsiderFunction"], {"id": "d-2", "decision": {"approved": True}})
    # THEN the call was refused as AWS refuses it, against the state machine's ARN
    assert "(AccessDeniedException) when calling the SendTaskSuccess operation" in refused.value.message
    (denial,) = cloud.access.denials
    assert (denial.action, denial.resource) == ("states:SendTaskSuccess", cloud.outputs["MachineArn"])
    cloud.run_until_quiescent()
    assert describe(execution)["status"] == "RUNNING"
    # AND the granted function's failure answer reaches the task: Catch applies
    cloud.lambdas.invoke(cloud.outputs["DecideFunction"], {"id": "d-2", "reject": "over budget"})
    cloud.run_until_quiescent()
    described = describe(execution)
    assert (described["status"], described["error"]) == ("FAILED", "Rejected")


def test_the_api_answers_with_the_step_functions_errors(cloud: LocalCloud) -> None:
    states = boto3.client("stepfunctions")
    execution = start(cloud, "d-3")
    cloud.run_until_quiescent()
    token = token_of(cloud, "d-3")
    never_issued = new_token(execution, random.Random(1))  # well formed, of this execution, never issued
    assert error_code(lambda: states.send_task_success(taskToken="garbage", output="{}")) == "InvalidToken"
    assert error_code(lambda: states.send_task_heartbeat(taskToken=never_issued)) == "TaskDoesNotExist"
    assert error_code(lambda: states.send_task_success(taskToken=token, output="{oops")) == "InvalidOutput"
    states.send_task_heartbeat(taskToken=token)  # still waiting: a heartbeat is accepted
    # WHEN the execution is stopped while it waits
    states.stop_execution(executionArn=execution, error="Cancelled", cause="the order was withdrawn")
    # THEN the token is no longer valid
    assert error_code(lambda: states.send_task_failure(taskToken=token, error="E")) == "TaskTimedOut"
    assert describe(execution)["status"] == "ABORTED"


def test_without_heartbeats_the_wait_ends_with_states_heartbeat_timeout_as_time_passes(
    cloud: LocalCloud,
) -> None:
    execution = start(cloud, "d-4", heartbeat=600)
    cloud.run_until_quiescent()
    cloud.run_for(timedelta(seconds=599))
    assert describe(execution)["status"] == "RUNNING"
    cloud.run_for(timedelta(seconds=2))
    described = describe(execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_a_callback_on_the_optimised_dynamodb_integration_is_an_invalid_definition(
    cloud: LocalCloud,
) -> None:
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem.waitForTaskToken",
                "Parameters": {"TableName": "t", "Item": {"id": {"S.$": "$$.Task.Token"}}},
                "End": True,
            }
        },
    }
    states = boto3.client("stepfunctions")
    with pytest.raises(ClientError) as refused:
        states.create_state_machine(
            name="refused", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "is not recognized" in refused.value.response["Error"]["Message"]
    # AND an update to such a definition is refused too, leaving the machine as it was
    machine = cloud.outputs["MachineArn"]
    before = states.describe_state_machine(stateMachineArn=machine)["definition"]
    with pytest.raises(ClientError) as refused:
        states.update_state_machine(stateMachineArn=machine, definition=json.dumps(definition))
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert states.describe_state_machine(stateMachineArn=machine)["definition"] == before
