"""The synthesized template wires what the workflow declaration says, and only that."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

from infra.constructs.orchestrated_flow import EXECUTION_TIMEOUT, placeholders
from tests.infra.conftest import ROOT, Synthesized
from workflow_core import settings
from workflow_core.catalog import source_of
from workflow_core.order_workflow import ORDER_WORKFLOW

CONSUMERS = tuple(ORDER_WORKFLOW.consumer_subscriptions())
QUEUE_FED = (*CONSUMERS, "controller")
HANDLERS = {service: f"{service}.handler.lambda_handler" for service in QUEUE_FED}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _function(synth: Synthesized, handler: str) -> tuple[str, dict[str, Any]]:
    matches = [
        (lid, r)
        for lid, r in synth.of_type("AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == handler
    ]
    assert len(matches) == 1, f"expected one function with handler {handler}, got {len(matches)}"
    return matches[0]


def _mapping_of(synth: Synthesized, function_id: str) -> dict[str, Any]:
    mappings = [
        r["Properties"]
        for r in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert len(mappings) == 1
    return mappings[0]


def _queue_of(synth: Synthesized, function_id: str) -> tuple[str, dict[str, Any]]:
    mapping = _mapping_of(synth, function_id)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    return queue_id, synth.resources[queue_id]


def _rules_targeting(synth: Synthesized, target_id: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [target_id, "Arn"]} for t in r["Properties"]["Targets"])
    ]


def test_two_standard_state_machines_log_everything_and_trace(synthesized: Synthesized) -> None:
    machines = synthesized.of_type("AWS::StepFunctions::StateMachine")
    assert len(machines) == len(ORDER_WORKFLOW.state_machines()) == 2
    for machine in machines.values():
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
        assert props["TracingConfiguration"] == {"Enabled": True}


@pytest.mark.parametrize("name", ORDER_WORKFLOW.state_machines())
def test_every_asl_placeholder_is_substituted(synthesized: Synthesized, name: str) -> None:
    flow = synthesized.stack.flows[name]
    props = synthesized.resources[synthesized.logical_id(flow.state_machine)]["Properties"]
    definition = props["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    tokens = {token for part in parts if isinstance(part, str) for token in PLACEHOLDER.findall(part)}
    asl_tokens = placeholders(ROOT / "statemachines" / f"{name}.asl.json")
    assert tokens == asl_tokens
    assert asl_tokens <= set(props["DefinitionSubstitutions"])
    assert {"ChecksFunctionArn", "GatewayFunctionArn", "PaymentsTableName", "EventBusName"} <= set(
        props["DefinitionSubstitutions"]
    )


def _definition(synth: Synthesized, machine_id: str) -> dict[str, Any]:
    """The DefinitionString as JSON, each intrinsic (a substitution's value) rendered as a placeholder."""
    definition = synth.resources[machine_id]["Properties"]["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    text = "".join(part if isinstance(part, str) else "<intrinsic>" for part in parts)
    result: dict[str, Any] = json.loads(text)
    return result


@pytest.mark.parametrize("name", ORDER_WORKFLOW.state_machines())
def test_every_state_machine_times_out(synthesized: Synthesized, name: str) -> None:
    # The definition is a string, so CDK cannot add the timeout: it must be in the ASL itself, or
    # executions never time out and the "executions timed out" alarm can never fire.
    machine_id = synthesized.logical_id(synthesized.stack.flows[name].state_machine)
    definition = _definition(synthesized, machine_id)
    assert definition["TimeoutSeconds"] == int(EXECUTION_TIMEOUT.to_seconds())
    assert 0 < definition["TimeoutSeconds"] <= 365 * 24 * 3600  # Standard workflows run at most a year
    assert {"StartAt", "States"} <= set(definition)


@pytest.mark.parametrize("service", QUEUE_FED)
def test_queue_fed_services_sit_behind_a_queue_with_dlq(synthesized: Synthesized, service: str) -> None:
    function_id, function = _function(synthesized, HANDLERS[service])
    _, queue = _queue_of(synthesized, function_id)
    redrive = queue["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 3
    dlq_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[dlq_id]["Type"] == "AWS::SQS::Queue"
    # AWS: at least six times the function timeout plus the event source mapping's batching window.
    mapping = _mapping_of(synthesized, function_id)
    assert queue["Properties"]["VisibilityTimeout"] >= (
        6 * function["Properties"]["Timeout"] + mapping["MaximumBatchingWindowInSeconds"]
    )


def test_every_rule_target_has_a_dead_letter_queue_and_retry_policy(synthesized: Synthesized) -> None:
    rules = synthesized.of_type("AWS::Events::Rule")
    assert rules
    for lid, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert "DeadLetterConfig" in target, lid
            assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0, lid


def _expected_patterns(service: str) -> set[tuple[str, str, str]]:
    detail_types = (
        ORDER_WORKFLOW.controller_inputs()
        if service == "controller"
        else ORDER_WORKFLOW.consumer_subscriptions()[service]
    )
    expected = set()
    for detail_type in detail_types:
        steps = ""
        if detail_type == ORDER_WORKFLOW.retry_event and service != "controller":
            steps = ",".join(sorted(ORDER_WORKFLOW.retried_steps(service)))
        expected.add((source_of(detail_type), detail_type, steps))
    return expected


@pytest.mark.parametrize("service", QUEUE_FED)
def test_rules_match_source_and_detail_type_from_the_declaration(
    synthesized: Synthesized, service: str
) -> None:
    function_id, _ = _function(synthesized, HANDLERS[service])
    queue_id, _ = _queue_of(synthesized, function_id)
    actual = set()
    for rule in _rules_targeting(synthesized, queue_id):
        pattern = rule["EventPattern"]
        assert set(pattern) <= {"source", "detail-type", "detail"}
        assert len(pattern["source"]) == 1, "one source per rule: no cross-source forging"
        steps = ",".join(sorted(pattern.get("detail", {}).get("data", {}).get("step", [])))
        actual |= {(pattern["source"][0], detail_type, steps) for detail_type in pattern["detail-type"]}
    assert actual == _expected_patterns(service)


def test_event_triggered_state_machines_have_their_rule(synthesized: Synthesized) -> None:
    for name, detail_type in ORDER_WORKFLOW.event_triggered_state_machines().items():
        machine_id = synthesized.logical_id(synthesized.stack.flows[name].state_machine)
        patterns = [
            r["Properties"]["EventPattern"]
            for r in synthesized.of_type("AWS::Events::Rule").values()
            if any(t["Arn"] == {"Ref": machine_id} for t in r["Properties"]["Targets"])
        ]
        assert patterns == [{"source": [source_of(detail_type)], "detail-type": [detail_type]}]


EXPECTED_ENVIRONMENT = {
    "controller.handler.lambda_handler": {
        settings.EVENT_BUS_NAME,
        settings.WORKFLOW_TABLE_NAME,
        settings.PAYMENT_STATE_MACHINE_ARN,
        settings.SCHEDULE_GROUP_NAME,
        settings.SCHEDULER_ROLE_ARN,
        settings.EVENT_BUS_ARN,
        settings.ESCALATION_TOPIC_ARN,
        settings.SCHEDULE_DEAD_LETTER_QUEUE_ARN,
    },
    "inventory.handler.lambda_handler": {
        settings.EVENT_BUS_NAME,
        settings.INVENTORY_TABLE_NAME,
        settings.IDEMPOTENCY_TABLE_NAME,
    },
    "shipping.handler.lambda_handler": {
        settings.EVENT_BUS_NAME,
        settings.SHIPMENTS_TABLE_NAME,
        settings.IDEMPOTENCY_TABLE_NAME,
    },
    "notification.handler.lambda_handler": {
        settings.EVENT_BUS_NAME,
        settings.NOTIFICATIONS_TABLE_NAME,
        settings.IDEMPOTENCY_TABLE_NAME,
        settings.CUSTOMER_TOPIC_ARN,
    },
    "payment.checks.lambda_handler": set(),
    "payment.gateway.lambda_handler": {settings.PAYMENTS_TABLE_NAME, "PAYMENT_GATEWAY"},
    "frontdoor.handler.lambda_handler": {settings.EVENT_BUS_NAME, settings.WORKFLOW_TABLE_NAME},
}
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}


@pytest.mark.parametrize("handler", sorted(EXPECTED_ENVIRONMENT))
def test_functions_follow_the_contract(synthesized: Synthesized, handler: str) -> None:
    _, function = _function(synthesized, handler)
    props = function["Properties"]
    variables = props["Environment"]["Variables"]
    assert set(variables) == EXPECTED_ENVIRONMENT[handler] | POWERTOOLS
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "WorkflowKit"
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    # The AWS-managed layer for exactly this runtime, architecture and the pinned Powertools version.
    assert props["Layers"] == [
        "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/" + POWERTOOLS_VERSION + "}}"
    ]
    if handler.startswith("payment.gateway"):
        assert variables["PAYMENT_GATEWAY"] == "sandbox"


def test_all_functions_share_one_code_asset(synthesized: Synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function").values()
    assert len({r["Properties"]["Code"]["S3Key"] for r in functions}) == 1
    assert len(functions) == len(EXPECTED_ENVIRONMENT)


def test_http_api_routes_require_sigv4(synthesized: Synthesized) -> None:
    routes = synthesized.of_type("AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["RouteKey"] for r in routes.values()} == {
        "POST /orders",
        "GET /workflows/{workflowId}",
        "POST /workflows/{workflowId}/commands",
    }
    assert all(r["Properties"]["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    (stage,) = synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
    assert "DestinationArn" in stage["Properties"]["AccessLogSettings"]
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
