"""Callback steps in the stack: the routes, an approver policy per approvers group granting only the
callback routes of its steps, the callbacks table, and who may claim, publish and answer a decision.

The stack is synthesized with the order workflow and a ``case`` workflow declared here: ``work`` (a
consumer step of the ``desk`` service), then ``approve`` (people: ``officers``), ``confirm`` (a desk step
that waits for a partner's decision: ``partners``) and ``sign`` (a state machine paused on a task token:
``officers``). Expectations are literal.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

from infra.stacks import StageConfig
from order_workflow import ORDER_WORKFLOW
from tests.infra.conftest import ROOT, STAGE, Synthesized, synthesize
from workflow_core import lifecycle
from workflow_core.catalog import EventType
from workflow_core.definition import Callback, Step, WorkflowDefinition, consumer, human, state_machine
from workflow_core.envelope import ContractModel
from workflow_core.registry import Registry

ACCOUNT, REGION = "123456789012", "eu-west-1"


class Opened(ContractModel):
    case_id: str


class Outcome(ContractModel):
    case_id: str


CASE = WorkflowDefinition(
    name="case",
    version=1,
    start_event="CaseOpened",
    subject_id="case_id",
    steps=(
        Step(
            name="work",
            runner=consumer("desk"),
            started_by=lifecycle.WORKFLOW_STARTED,
            completed_by="Worked",
            failed_by="WorkFailed",
            deadline=timedelta(minutes=5),
        ),
        Step(
            name="approve",
            runner=human(),
            after=("work",),
            deadline=timedelta(hours=48),
            callback=Callback(approvers="officers", reminder=timedelta(hours=24)),
        ),
        Step(
            name="confirm",
            runner=consumer("desk"),
            after=("work",),
            completed_by="Confirmed",
            failed_by="Unconfirmed",
            deadline=timedelta(hours=24),
            callback=Callback(approvers="partners"),
        ),
        Step(
            name="sign",
            runner=state_machine("signing", service="desk"),
            after=("work",),
            completed_by="Signed",
            failed_by="SignFailed",
            deadline=timedelta(hours=1),
            callback=Callback(approvers="officers"),
        ),
    ),
    events=(
        EventType("CaseOpened", "tests.outside", {1: Opened}),
        *(EventType(name, "tests.desk", {1: Outcome}) for name in ("Worked", "WorkFailed", "Confirmed")),
        EventType("Unconfirmed", "tests.desk", {1: Outcome}),
        *(EventType(name, "tests.signing", {1: Outcome}) for name in ("Signed", "SignFailed")),
    ),
    listeners={"notification": (lifecycle.DECISION_REQUESTED, lifecycle.DECISION_REMINDER)},
)


def _announce(detail_type: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {
            "Entries": [
                {
                    "EventBusName": "${EventBusName}",
                    "Source": "tests.signing",
                    "DetailType": detail_type,
                    "Detail": {"data": {"caseId.$": "$.data.workflowId"}, "workflow.$": "$.workflow"},
                }
            ]
        },
        "End": True,
    }


# Leaves its task token in the callbacks table, waits, and announces the decision's outcome.
SIGNING_ASL = {
    "StartAt": "AwaitDecision",
    "States": {
        "AwaitDecision": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {
                "TableName": "${CallbacksTableName}",
                "Item": {
                    "workflowId": {"S.$": "$.data.workflowId"},
                    "sk": {"S.$": "States.Format('TOKEN#sign#{}', $$.Execution.Name)"},
                    "execution": {"S.$": "$$.Execution.Name"},
                    "taskToken": {"S.$": "$$.Task.Token"},
                },
            },
            "ResultPath": "$.decision",
            "Next": "Which",
        },
        "Which": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.decision.decision", "StringEquals": "complete", "Next": "Signed"}],
            "Default": "SignFailed",
        },
        "Signed": _announce("Signed"),
        "SignFailed": _announce("SignFailed"),
    },
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    folder = tmp_path_factory.mktemp("callbacks")
    statemachines = folder / "statemachines"
    shutil.copytree(ROOT / "statemachines", statemachines)
    (statemachines / "signing.asl.json").write_text(json.dumps(SIGNING_ASL, indent=2), encoding="utf-8")
    config = StageConfig(
        stage=STAGE,
        functions_dir=ROOT / "functions",
        statemachines_dir=statemachines,
        powertools_version=POWERTOOLS_VERSION,
    )
    return synthesize(folder / "cdk.out", config, Registry([ORDER_WORKFLOW, CASE]))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    if "Fn::GetAtt" in value:
        return f"<{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}>"
    ref = value["Ref"]
    return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}.get(ref, f"<{ref}>")


def _statements(synth: Synthesized, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _route(synth: Synthesized, method: str, path: str) -> str:
    api = synth.logical_id(synth.stack.api.api)
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:<{api}>/$default/{method}{path}"


def _invokable(synth: Synthesized, policy_id: str) -> set[str]:
    (statement,) = synth.resources[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], _as_list(statement["Action"])) == ("Allow", ["execute-api:Invoke"])
    return {_render(resource) for resource in _as_list(statement["Resource"])}


def _callbacks_table(synth: Synthesized) -> str:
    return synth.logical_id(synth.stack.tables.callbacks)


# --- who may decide -------------------------------------------------------------------------------------
def test_each_approvers_group_may_call_exactly_the_callback_routes_of_the_steps_it_decides(
    cases: Synthesized,
) -> None:
    policies = cases.stack.api.approver_policies
    assert set(policies) == {"officers", "partners"}
    officers = _invokable(cases, cases.logical_id(policies["officers"]))
    assert officers == {
        _route(cases, "POST", "/workflows/*/steps/approve/complete"),
        _route(cases, "POST", "/workflows/*/steps/approve/reject"),
        _route(cases, "POST", "/workflows/*/steps/sign/complete"),
        _route(cases, "POST", "/workflows/*/steps/sign/reject"),
    }
    partners = _invokable(cases, cases.logical_id(policies["partners"]))
    assert partners == {
        _route(cases, "POST", "/workflows/*/steps/confirm/complete"),
        _route(cases, "POST", "/workflows/*/steps/confirm/reject"),
    }
    # AND each is a stack output to attach to the group's principals
    outputs = cases.template.to_json()["Outputs"]
    for group, output in (
        ("officers", "OfficersApproverPolicyArn"),
        ("partners", "PartnersApproverPolicyArn"),
    ):
        assert outputs[output]["Value"] == {"Ref": cases.logical_id(policies[group])}
        assert cases.resources[cases.logical_id(policies[group])]["Type"] == "AWS::IAM::ManagedPolicy"


def test_clients_and_operators_may_not_decide(cases: Synthesized) -> None:
    api = cases.stack.api
    for policy in (api.client_policy, api.operator_policy):
        assert not any("/steps/" in arn for arn in _invokable(cases, cases.logical_id(policy)))
    # AND no other policy of the template names a callback route
    granting = {
        lid
        for lid, resource in cases.resources.items()
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and "/steps/" in json.dumps(resource["Properties"]["PolicyDocument"])
    }
    assert granting == {cases.logical_id(p) for p in api.approver_policies.values()}


# --- the callbacks table --------------------------------------------------------------------------------
def test_the_callbacks_table_is_encrypted_with_the_stage_key_and_recoverable(cases: Synthesized) -> None:
    table = cases.resources[_callbacks_table(cases)]["Properties"]
    key = cases.logical_id(cases.stack.encryption.key)
    assert table["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": [key, "Arn"]},
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["KeySchema"] == [
        {"AttributeName": "workflowId", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    front_door = cases.resources[cases.logical_id(cases.stack.front_door.function)]["Properties"]
    assert front_door["Environment"]["Variables"]["CALLBACKS_TABLE_NAME"] == {"Ref": _callbacks_table(cases)}


def _table_actions(synth: Synthesized, role_id: str) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for statement in _statements(synth, role_id):
        actions = {a for a in _as_list(statement["Action"]) if a.startswith("dynamodb:")}
        if actions:
            grants.setdefault(statement["Resource"]["Fn::GetAtt"][0], set()).update(actions)
    return grants


def test_the_front_door_claims_decisions_publishes_them_and_answers_only_the_paused_machines_tokens(
    cases: Synthesized,
) -> None:
    role = cases.logical_id(cases.stack.front_door.role)
    tables = _table_actions(cases, role)
    assert tables[_callbacks_table(cases)] == {"dynamodb:GetItem", "dynamodb:PutItem"}
    # StepDecided from workflow.callback, beside the start events and operator commands
    put = {
        statement["Condition"]["ForAllValues:StringEquals"]["events:source"][0]: set(
            statement["Condition"]["ForAllValues:StringEquals"]["events:detail-type"]
        )
        for statement in _statements(cases, role)
        if "events:PutEvents" in _as_list(statement["Action"])
    }
    assert put == {
        "commerce.orders": {"OrderSubmitted"},
        "tests.outside": {"CaseOpened"},
        "workflow.operator": {"OperatorCommandIssued"},
        "workflow.callback": {"StepDecided"},
    }
    # SendTaskSuccess on the signing machine alone (the one pausing for a decision); never SendTaskFailure
    signing = cases.logical_id(cases.stack.flows["case/signing"].state_machine)
    answers = [
        s for s in _statements(cases, role) if any(a.startswith("states:") for a in _as_list(s["Action"]))
    ]
    assert answers == [{"Action": "states:SendTaskSuccess", "Effect": "Allow", "Resource": {"Ref": signing}}]
    assert "SendTaskFailure" not in json.dumps(cases.resources)


def test_a_machine_that_pauses_for_a_decision_may_only_leave_its_token(cases: Synthesized) -> None:
    flow = cases.stack.flows["case/signing"]
    machine = cases.resources[cases.logical_id(flow.state_machine)]["Properties"]
    assert machine["DefinitionSubstitutions"]["CallbacksTableName"] == {"Ref": _callbacks_table(cases)}
    tables = _table_actions(cases, cases.logical_id(flow.role))
    assert tables == {_callbacks_table(cases): {"dynamodb:PutItem"}}
    # AND a machine running no callback step has neither the placeholder nor the table
    payment = cases.stack.flows["order/payment"]
    properties = cases.resources[cases.logical_id(payment.state_machine)]["Properties"]
    assert "CallbacksTableName" not in properties["DefinitionSubstitutions"]
    assert _callbacks_table(cases) not in _table_actions(cases, cases.logical_id(payment.role))


# --- what is delivered to whom --------------------------------------------------------------------------
def _queue_patterns(synth: Synthesized, handler: str) -> list[dict[str, Any]]:
    (function_id,) = [
        lid
        for lid, r in synth.of_type("AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == handler
    ]
    (mapping,) = [
        m["Properties"]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    return [
        rule["Properties"]["EventPattern"]
        for rule in synth.of_type("AWS::Events::Rule").values()
        if any(target["Arn"] == mapping["EventSourceArn"] for target in rule["Properties"]["Targets"])
    ]


CASE_CONTEXT = {"workflow": {"name": ["case"]}}


def _canonical(pattern: dict[str, Any]) -> str:
    return json.dumps(pattern, sort_keys=True)


def test_a_consumer_hears_step_requests_and_decisions_only_for_its_own_steps(cases: Synthesized) -> None:
    patterns = _queue_patterns(cases, "desk.handler.lambda_handler")
    assert sorted(patterns, key=_canonical) == sorted(
        [
            {"source": ["workflow.controller"], "detail-type": ["WorkflowStarted"], "detail": CASE_CONTEXT},
            {
                "source": ["workflow.controller"],
                "detail-type": ["StepRequested"],
                "detail": {"workflow": {"name": ["case"]}, "data": {"step": ["confirm"]}},
            },
            {
                "source": ["workflow.callback"],
                "detail-type": ["StepDecided"],
                "detail": {"workflow": {"name": ["case"]}, "data": {"step": ["confirm"]}},
            },
            {
                "source": ["workflow.controller"],
                "detail-type": ["StepRetryRequested"],
                "detail": {"workflow": {"name": ["case"]}, "data": {"step": ["confirm", "work"]}},
            },
        ],
        key=_canonical,
    )


def test_the_controller_hears_decisions_and_listeners_hear_decision_requests(cases: Synthesized) -> None:
    controller = _queue_patterns(cases, "controller.handler.lambda_handler")
    assert {
        "source": ["workflow.callback"],
        "detail-type": ["StepDecided"],
        "detail": CASE_CONTEXT,
    } in controller
    notification = _queue_patterns(cases, "notification.handler.lambda_handler")
    assert {
        "source": ["workflow.controller"],
        "detail-type": ["DecisionRequested", "DecisionReminder"],
        "detail": CASE_CONTEXT,
    } in notification


def test_the_controller_may_put_the_requests_and_announcements_the_deployed_workflows_use(
    cases: Synthesized,
) -> None:
    role = cases.logical_id(cases.stack.controller.handler.role)
    (statement,) = [s for s in _statements(cases, role) if "events:PutEvents" in _as_list(s["Action"])]
    condition = statement["Condition"]["ForAllValues:StringEquals"]
    assert condition["events:source"] == ["workflow.controller"]
    assert set(condition["events:detail-type"]) == {
        "WorkflowStarted",
        "WorkflowCompleted",
        "WorkflowCompensated",
        "WorkflowFailed",
        "WorkflowEscalated",
        "StepRetryRequested",
        "RefundRequested",
        "InventoryReleaseRequested",
        "ShipmentCancellationRequested",
        # the case workflow's: a controller-started consumer step, decisions asked for and reminded of
        "StepRequested",
        "DecisionRequested",
        "DecisionReminder",
    }
