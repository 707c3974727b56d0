"""EventBridge rules per bus: rules already on the stack's bus plus the stack's, against the quota.

moto's Service Quotas knows only VPC quotas (GetServiceQuota answers NoSuchResourceException for
events), which is the documented-default path; an applied quota is stubbed (botocore Stubber).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.unit.preflight.accounts import REGION, StubbedSession, cdk_template, write_cdk_out
from workflowkit.preflight import RulesPerBusCheck, StackTemplate, Status, load_stack_template
from workflowkit.preflight.rules import RULES_PER_BUS


def _rules(count: int, bus: Any = {"Ref": "Bus"}) -> dict[str, Any]:  # noqa: B006 - read only
    resources: dict[str, Any] = {"Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "wk-prod"}}}
    for index in range(count):
        properties: dict[str, Any] = {"EventPattern": {"source": [f"s{index}"]}}
        if bus is not None:
            properties["EventBusName"] = bus
        resources[f"Rule{index}"] = {"Type": "AWS::Events::Rule", "Properties": properties}
    return resources


def _stack(tmp_path: Path, resources: dict[str, Any]) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template(resources)), "dev")


def _applied_quota(value: int) -> tuple[StubbedSession, Stubber]:
    client = boto3.client("service-quotas", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_service_quota",
        {"Quota": {"QuotaCode": "L-244521F2", "Value": value}},
        {"ServiceCode": "events", "QuotaCode": "L-244521F2"},
    )
    return StubbedSession({"service-quotas": client}), stubber


def _existing_rules(session: boto3.Session, bus: str, count: int) -> None:
    events = session.client("events")
    events.create_event_bus(Name=bus)
    for index in range(count):
        events.put_rule(Name=f"other-{index}", EventBusName=bus, EventPattern='{"source":["x"]}')


def test_a_new_bus_with_the_stacks_rules_fits_the_documented_default(
    session: boto3.Session, tmp_path: Path
) -> None:
    result = RulesPerBusCheck().run(session, _stack(tmp_path, _rules(14)))

    assert result.status is Status.OK
    assert "wk-prod: 14 + 0 others = 14 of 300" in result.detail
    assert "quota: the documented default, docs.aws.amazon.com/eventbridge" in result.detail
    assert "(Service Quotas L-244521F2: NoSuchResourceException)" in result.detail


def test_a_bus_with_a_generated_name_is_new(session: boto3.Session, tmp_path: Path) -> None:
    resources = _rules(2)
    resources["Bus"]["Properties"] = {}

    result = RulesPerBusCheck().run(session, _stack(tmp_path, resources))

    assert "Bus (new bus): 2 + 0 others" in result.detail


def test_rules_without_a_bus_count_on_the_default_bus(session: boto3.Session, tmp_path: Path) -> None:
    result = RulesPerBusCheck().run(session, _stack(tmp_path, _rules(2, bus=None)))

    assert "default: 2 + 0 others" in result.detail


@pytest.mark.usefixtures("session")
def test_rules_left_on_a_same_named_bus_push_it_over_the_applied_quota(tmp_path: Path) -> None:
    # GIVEN an applied quota of 20 and a bus of that name already carrying 10 rules of someone else's
    stubbed, stubber = _applied_quota(20)
    _existing_rules(stubbed, "wk-prod", 10)

    # WHEN the stack adds 14 rules to it
    with stubber:
        result = RulesPerBusCheck().run(stubbed, _stack(tmp_path, _rules(14)))

    # THEN 24 of 20 fails
    assert result.status is Status.FAILED
    assert "wk-prod: 14 + 10 others = 24 of 20" in result.detail
    assert "quota: Service Quotas L-244521F2" in result.detail
    assert "L-244521F2" in result.fix


@pytest.mark.usefixtures("session")
def test_near_the_quota_warns(tmp_path: Path) -> None:
    stubbed, stubber = _applied_quota(20)
    _existing_rules(stubbed, "wk-prod", 5)

    with stubber:
        result = RulesPerBusCheck().run(stubbed, _stack(tmp_path, _rules(14)))

    assert result.status is Status.WARNING  # 19 of 20


def test_the_stacks_own_deployed_rules_are_not_counted_twice(session: boto3.Session, tmp_path: Path) -> None:
    # GIVEN the stack is deployed with its 3 rules on its bus (a literal bus name: moto's CloudFormation
    # cannot create a rule whose EventBusName is a Ref)
    deployed = _rules(3, bus="wk-prod")
    for logical_id in ("Rule0", "Rule1", "Rule2"):
        deployed[logical_id]["DependsOn"] = "Bus"
    session.client("cloudformation").create_stack(
        StackName="WorkflowKit-dev", TemplateBody=json.dumps({"Resources": deployed})
    )

    result = RulesPerBusCheck().run(session, _stack(tmp_path, _rules(3)))

    assert "wk-prod: 3 + 0 others = 3 of 300" in result.detail


def test_the_default_is_lower_in_two_regions() -> None:
    assert RULES_PER_BUS.default_in("af-south-1") == 100
    assert RULES_PER_BUS.default_in("eu-south-1") == 100
    assert RULES_PER_BUS.default_in("eu-west-1") == 300
