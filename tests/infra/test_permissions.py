"""Who may do what: each role publishes only the events it owns, the controller stops only payment
executions, and API callers get the routes of their audience."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tests.infra.conftest import ROOT, Synthesized
from workflow_core.catalog import (
    CATALOG,
    SOURCE_CONTROLLER,
    SOURCE_INVENTORY,
    SOURCE_NOTIFICATIONS,
    SOURCE_OPERATOR,
    SOURCE_ORDERS,
    SOURCE_PAYMENTS,
    SOURCE_SCHEDULER,
    SOURCE_SHIPPING,
)
from workflow_core.order_workflow import ORDER_WORKFLOW

ACCOUNT = "123456789012"
REGION = "eu-west-1"

# The independent spec (docs/architecture.md, catalog.py): the sources each principal legitimately publishes.
PUBLISHERS: dict[str, set[str]] = {
    "controller": {SOURCE_CONTROLLER},
    "inventory": {SOURCE_INVENTORY},
    "shipping": {SOURCE_SHIPPING},
    "notification": {SOURCE_NOTIFICATIONS},
    "frontdoor": {SOURCE_ORDERS, SOURCE_OPERATOR},
    "payment": {SOURCE_PAYMENTS},
    "refund": {SOURCE_PAYMENTS},
    "scheduler": {SOURCE_SCHEDULER},
}
# State machines may publish only the outcomes they report, not every event of their source.
FLOW_PUBLISHES = {
    "payment": {"PaymentProcessed", "PaymentFailed"},
    "refund": {"PaymentRefunded", "RefundFailed"},
}


def _role(synth: Synthesized, principal: str) -> iam.IRole:
    stack = synth.stack
    roles: dict[str, iam.IRole] = {
        "controller": stack.controller.handler.role,
        "frontdoor": stack.front_door.role,
        "scheduler": stack.controller.scheduler_role,
        **{service: consumer.handler.role for service, consumer in stack.consumers.items()},
        **{name: flow.role for name, flow in stack.flows.items()},
    }
    return roles[principal]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(synth: Synthesized, role: iam.IRole) -> list[dict[str, Any]]:
    role_ref = {"Ref": synth.logical_id(role)}
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _put_events(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if "events:PutEvents" in _as_list(s["Action"]) and s["Effect"] == "Allow"]


def _all_policy_statements(synth: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    for cfn_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for lid, policy in synth.of_type(cfn_type).items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                yield lid, statement


def _allows(statements: list[dict[str, Any]], source: str, detail_type: str) -> bool:
    """Whether one PutEvents entry (source, detail-type) passes one of ``statements``, evaluated as IAM does
    for the condition shape the kit writes."""
    for statement in statements:
        condition = statement.get("Condition", {})
        if not condition:
            return True
        all_values = condition["ForAllValues:StringEquals"]
        if source in all_values["events:source"] and detail_type in all_values["events:detail-type"]:
            return True
    return False


def _render(value: Any) -> str:
    """An ARN as a string: the test environment's pseudo parameters filled in, other refs ``<LogicalId>``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    ref = value["Ref"]
    return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}.get(ref, f"<{ref}>")


@pytest.mark.parametrize("principal", sorted(PUBLISHERS))
def test_put_events_is_restricted_to_the_sources_a_role_owns(
    synthesized: Synthesized, principal: str
) -> None:
    bus_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.events.bus), "Arn"]}
    statements = _put_events(_role_statements(synthesized, _role(synthesized, principal)))
    assert statements, f"{principal} cannot publish at all"
    sources: set[str] = set()
    for statement in statements:
        assert statement["Resource"] == bus_arn
        condition = statement["Condition"]
        assert set(condition) == {"ForAllValues:StringEquals", "Null"}
        # ForAllValues is true for a request without the key: the Null guard makes both keys mandatory.
        assert condition["Null"] == {"events:source": "false", "events:detail-type": "false"}
        (source,) = condition["ForAllValues:StringEquals"]["events:source"]
        detail_types = set(condition["ForAllValues:StringEquals"]["events:detail-type"])
        # A statement's detail-types are all owned by its one source: no pairing of another's type and source.
        assert all(CATALOG[detail_type].source == source for detail_type in detail_types), detail_types
        if principal in FLOW_PUBLISHES:
            assert detail_types == FLOW_PUBLISHES[principal]
        else:
            assert detail_types == {name for name, t in CATALOG.items() if t.source == source}
        sources.add(source)
    assert sources == PUBLISHERS[principal]


