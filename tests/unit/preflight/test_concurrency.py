"""Lambda concurrency against what the stack reserves and what its SQS consumers start with.

moto does not implement GetAccountSettings (it answers 404), so the account's limits are stubbed
(botocore Stubber) on a lambda client the session hands out; everything else is moto's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.unit.preflight.accounts import REGION, StubbedSession, cdk_template, write_cdk_out
from workflowkit.preflight import LambdaConcurrencyCheck, StackTemplate, Status, load_stack_template
from workflowkit.preflight.runner import run_checks


def _consumers(count: int, *, maximum: int | None = None, reserved: int | None = None) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for index in range(count):
        function: dict[str, Any] = {"Runtime": "python3.13"}
        if reserved is not None:
            function["ReservedConcurrentExecutions"] = reserved
        mapping: dict[str, Any] = {
            "EventSourceArn": {"Fn::GetAtt": [f"Queue{index}", "Arn"]},
            "FunctionName": {"Ref": f"Fn{index}"},
        }
        if maximum is not None:
            mapping["ScalingConfig"] = {"MaximumConcurrency": maximum}
        resources |= {
            f"Queue{index}": {"Type": "AWS::SQS::Queue", "Properties": {}},
            f"Fn{index}": {"Type": "AWS::Lambda::Function", "Properties": function},
            f"Mapping{index}": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": mapping},
        }
    return resources


def _stack(tmp_path: Path, resources: dict[str, Any]) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template(resources)), "dev")


def _account(limit: int, unreserved: int | None = None) -> tuple[StubbedSession, Stubber]:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_account_settings",
        {
            "AccountLimit": {
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit if unreserved is None else unreserved,
            }
        },
    )
    return StubbedSession({"lambda": client}), stubber


@pytest.mark.usefixtures("session")
def test_a_default_account_runs_the_consumers(tmp_path: Path) -> None:
    stubbed, stubber = _account(1000)
    with stubber:
        result = LambdaConcurrencyCheck().run(stubbed, _stack(tmp_path, _consumers(4)))

    assert result.status is Status.OK
    assert "account limit 1000" in result.detail
    assert "SQS consumers start at 20" in result.detail


@pytest.mark.usefixtures("session")
def test_a_new_accounts_limit_of_10_warns_that_consumers_will_be_throttled(tmp_path: Path) -> None:
    stubbed, stubber = _account(10)
    with stubber:
        result = LambdaConcurrencyCheck().run(stubbed, _stack(tmp_path, _consumers(4)))

    assert result.status is Status.WARNING
    assert "start at 20 concurrent invocations (5+5+5+5) and share 10" in result.detail
    assert "L-B99A9384" in result.fix


@pytest.mark.usefixtures("session")
def test_maximum_concurrency_is_what_a_consumer_needs(tmp_path: Path) -> None:
    stubbed, stubber = _account(10)
    with stubber:
        result = LambdaConcurrencyCheck().run(stubbed, _stack(tmp_path, _consumers(4, maximum=2)))

    assert result.status is Status.OK


@pytest.mark.usefixtures("session")
def test_reserving_into_the_last_100_fails(tmp_path: Path) -> None:
    # GIVEN an account limit of 1000 of which 850 are unreserved, and a stack reserving 2 x 400
    stubbed, stubber = _account(1000, unreserved=850)
    with stubber:
        result = LambdaConcurrencyCheck().run(stubbed, _stack(tmp_path, _consumers(2, reserved=400)))

    # THEN it cannot deploy: only 750 can be reserved
    assert result.status is Status.FAILED
    assert "at most 750 can be reserved" in result.detail
    assert "request at least 1050" in result.fix


def test_what_the_deployed_stack_reserves_is_moved_not_added(session: boto3.Session, tmp_path: Path) -> None:
    # GIVEN the stack is deployed and its function already holds 400 of the 550 reserved in the account
    role = session.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    deployed = {
        "Fn0": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "wk-fn0",
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": role,
                "Code": {"ZipFile": "def handler(event, context): return event"},
                "ReservedConcurrentExecutions": 400,
            },
        }
    }
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-dev", TemplateBody=json.dumps({"Resources": deployed})
    )
    stubbed, stubber = _account(1000, unreserved=450)
    stubber.add_response(
        "get_function_concurrency", {"ReservedConcurrentExecutions": 400}, {"FunctionName": "wk-fn0"}
    )

    # WHEN the new template still reserves 400 for that function
    with stubber:
        result = LambdaConcurrencyCheck().run(stubbed, _stack(tmp_path, _consumers(1, reserved=400)))

    # THEN it fits: 450 unreserved + the 400 it holds - 100
    assert result.status is Status.OK, result.detail


def test_moto_answering_404_makes_the_row_a_warning(session: boto3.Session, tmp_path: Path) -> None:
    (result,) = run_checks(session, _stack(tmp_path, _consumers(1)), [LambdaConcurrencyCheck()])

    assert result.status is Status.WARNING
    assert result.detail.startswith("could not check: GetAccountSettings")
