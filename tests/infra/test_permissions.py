"""Who may do what: each role publishes only the events it owns, touches only its own tables, the controller
starts and stops only the state machines it runs steps with, and API callers get the routes of their
audience. The expectations are literal: what the order and onboarding workflows and their services declare,
spelled out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tests.infra.conftest import ROOT, Synthesized
from workflow_core.registry import deployed

ACCOUNT = "123456789012"
REGION = "eu-west-1"

# The independent spec (docs/architecture.md, the order and onboarding workflows' contracts): what each
# principal legitimately publishes, by source. Consumers publish everything their source owns; state
# machines only the outcomes they report; the front door the start events and operator commands.
PUT_EVENTS: dict[str, dict[str, set[str]]] = {
    "controller": {
        "workflow.controller": {
            "WorkflowStarted",
            "WorkflowCompleted",
            "WorkflowCompensated",
            "WorkflowFailed",
            "WorkflowEscalated",
            "StepRetryRequested",
            "RefundRequested",
            "InventoryReleaseRequested",
            "ShipmentCancellationRequested",
            # Order v2: it starts the notify step, and shipping takes the carrier desk's decision.
            # Onboarding too: it starts the account and preferences steps, and the review waits for an
            # officer's decision (requested, reminded at 24 h, escalated at 48 h).
            "StepRequested",
            "DecisionRequested",
            "DecisionReminder",
            # Onboarding's undo requests: both its undos run in consumers (no state machine's rule).
            "AccountDeprovisionRequested",
            "ProfileClosureRequested",
        }
    },
    "inventory": {
        "commerce.inventory": {
            "InventoryReserved",
            "InventoryReservationFailed",
            "InventoryReleased",
            "InventoryReleaseFailed",
        }
    },
    "shipping": {
        "commerce.shipping": {
            "ShippingScheduled",
            "ShippingFailed",
            "ShipmentCancelled",
            "ShipmentCancellationFailed",
        }
    },
    "notification": {
        "commerce.notifications": {"CustomerNotified", "OrderConfirmationSent", "OrderConfirmationFailed"}
    },
    # The carrier desk's decisions (order v2's shipping) go out as StepDecided from the front door; a
    # compliance officer's (onboarding's review, a state machine) answer its task token instead.
    "frontdoor": {
        "commerce.orders": {"OrderSubmitted"},
        "onboarding.registrations": {"CustomerRegistered"},
        "workflow.operator": {"OperatorCommandIssued"},
        "workflow.callback": {"StepDecided"},
    },
    "payment": {"commerce.payments": {"PaymentProcessed", "PaymentFailed"}},
    "refund": {"commerce.payments": {"PaymentRefunded", "RefundFailed"}},
    # Onboarding: its two consumers' steps and undos, its notices listener (OnboardingNoticeSent, the
    # source it declares), its verification and review flows' outcomes.
    "accounts": {
        "onboarding.accounts": {
            "AccountProvisioned",
            "AccountProvisioningFailed",
            "AccountDeprovisioned",
            "AccountDeprovisioningFailed",
        }
    },
    "preferences": {
        "onboarding.preferences": {
            "PreferencesRecorded",
            "PreferencesRejected",
            "ProfileClosed",
            "ProfileClosureFailed",
        }
    },
    "onboarding_notices": {"onboarding.notices": {"OnboardingNoticeSent"}},
    "identity-verification": {"onboarding.identity": {"IdentityVerified", "IdentityVerificationFailed"}},
    "review": {"onboarding.review": {"ReviewApproved", "ReviewRejected"}},
    "scheduler": {"workflow.scheduler": {"StepDeadlineReached"}},
}
PUBLISHERS = {principal: set(by_source) for principal, by_source in PUT_EVENTS.items()}
CATALOG = deployed().catalog  # the universe of (detail-type, owning source) a role could try to forge


def _role(synth: Synthesized, principal: str) -> iam.IRole:
    stack = synth.stack
    roles: dict[str, iam.IRole] = {
        "controller": stack.controller.handler.role,
        "frontdoor": stack.front_door.role,
        "scheduler": stack.controller.scheduler_role,
        **{service: consumer.handler.role for service, consumer in stack.consumers.items()},
        "payment": stack.flows["order/payment"].role,
        "refund": stack.flows["order/refund"].role,
        "payment-checks": stack.task_functions["payment"]["ChecksFunctionArn"].role,
        "payment-gateway": stack.task_functions["payment"]["GatewayFunctionArn"].role,
        "identity-verification": stack.flows["onboarding/identity-verification"].role,
        "review": stack.flows["onboarding/review"].role,
        # The identity service's one task function, the verification provider (``${ProviderFunctionArn}``).
        "identity-provider": stack.task_functions["identity"]["ProviderFunctionArn"].role,
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
        assert detail_types == PUT_EVENTS[principal][source]
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
        assert not _allows(statements, "commerce.payments", "PaymentProcessed")
        assert _allows(statements, "commerce.notifications", "CustomerNotified")


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


@pytest.mark.parametrize("name", ["payment", "refund", "identity-verification", "review"])
def test_what_a_state_machine_publishes_is_what_its_role_allows(synthesized: Synthesized, name: str) -> None:
    asl = json.loads((ROOT / "statemachines" / f"{name}.asl.json").read_text(encoding="utf-8"))
    entries = list(_asl_entries(asl))
    assert entries, f"{name} publishes nothing"
    statements = _put_events(_role_statements(synthesized, _role(synthesized, name)))
    for entry in entries:
        # Literal Source and DetailType: a path (``Source.$``) could not be checked, nor granted narrowly.
        assert _allows(statements, entry["Source"], entry["DetailType"]), entry


def _table_grants(synth: Synthesized, principal: str) -> dict[str, set[str]]:
    """table logical id -> the DynamoDB actions ``principal``'s role is allowed on it."""
    grants: dict[str, set[str]] = {}
    for statement in _role_statements(synth, _role(synth, principal)):
        actions = {a for a in _as_list(statement["Action"]) if a.startswith("dynamodb:")}
        if actions:
            (table_id, attribute) = statement["Resource"]["Fn::GetAtt"]
            assert attribute == "Arn"
            grants.setdefault(table_id, set()).update(actions)
    return grants