@pytest.mark.parametrize("principal", sorted(PUBLISHERS))
def test_a_role_cannot_forge_another_services_events(synthesized: Synthesized, principal: str) -> None:
    statements = _put_events(_role_statements(synthesized, _role(synthesized, principal)))
    for detail_type, etype in CATALOG.items():
        for source in {t.source for t in CATALOG.values()}:
            allowed = _allows(statements, source, detail_type)
            if source != etype.source or source not in PUBLISHERS[principal]:
                assert not allowed, f"{principal} may publish {detail_type} from {source}"
    if principal == "notification":  # the example of the finding
        assert not _allows(statements, SOURCE_PAYMENTS, "PaymentProcessed")
        assert _allows(statements, SOURCE_NOTIFICATIONS, "CustomerNotified")


def test_every_put_events_grant_carries_the_source_condition(synthesized: Synthesized) -> None:
    grants = [(lid, s) for lid, s in _all_policy_statements(synthesized) if _put_events([s])]
    assert len(grants) >= len(PUBLISHERS)
    for lid, statement in grants:
        assert "events:source" in statement["Condition"]["ForAllValues:StringEquals"], lid


def _asl_entries(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "Entries" in node and isinstance(node["Entries"], list):
            yield from node["Entries"]
        for value in node.values():
            yield from _asl_entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _asl_entries(value)


@pytest.mark.parametrize("name", ORDER_WORKFLOW.state_machines())
def test_what_a_state_machine_publishes_is_what_its_role_allows(synthesized: Synthesized, name: str) -> None:
    asl = json.loads((ROOT / "statemachines" / f"{name}.asl.json").read_text(encoding="utf-8"))
    entries = list(_asl_entries(asl))
    assert entries, f"{name} publishes nothing"
    statements = _put_events(_role_statements(synthesized, synthesized.stack.flows[name].role))
    for entry in entries:
        # Literal Source and DetailType: a path (``Source.$``) could not be checked, nor granted narrowly.
        assert _allows(statements, entry["Source"], entry["DetailType"]), entry


def test_the_controller_may_stop_payment_executions_only(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    payment = stack.flows["payment"]
    stops = [
        (lid, s)
        for lid, s in _all_policy_statements(synthesized)
        if "states:StopExecution" in _as_list(s["Action"])
    ]
    assert len(stops) == 1
    lid, statement = stops[0]
    controller_policy = synthesized.logical_id(
        cast(iam.Policy, stack.controller.handler.role.node.find_child("DefaultPolicy"))
    )
    assert lid == controller_policy
    assert _as_list(statement["Action"]) == ["states:StopExecution"]
    assert _render(statement["Resource"]) == (
        f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{payment.state_machine_name}:*"
    )
    machine = synthesized.resources[synthesized.logical_id(payment.state_machine)]
    assert machine["Properties"]["StateMachineName"] == payment.state_machine_name


def _route_arns(synth: Synthesized, policy: cdk.IResource) -> set[str]:
    props = synth.resources[synth.logical_id(policy)]["Properties"]
    (statement,) = props["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert _as_list(statement["Action"]) == ["execute-api:Invoke"]
    return {_render(resource) for resource in _as_list(statement["Resource"])}


def _route_arn(synth: Synthesized, route_key: str) -> str:
    """``POST /workflows/{workflowId}/commands`` -> its execute-api ARN on the $default stage."""
    method, path = route_key.split(" ", 1)
    segments = ["*" if s.startswith("{") else s for s in path.split("/")]
    api_id = synth.logical_id(synth.stack.api.api)
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:<{api_id}>/$default/{method}{'/'.join(segments)}"


def test_api_policies_separate_order_clients_from_operators(synthesized: Synthesized) -> None:
    api = synthesized.stack.api
    route_keys = {
        r["Properties"]["RouteKey"] for r in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
    }
    operator_routes = {key for key in route_keys if key.endswith("/commands")}
    assert operator_routes == {"POST /workflows/{workflowId}/commands"}

    client = _route_arns(synthesized, api.order_client_policy)
    operator = _route_arns(synthesized, api.operator_policy)
    assert client == {
        _route_arn(synthesized, "POST /orders"),
        _route_arn(synthesized, "GET /workflows/{workflowId}"),
    }
    assert operator == {_route_arn(synthesized, key) for key in route_keys}
    assert operator - client == {_route_arn(synthesized, "POST /workflows/{workflowId}/commands")}

    (stage,) = synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["StageName"] == "$default"


def test_api_policies_are_stack_outputs(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    api = synthesized.stack.api
    for output, policy in (
        ("OrderClientPolicyArn", api.order_client_policy),
        ("WorkflowOperatorPolicyArn", api.operator_policy),
    ):
        assert outputs[output]["Value"] == {"Ref": synthesized.logical_id(policy)}
        assert synthesized.resources[synthesized.logical_id(policy)]["Type"] == "AWS::IAM::ManagedPolicy"
