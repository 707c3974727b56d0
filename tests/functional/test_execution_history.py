"""GetExecutionHistory on the local cloud, through boto3, and executions that end whatever their data.

A small hand-written app: a function ``Work`` (echoes its event, or returns a blob of the size asked, or
fails); a state machine ``history-flow`` that runs it (a Lambda function ARN as the resource) and catches
any error into ``Caught``; two more functions whose roles are only read: ``Reader``, granted
``states:GetExecutionHistory`` on the machine's executions, and ``Outsider``, granted nothing.
"""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from workflowkit import LocalCloud

STACK = "History"
MACHINE = "history-flow"
EXECUTIONS = f"arn:aws:states:us-east-1:123456789012:execution:{MACHINE}:*"
HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("refused")
    return {"echo": event, "blob": "x" * event.get("size", 0)}
"""


def _role(service: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    policies = [
        {"PolicyName": "grants", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": policies if statements else [],
        },
    }


def _function(role: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Handler": "work.handler",
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Runtime": "python3.13",
            "Timeout": 10,
        },
        "Metadata": {"aws:asset:path": "asset.work"},
    }


def template() -> dict[str, Any]:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "@WORK@",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "Next": "Done",
            },
            "Done": {"Type": "Pass", "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    before, after = json.dumps(definition).split("@WORK@")
    work_arn = {"Fn::GetAtt": ["Work", "Arn"]}
    resources = {
        "WorkRole": _role("lambda.amazonaws.com", []),
        "Work": _function("WorkRole"),
        "MachineRole": _role(
            "states.amazonaws.com",
            [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": work_arn}],
        ),
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": MACHINE,
                "RoleArn": {"Fn::GetAtt": ["MachineRole", "Arn"]},
                "DefinitionString": {"Fn::Join": ["", [before, work_arn, after]]},
            },
        },
        "ReaderRole": _role(
            "lambda.amazonaws.com",
            [{"Effect": "Allow", "Action": "states:GetExecutionHistory", "Resource": EXECUTIONS}],
        ),
        "Reader": _function("ReaderRole"),
        "OutsiderRole": _role("lambda.amazonaws.com", []),
        "Outsider": _function("OutsiderRole"),
    }
    outputs = {
        "MachineArn": {"Value": {"Ref": "Machine"}},
        "WorkFunction": {"Value": {"Ref": "Work"}},
        "ReaderFunction": {"Value": {"Ref": "Reader"}},
        "OutsiderFunction": {"Value": {"Ref": "Outsider"}},
    }
    return {"Resources": resources, "Outputs": outputs}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    (tmp_path / "asset.work").mkdir()
    (tmp_path / "asset.work" / "work.py").write_text(textwrap.dedent(HANDLER))
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
    with LocalCloud(cdk_out=tmp_path, seed=5) as local:
        yield local


def states() -> Any:
    return boto3.client("stepfunctions")


def start(machine: str, execution_input: Any, name: str) -> str:
    return str(
        states().start_execution(stateMachineArn=machine, name=name, input=json.dumps(execution_input))[
            "executionArn"
        ]
    )


def history(execution: str, **options: Any) -> list[dict[str, Any]]:
    return list(states().get_execution_history(executionArn=execution, **options)["events"])


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_an_executions_history_comes_back_through_boto3_as_aws_records_it(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {"n": 1}, "first")
    cloud.run_until_quiescent()
    events = history(execution)
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == list(range(1, 10))
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5, 6, 7, 8]
    assert all(isinstance(e["timestamp"], datetime) for e in events)
    assert events[0]["timestamp"] <= events[1]["timestamp"] <= events[-1]["timestamp"]
    started = events[0]["executionStartedEventDetails"]
    assert json.loads(started["input"]) == {"n": 1}
    assert started["roleArn"].startswith("arn:aws:iam::123456789012:role/")
    scheduled = events[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled["resource"].endswith(f":function:{cloud.outputs['WorkFunction']}")
    assert json.loads(events[4]["lambdaFunctionSucceededEventDetails"]["output"]) == {
        "echo": {"n": 1},
        "blob": "",
    }
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == {
        "echo": {"n": 1},
        "blob": "",
    }


def test_the_history_comes_in_pages_either_way_and_without_data_on_request(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {"n": 2}, "paged")
    cloud.run_until_quiescent()
    everything = history(execution)
    # Pages of 4: the tokens lead through every event once, in order.
    pages, token = [], None
    while True:
        options = {"maxResults": 4, **({"nextToken": token} if token else {})}
        answer = states().get_execution_history(executionArn=execution, **options)
        pages.append([e["id"] for e in answer["events"]])
        token = answer.get("nextToken")
        if token is None:
            break
    assert pages == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    # boto3's paginator follows the same tokens; reverseOrder gives the newest first.
    paginator = states().get_paginator("get_execution_history")
    newest_first = [
        e["id"]
        for page in paginator.paginate(
            executionArn=execution, reverseOrder=True, PaginationConfig={"PageSize": 2}
        )
        for e in page["events"]
    ]
    assert newest_first == list(range(9, 0, -1))
    assert history(execution, maxResults=0) == everything  # 0 is the default page size, 100
    # Without execution data, inputs and outputs are left out and everything else kept.
    bare = history(execution, includeExecutionData=False)
    assert [e["type"] for e in bare] == [e["type"] for e in everything]
    assert bare[1]["stateEnteredEventDetails"] == {"name": "Work"}
    assert "output" not in bare[-1]["executionSucceededEventDetails"]
    # A token is only good for the request it came from.
    token = states().get_execution_history(executionArn=execution, maxResults=2)["nextToken"]
    code, _ = error_of(
        lambda: states().get_execution_history(executionArn=execution, nextToken=token, reverseOrder=True)
    )
    assert code == "InvalidToken"
    assert error_of(lambda: history(execution, nextToken="not-a-token"))[0] == "InvalidToken"
    assert error_of(lambda: history(execution, maxResults=1001))[0] == "ValidationException"
    unknown = execution.rsplit(":", 1)[0] + ":never-started"
    assert error_of(lambda: history(unknown))[0] == "ExecutionDoesNotExist"


def test_reading_a_history_needs_states_get_execution_history_on_the_execution(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {}, "guarded")
    cloud.run_until_quiescent()
    access = cloud.access
    with access.acting_as(access.function_role(cloud.outputs["ReaderFunction"])):
        assert history(execution)[-1]["type"] == "ExecutionSucceeded"
    assert access.denials == []
    with access.acting_as(access.function_role(cloud.outputs["OutsiderFunction"])):
        code, _ = error_of(lambda: history(execution))
    assert code == "AccessDeniedException"
    (denial,) = access.denials
    assert (denial.action, denial.resource) == ("states:GetExecutionHistory", execution)


def test_an_execution_has_its_history_from_start_execution_on(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {}, "queued")
    # Not running yet (it starts after a network latency): already ExecutionStarted.
    assert [e["type"] for e in history(execution)] == ["ExecutionStarted"]
    states().stop_execution(executionArn=execution, error="Withdrawn", cause="before it ran")
    cloud.run_until_quiescent()
    events = history(execution)
    assert [e["type"] for e in events] == ["ExecutionStarted", "ExecutionAborted"]
    assert events[1]["executionAbortedEventDetails"] == {"error": "Withdrawn", "cause": "before it ran"}


def test_a_task_result_over_256_kib_fails_the_task_and_the_catcher_takes_it(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {"size": 300_000}, "big")
    cloud.run_until_quiescent()
    described = states().describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["Error"] == "States.DataLimitExceeded"
    failed = [e for e in history(execution) if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == ["States.DataLimitExceeded"]


def test_start_execution_refuses_input_over_256_kib(cloud: LocalCloud) -> None:
    machine = cloud.outputs["MachineArn"]
    code, message = error_of(lambda: start(machine, {"blob": "x" * 262_144}, "too-big"))
    assert code == "ValidationException"
    assert "262144" in message
    start(machine, {"blob": "x" * (262_144 - 13)}, "just-fits")  # {"blob":"..."} is exactly 262,144 bytes
    cloud.run_until_quiescent()


def _machine(name: str, definition: dict[str, Any]) -> str:
    return str(
        states().create_state_machine(
            name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/any"
        )["stateMachineArn"]
    )


def test_no_error_in_a_definition_or_its_data_escapes_the_loop(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflowkit.asl import handlers  # noqa: PLC0415
    from workflowkit.asl.states import SucceedState  # noqa: PLC0415

    # A JSONPath filter over data it was not written for, a definition beyond the local interpreter
    # (JSONata), and a lower layer that raises a bare exception, all started together.
    pick = _machine(
        "pick",
        {
            "StartAt": "Pick",
            "States": {
                "Pick": {"Type": "Pass", "Parameters": {"cheap.$": "$.items[?(@.price > 10)]"}, "End": True}
            },
        },
    )
    jsonata = _machine(
        "jsonata",
        {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    )
    broken = _machine("broken", {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})

    def bug(_flow: Any, _state: Any) -> Any:
        raise AttributeError("'NoneType' object has no attribute 'get'")

    monkeypatch.setitem(handlers.HANDLERS, SucceedState, bug)
    started = {
        "odd data": start(pick, {"items": "not a list"}, "odd"),
        "jsonata": start(jsonata, {}, "jsonata"),
        "bug": start(broken, {}, "bug"),
        "after them": start(cloud.outputs["MachineArn"], {}, "after"),
    }
    cloud.run_until_quiescent()  # returns: nothing escaped
    described = {what: states().describe_execution(executionArn=arn) for what, arn in started.items()}
    # Whatever the filter makes of a string, the execution ended; the others failed as AWS fails a bug.
    assert described["odd data"]["status"] in ("SUCCEEDED", "FAILED")
    assert {what: d["status"] for what, d in described.items() if what != "odd data"} == {
        "jsonata": "FAILED",
        "bug": "FAILED",
        "after them": "SUCCEEDED",
    }
    for what in ("jsonata", "bug"):
        assert described[what]["error"] == "States.Runtime"
    assert described["bug"]["cause"].startswith(
        "An error occurred while executing the state 'Done' (entered at the event id #2). "
    )
    assert "AttributeError" in described["bug"]["cause"]
    assert "cannot run this definition" in described["jsonata"]["cause"]
    for what in ("odd data", "jsonata", "bug"):
        assert history(started[what])[-1]["type"] in ("ExecutionSucceeded", "ExecutionFailed")


def test_moto_answers_the_history_too(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {}, "via-moto")
    cloud.run_until_quiescent()
    answer = cloud.backends("stepfunctions").get_execution_history(execution)
    assert [e["type"] for e in answer["events"]] == [e["type"] for e in history(execution)]


def test_a_token_past_the_history_is_invalid_whichever_the_direction(cloud: LocalCloud) -> None:
    execution = start(cloud.outputs["MachineArn"], {"n": 3}, "forged")
    cloud.run_until_quiescent()
    # Tokens are opaque to callers but not secret: one naming an event the history does not hold (made by
    # hand, say) is InvalidToken, as any token the service did not issue, and never an IndexError.
    for reverse in (True, False):
        forged = base64.urlsafe_b64encode(f"{execution}|99|{int(reverse)}".encode()).decode("ascii")
        call = lambda r=reverse, t=forged: history(execution, nextToken=t, reverseOrder=r)  # noqa: E731
        assert error_of(call)[0] == "InvalidToken"