READ = {
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
}
READ_WRITE = READ | {
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}
TABLE_GRANTS: dict[str, dict[str, set[str]]] = {
    "controller": {"DataWorkflowsTableC1EDE449": READ_WRITE},
    # The callbacks table: the front door claims each decision there (order v2's shipping takes them).
    "frontdoor": {
        "DataWorkflowsTableC1EDE449": READ,
        "DataCallbacksTable30F33F09": {"dynamodb:GetItem", "dynamodb:PutItem"},
    },
    "inventory": {"DataInventoryTable469FF9AA": READ_WRITE, "DataIdempotencyTable36C198C8": READ_WRITE},
    "shipping": {"DataShipmentsTableD3E066E6": READ_WRITE, "DataIdempotencyTable36C198C8": READ_WRITE},
    "notification": {
        "DataNotificationsTableA1FEA4C7": READ_WRITE,
        "DataIdempotencyTable36C198C8": READ_WRITE,
    },
    "payment-checks": {},
    "payment-gateway": {"DataPaymentsTable52B0A41C": READ_WRITE},
    # Exactly the DynamoDB tasks of each ASL (statemachines/*.asl.json), on the table they name.
    "payment": {"DataPaymentsTable52B0A41C": {"dynamodb:PutItem"}},
    "refund": {"DataPaymentsTable52B0A41C": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}},
    "scheduler": {},
    # Onboarding's consumers: their own table (functions/*/deployment.py) and the idempotency records.
    "accounts": {"DataAccountsTable816B83C6": READ_WRITE, "DataIdempotencyTable36C198C8": READ_WRITE},
    "preferences": {"DataProfilesTable95DB990E": READ_WRITE, "DataIdempotencyTable36C198C8": READ_WRITE},
    "onboarding_notices": {
        "DataOnboardingNoticesTableEFA619AD": READ_WRITE,
        "DataIdempotencyTable36C198C8": READ_WRITE,
    },
    # The provider keeps the checks (identity/deployment.py: its TaskFunction's tables, read_write).
    "identity-provider": {"DataVerificationsTable7EFDB8AD": READ_WRITE},
    # The verification flow only calls the provider; the review leaves its task token in the callbacks table
    # and files the decision with the customer's check (statemachines/review.asl.json).
    "identity-verification": {},
    "review": {
        "DataCallbacksTable30F33F09": {"dynamodb:PutItem"},
        "DataVerificationsTable7EFDB8AD": {"dynamodb:UpdateItem"},
    },
}


@pytest.mark.parametrize("principal", sorted(TABLE_GRANTS))
def test_each_role_reaches_only_its_own_tables(synthesized: Synthesized, principal: str) -> None:
    assert _table_grants(synthesized, principal) == TABLE_GRANTS[principal]
    assert not any(
        "dynamodb:Scan" in _as_list(s["Action"])
        for s in _role_statements(synthesized, _role(synthesized, principal))
    )


def test_flows_invoke_only_the_task_functions_their_asl_names(synthesized: Synthesized) -> None:
    def invoked(principal: str) -> set[str]:
        return {
            resource["Fn::GetAtt"][0]
            for s in _role_statements(synthesized, _role(synthesized, principal))
            if "lambda:InvokeFunction" in _as_list(s["Action"])
            for resource in _as_list(s["Resource"])
        }

    assert invoked("payment") == {"PaymentChecksFunction57A7CA11", "PaymentGatewayFunctionD8925C92"}
    assert invoked("refund") == {"PaymentGatewayFunctionD8925C92"}  # the refund flow runs no payment checks
    assert invoked("identity-verification") == {"IdentityVerificationFunction89FAD2E7"}
    assert invoked("review") == set()  # a person decides: no task function


def test_the_controller_starts_and_stops_only_the_machines_that_run_steps(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    # The machines of steps: order's payment, onboarding's verification and review (it runs while an
    # officer decides; the controller stops it when the workflow ends first). Not order's refund flow,
    # an undo its rule starts.
    runs_steps = {
        "order/payment": "workflowkit-test-order-payment",
        "onboarding/identity-verification": "workflowkit-test-onboarding-identity-verification",
        "onboarding/review": "workflowkit-test-onboarding-review",
    }
    for key, name in runs_steps.items():
        assert stack.flows[key].state_machine_name == name
        machine = synthesized.resources[synthesized.logical_id(stack.flows[key].state_machine)]
        assert machine["Properties"]["StateMachineName"] == name
    controller_policy = synthesized.logical_id(
        cast(iam.Policy, stack.controller.handler.role.node.find_child("DefaultPolicy"))
    )
    for action, expected in (
        (
            "states:StopExecution",
            [f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}:*" for name in runs_steps.values()],
        ),
        (
            "states:StartExecution",
            [f"<{synthesized.logical_id(stack.flows[key].state_machine)}>" for key in runs_steps],
        ),
    ):
        grants = [
            statement
            for lid, statement in _all_policy_statements(synthesized)
            if action in _as_list(statement["Action"]) and lid == controller_policy
        ]
        assert grants, action
        for statement in grants:
            assert _as_list(statement["Action"]) == [action]
        granted = [_render(r) for statement in grants for r in _as_list(statement["Resource"])]
        assert sorted(granted) == sorted(expected), action
    # Nobody else may stop an execution; the refund flow is started by its rule's role alone.
    stops = [
        lid
        for lid, s in _all_policy_statements(synthesized)
        if "states:StopExecution" in _as_list(s["Action"])
    ]
    assert stops == [controller_policy]


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


def test_api_policies_separate_clients_from_operators(synthesized: Synthesized) -> None:
    api = synthesized.stack.api
    route_keys = {
        r["Properties"]["RouteKey"] for r in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert route_keys == {
        "POST /start/{workflowType}",
        "GET /workflows/{workflowId}",
        "POST /workflows/{workflowId}/commands",
        "POST /workflows/{workflowId}/steps/{step}/complete",
        "POST /workflows/{workflowId}/steps/{step}/reject",
    }

    client = _route_arns(synthesized, api.client_policy)
    operator = _route_arns(synthesized, api.operator_policy)
    # Starting is granted per deployed workflow type: a client cannot start a type the stage does not run.
    assert client == {
        _route_arn(synthesized, "POST /start/order"),
        _route_arn(synthesized, "POST /start/onboarding"),
        _route_arn(synthesized, "GET /workflows/{workflowId}"),
    }
    # Neither may decide a step: the callback routes are the approvers' alone (tests/infra/test_callbacks.py).
    assert operator == client | {_route_arn(synthesized, "POST /workflows/{workflowId}/commands")}
    # The carrier desk decides order v2's shipping, compliance officers onboarding's review: their
    # policies, and no other, may call the callback routes, and each only its own step's.
    assert set(api.approver_policies) == {"carrier-desk", "compliance-officer"}
    desk = api.approver_policies["carrier-desk"]
    officers = api.approver_policies["compliance-officer"]
    decisions = {
        lid
        for lid, statement in _all_policy_statements(synthesized)
        if "/steps/" in json.dumps(statement.get("Resource"))
    }
    assert decisions == {synthesized.logical_id(desk), synthesized.logical_id(officers)}
    assert _route_arns(synthesized, desk) == {
        _route_arn(synthesized, f"POST /workflows/{{workflowId}}/steps/shipping/{verdict}")
        for verdict in ("complete", "reject")
    }
    assert _route_arns(synthesized, officers) == {
        _route_arn(synthesized, f"POST /workflows/{{workflowId}}/steps/review/{verdict}")
        for verdict in ("complete", "reject")
    }

    (stage,) = synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["StageName"] == "$default"


def test_api_policies_are_stack_outputs(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    api = synthesized.stack.api
    for output, policy in (
        ("ClientPolicyArn", api.client_policy),
        ("WorkflowOperatorPolicyArn", api.operator_policy),
    ):
        assert outputs[output]["Value"] == {"Ref": synthesized.logical_id(policy)}
        assert synthesized.resources[synthesized.logical_id(policy)]["Type"] == "AWS::IAM::ManagedPolicy"
