"""The synthesized template wires what the deployed declarations say, and only that: the order workflow
(v1 and v2) and the customer onboarding workflow.

The expectations are spelled out here, as the declarations (functions/order_workflow,
functions/onboarding_workflow) and the services' deployment needs mean them, not recomputed from the
declarations the way the stack computes them: a derivation that went wrong would otherwise agree with
itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

from infra.constructs.orchestrated_flow import EXECUTION_TIMEOUT, placeholders
from tests.infra.conftest import ROOT, Synthesized
from workflowkit.patterns import matches

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
HANDLERS = {
    "controller": "controller.handler.lambda_handler",
    "inventory": "inventory.handler.lambda_handler",
    "shipping": "shipping.handler.lambda_handler",
    "notification": "notification.handler.lambda_handler",
    "accounts": "accounts.handler.lambda_handler",
    "preferences": "preferences.handler.lambda_handler",
    "onboarding_notices": "onboarding_notices.handler.lambda_handler",
}
ORDER = {"workflow": {"name": ["order"]}}
# What only order v2 has (the notify step, the carrier desk's decision): v1's instances never see it.
ORDER_V2 = {"workflow": {"name": ["order"], "version": [2]}}
# The onboarding workflow has one version: its rules match the name alone.
ONBOARDING = {"workflow": {"name": ["onboarding"]}}
# "No workflow context": EventBridge's `exists` works on leaves only (an object is not one), so on the name.
NO_CONTEXT = {"workflow": {"name": [{"exists": False}]}}

# Every rule delivering into a service's queue: (source, detail-types, content filter).
EXPECTED_RULES: dict[str, list[dict[str, Any]]] = {
    "controller": [
        # The start event comes from outside any workflow: it must carry no workflow context, so an event
        # some workflow published under its detail-type (which carries one) never starts a workflow.
        {"source": ["commerce.orders"], "detail-type": ["OrderSubmitted"], "detail": NO_CONTEXT},
        {
            "source": ["commerce.payments"],
            "detail-type": ["PaymentFailed", "PaymentProcessed", "PaymentRefunded", "RefundFailed"],
            "detail": ORDER,
        },
        {
            "source": ["commerce.inventory"],
            "detail-type": [
                "InventoryReleaseFailed",
                "InventoryReleased",
                "InventoryReservationFailed",
                "InventoryReserved",
            ],
            "detail": ORDER,
        },
        {
            "source": ["commerce.shipping"],
            "detail-type": [
                "ShipmentCancellationFailed",
                "ShipmentCancelled",
                "ShippingFailed",
                "ShippingScheduled",
            ],
            "detail": ORDER,
        },
        {
            "source": ["commerce.notifications"],
            "detail-type": ["OrderConfirmationFailed", "OrderConfirmationSent"],
            "detail": ORDER_V2,
        },
        # The carrier desk's decisions on shipping: the controller records them.
        {"source": ["workflow.callback"], "detail-type": ["StepDecided"], "detail": ORDER_V2},
        {"source": ["workflow.scheduler"], "detail-type": ["StepDeadlineReached"], "detail": ORDER},
        {"source": ["workflow.operator"], "detail-type": ["OperatorCommandIssued"], "detail": ORDER},
        # Onboarding: its start event, the outcomes of its steps and undos, its deadlines and commands. No
        # StepDecided: an officer's decision answers the review machine's task token, which reports it.
        {"source": ["onboarding.registrations"], "detail-type": ["CustomerRegistered"], "detail": NO_CONTEXT},
        {
            "source": ["onboarding.identity"],
            "detail-type": ["IdentityVerificationFailed", "IdentityVerified"],
            "detail": ONBOARDING,
        },
        {
            "source": ["onboarding.review"],
            "detail-type": ["ReviewApproved", "ReviewRejected"],
            "detail": ONBOARDING,
        },
        {
            "source": ["onboarding.accounts"],
            "detail-type": [
                "AccountDeprovisioned",
                "AccountDeprovisioningFailed",
                "AccountProvisioned",
                "AccountProvisioningFailed",
            ],
            "detail": ONBOARDING,
        },
        {
            "source": ["onboarding.preferences"],
            "detail-type": [
                "PreferencesRecorded",
                "PreferencesRejected",
                "ProfileClosed",
                "ProfileClosureFailed",
            ],
            "detail": ONBOARDING,
        },
        {"source": ["workflow.scheduler"], "detail-type": ["StepDeadlineReached"], "detail": ONBOARDING},
        {"source": ["workflow.operator"], "detail-type": ["OperatorCommandIssued"], "detail": ONBOARDING},
        # Deadlines scheduled and commands issued without a context (before decision 0022): the controller
        # finds the instance by the correlation id.
        {"source": ["workflow.scheduler"], "detail-type": ["StepDeadlineReached"], "detail": NO_CONTEXT},
        {"source": ["workflow.operator"], "detail-type": ["OperatorCommandIssued"], "detail": NO_CONTEXT},
    ],
    "inventory": [
        {"source": ["commerce.payments"], "detail-type": ["PaymentProcessed"], "detail": ORDER},
        {"source": ["workflow.controller"], "detail-type": ["InventoryReleaseRequested"], "detail": ORDER},
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRetryRequested"],
            "detail": {"workflow": {"name": ["order"]}, "data": {"step": ["inventory"]}},
        },
    ],
    "shipping": [
        {"source": ["commerce.inventory"], "detail-type": ["InventoryReserved"], "detail": ORDER},
        {
            "source": ["workflow.controller"],
            "detail-type": ["ShipmentCancellationRequested"],
            "detail": ORDER,
        },
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRetryRequested"],
            "detail": {"workflow": {"name": ["order"]}, "data": {"step": ["shipping"]}},
        },
        # A manual booking's confirmation or refusal, by the carrier desk (order v2).
        {
            "source": ["workflow.callback"],
            "detail-type": ["StepDecided"],
            "detail": {**ORDER_V2, "data": {"step": ["shipping"]}},
        },
    ],
    "notification": [
        {
            "source": ["workflow.controller"],
            "detail-type": [
                "WorkflowCompensated",
                "WorkflowCompleted",
                "WorkflowEscalated",
                "WorkflowFailed",
            ],
            "detail": ORDER,
        },
        # The notify step (order v2): the controller starts it, or retries it, for notification only.
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRequested"],
            "detail": {**ORDER_V2, "data": {"step": ["notify"]}},
        },
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRetryRequested"],
            "detail": {**ORDER_V2, "data": {"step": ["notify"]}},
        },
    ],
    # Onboarding's parallel steps: the controller starts (or retries) each for its consumer only, and
    # asks each consumer for its undo.
    "accounts": [
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRequested"],
            "detail": {**ONBOARDING, "data": {"step": ["account"]}},
        },
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRetryRequested"],
            "detail": {**ONBOARDING, "data": {"step": ["account"]}},
        },
        {
            "source": ["workflow.controller"],
            "detail-type": ["AccountDeprovisionRequested"],
            "detail": ONBOARDING,
        },
    ],
    "preferences": [
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRequested"],
            "detail": {**ONBOARDING, "data": {"step": ["preferences"]}},
        },
        {
            "source": ["workflow.controller"],
            "detail-type": ["StepRetryRequested"],
            "detail": {**ONBOARDING, "data": {"step": ["preferences"]}},
        },
        {"source": ["workflow.controller"], "detail-type": ["ProfileClosureRequested"], "detail": ONBOARDING},
    ],
    # A listener: what officers must decide or hear about (the review's request, reminder, escalation)
    # and how the onboarding ended, for the customer.
    "onboarding_notices": [
        {
            "source": ["workflow.controller"],
            "detail-type": [
                "DecisionReminder",
                "DecisionRequested",
                "WorkflowCompensated",
                "WorkflowCompleted",
                "WorkflowEscalated",
                "WorkflowFailed",
            ],
            "detail": ONBOARDING,
        }
    ],
}


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
    mapping: dict[str, Any] = mappings[0]
    return mapping


def _queue_of(synth: Synthesized, function_id: str) -> tuple[str, dict[str, Any]]:
    mapping = _mapping_of(synth, function_id)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    return queue_id, synth.resources[queue_id]


def _rules_targeting(synth: Synthesized, target: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if any(t["Arn"] == target for t in r["Properties"]["Targets"])
    ]


def _canonical(pattern: dict[str, Any]) -> str:
    """A pattern as sorted JSON, its detail-types as a set (their order means nothing to EventBridge)."""
    return json.dumps({**pattern, "detail-type": sorted(pattern["detail-type"])}, sort_keys=True)


def _machine_id(synth: Synthesized, name: str) -> str:
    (machine_id,) = [
        lid
        for lid, r in synth.of_type("AWS::StepFunctions::StateMachine").items()
        if r["Properties"]["StateMachineName"] == name
    ]
    return machine_id


def test_one_standard_state_machine_per_flow_logs_everything_and_traces(synthesized: Synthesized) -> None:
    machines = synthesized.of_type("AWS::StepFunctions::StateMachine")
    assert {m["Properties"]["StateMachineName"] for m in machines.values()} == {
        "workflowkit-test-order-payment",
        "workflowkit-test-order-refund",
        "workflowkit-test-onboarding-identity-verification",
        "workflowkit-test-onboarding-review",
    }
    for machine in machines.values():
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
        assert props["TracingConfiguration"] == {"Enabled": True}


# What each machine's ASL placeholders become: its service's task functions and tables (functions/payment
# and functions/identity deployment.py), the bus, and for a machine that pauses for a decision (onboarding's
# review) the callbacks table.
PAYMENT_SUBSTITUTIONS = {
    "ChecksFunctionArn": {"Fn::GetAtt": ["PaymentChecksFunction57A7CA11", "Arn"]},
    "GatewayFunctionArn": {"Fn::GetAtt": ["PaymentGatewayFunctionD8925C92", "Arn"]},
    "PaymentsTableName": {"Ref": "DataPaymentsTable52B0A41C"},
    "EventBusName": {"Ref": "EventsBus45DE4339"},
}
IDENTITY_SUBSTITUTIONS = {
    "ProviderFunctionArn": {"Fn::GetAtt": ["IdentityVerificationFunction89FAD2E7", "Arn"]},
    "VerificationsTableName": {"Ref": "DataVerificationsTable7EFDB8AD"},
    "EventBusName": {"Ref": "EventsBus45DE4339"},
}
EXPECTED_SUBSTITUTIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("order", "payment"): PAYMENT_SUBSTITUTIONS,
    ("order", "refund"): PAYMENT_SUBSTITUTIONS,
    ("onboarding", "identity-verification"): IDENTITY_SUBSTITUTIONS,
    ("onboarding", "review"): {
        **IDENTITY_SUBSTITUTIONS,
        "CallbacksTableName": {"Ref": "DataCallbacksTable30F33F09"},
    },
}


@pytest.mark.parametrize(("workflow", "name"), sorted(EXPECTED_SUBSTITUTIONS))
def test_every_asl_placeholder_is_substituted(synthesized: Synthesized, workflow: str, name: str) -> None:
    machine_id = _machine_id(synthesized, f"workflowkit-test-{workflow}-{name}")
    props = synthesized.resources[machine_id]["Properties"]
    definition = props["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    tokens = {token for part in parts if isinstance(part, str) for token in PLACEHOLDER.findall(part)}
    asl_tokens = placeholders(ROOT / "statemachines" / f"{name}.asl.json")
    assert tokens == asl_tokens
    assert asl_tokens <= set(props["DefinitionSubstitutions"])
    assert props["DefinitionSubstitutions"] == EXPECTED_SUBSTITUTIONS[(workflow, name)]


def _definition(synth: Synthesized, machine_id: str) -> dict[str, Any]:
    """The DefinitionString as JSON, each intrinsic (a substitution's value) rendered as a placeholder."""
    definition = synth.resources[machine_id]["Properties"]["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    text = "".join(part if isinstance(part, str) else "<intrinsic>" for part in parts)
    result: dict[str, Any] = json.loads(text)
    return result


# Each execution outlives the deadlines the controller enforces (infra/plan.py, FlowPlan.timeout).
EXPECTED_TIMEOUTS = {
    # Payment 15 min, refund 1 h, verification 15 min: the flows' default is more than twice each.
    ("order", "payment"): int(EXECUTION_TIMEOUT.to_seconds()),
    ("order", "refund"): int(EXECUTION_TIMEOUT.to_seconds()),
    ("onboarding", "identity-verification"): int(EXECUTION_TIMEOUT.to_seconds()),
    # The review waits for an officer past its 48-hour SLA (it escalates; a late decision counts): a year.
    ("onboarding", "review"): 365 * 24 * 3600,
}


@pytest.mark.parametrize(("workflow", "name"), sorted(EXPECTED_TIMEOUTS))
def test_every_state_machine_times_out(synthesized: Synthesized, workflow: str, name: str) -> None:
    # The definition is a string, so CDK cannot add the timeout: it must be in the ASL itself, or
    # executions never time out and the "executions timed out" alarm can never fire.
    definition = _definition(synthesized, _machine_id(synthesized, f"workflowkit-test-{workflow}-{name}"))
    assert definition["TimeoutSeconds"] == EXPECTED_TIMEOUTS[(workflow, name)]
    assert 0 < definition["TimeoutSeconds"] <= 365 * 24 * 3600  # Standard workflows run at most a year
    assert {"StartAt", "States"} <= set(definition)


@pytest.mark.parametrize("service", sorted(HANDLERS))
def test_queue_fed_services_sit_behind_a_queue_with_dlq(synthesized: Synthesized, service: str) -> None:
    function_id, function = _function(synthesized, HANDLERS[service])
    _, queue = _queue_of(synthesized, function_id)
    redrive = queue["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5  # AWS: at least 5 for a queue feeding Lambda
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


@pytest.mark.parametrize("service", sorted(HANDLERS))
def test_rules_into_each_queue_match_exactly_what_the_service_handles(
    synthesized: Synthesized, service: str
) -> None:
    function_id, _ = _function(synthesized, HANDLERS[service])
    queue_id, _ = _queue_of(synthesized, function_id)
    rules = _rules_targeting(synthesized, {"Fn::GetAtt": [queue_id, "Arn"]})
    actual = sorted(_canonical(rule["EventPattern"]) for rule in rules)
    assert actual == sorted(_canonical(pattern) for pattern in EXPECTED_RULES[service])
    assert all(rule["State"] == "ENABLED" for rule in rules)


def test_every_rule_matches_the_workflow_name_or_the_absence_of_a_context(synthesized: Synthesized) -> None:
    # The kit's lifecycle events are the same for every workflow: without the name, a second workflow's
    # WorkflowCompleted would reach the order workflow's listeners. The rules of events without a context
    # are the start rule, the controller's deadlines and commands, and the unrouted events'.
    unrouted = {synthesized.logical_id(rule) for rule in synthesized.stack.unrouted.rules.values()}
    contextless = []
    for lid, rule in synthesized.of_type("AWS::Events::Rule").items():
        pattern = rule["Properties"]["EventPattern"]
        if pattern["detail"] == NO_CONTEXT:
            contextless.append(lid)
            assert lid in unrouted or lid.startswith("Controller"), lid
        else:
            # By name; by version too where only some live versions want the events (order v2's own).
            named = (ORDER["workflow"], ORDER_V2["workflow"], ONBOARDING["workflow"])
            assert pattern["detail"]["workflow"] in named, lid
    # Two start rules (OrderSubmitted, CustomerRegistered), the controller's deadlines and commands.
    assert len(contextless) == 2 + 2 + len(unrouted)


CONTEXT = {"name": "order", "version": 1, "subject": {"orderId": "o-1"}, "outputs": {}}


def _event(detail_type: str, source: str, *, context: Any = None, **data: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"metadata": {"correlationId": "o-1"}, "data": data}
    if context is not None:
        detail["workflow"] = context
    return {"source": source, "detail-type": detail_type, "detail": detail}


def _reached(synth: Synthesized, event: dict[str, Any]) -> set[str]:
    """The rules (construct paths below the stack) whose patterns match ``event``, as EventBridge matches."""
    stack = synth.stack
    rules = {
        **{f"Controller/{name}": rule for name, rule in stack.controller.rules.items()},
        **{
            f"{service}/{name}": rule
            for service, consumer in stack.consumers.items()
            for name, rule in consumer.rules.items()
        },
        **{f"{key}/{name}": rule for key, flow in stack.flows.items() for name, rule in flow.rules.items()},
        **{f"Unrouted/{name}": rule for name, rule in stack.unrouted.rules.items()},
    }
    assert len(rules) == len(synth.of_type("AWS::Events::Rule"))
    return {
        path
        for path, rule in rules.items()
        if matches(synth.resources[synth.logical_id(rule)]["Properties"]["EventPattern"], event)
    }


def test_an_event_reaches_exactly_the_rules_meant_for_it(synthesized: Synthesized) -> None:
    # A start event starts a workflow only without a workflow context: one carrying a context was
    # published inside some workflow under the same detail-type, and starts nothing.
    submitted = _event("OrderSubmitted", "commerce.orders")
    assert _reached(synthesized, submitted) == {"Controller/OrderStartCommerceOrdersRule"}
    assert _reached(synthesized, {**submitted, "detail": {**submitted["detail"], "workflow": None}}) == {
        "Controller/OrderStartCommerceOrdersRule"
    }
    other = _event("OrderSubmitted", "commerce.orders", context={**CONTEXT, "name": "restock"})
    assert _reached(synthesized, other) == set()
    # A workflow's event reaches its workflow's rules; without a context, the unrouted queue only.
    paid = _event("PaymentProcessed", "commerce.payments", context=CONTEXT)
    assert _reached(synthesized, paid) == {
        "Controller/OrderCommercePaymentsRule",
        "inventory/OrderCommercePaymentsRule",
    }
    assert _reached(synthesized, _event("PaymentProcessed", "commerce.payments")) == {
        "Unrouted/CommercePaymentsRule"
    }
    retry = _event("StepRetryRequested", "workflow.controller", step="shipping")
    assert _reached(synthesized, retry) == {"Unrouted/WorkflowControllerRule"}
    # Deadlines and commands without a context reach the controller, which knows the instance by its id.
    deadline = _event("StepDeadlineReached", "workflow.scheduler", step="payment")
    assert _reached(synthesized, deadline) == {"Controller/ContextlessWorkflowSchedulerRule"}
    assert _reached(synthesized, _event("StepDeadlineReached", "workflow.scheduler", context=CONTEXT)) == {
        "Controller/OrderWorkflowSchedulerRule"
    }
    command = _event("OperatorCommandIssued", "workflow.operator", command="cancel")
    assert _reached(synthesized, command) == {"Controller/ContextlessWorkflowOperatorRule"}


def test_exists_false_on_the_context_object_itself_would_not_tell_a_context_from_none() -> None:
    # EventBridge: "Comparison operators only work on leaf nodes"; an object is not one, so exists: false
    # on detail.workflow matches an event that carries a context. Hence the filter on the context's name.
    naive = {"detail": {"workflow": [{"exists": False}]}}
    assert matches(naive, _event("OrderSubmitted", "commerce.orders", context=CONTEXT))
    assert not matches({"detail": NO_CONTEXT}, _event("OrderSubmitted", "commerce.orders", context=CONTEXT))
    assert matches({"detail": NO_CONTEXT}, _event("OrderSubmitted", "commerce.orders"))


# The deployed workflows' events without a workflow context that no rule of a workflow matches: every
# detail-type some rule delivers, per source, but the start events (which have no context) and the deadlines
# and commands (which reach the controller).
EXPECTED_UNROUTED = [
    {
        "source": ["commerce.inventory"],
        "detail-type": [
            "InventoryReleaseFailed",
            "InventoryReleased",
            "InventoryReservationFailed",
            "InventoryReserved",
        ],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["commerce.payments"],
        "detail-type": ["PaymentFailed", "PaymentProcessed", "PaymentRefunded", "RefundFailed"],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["commerce.shipping"],
        "detail-type": [
            "ShipmentCancellationFailed",
            "ShipmentCancelled",
            "ShippingFailed",
            "ShippingScheduled",
        ],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["commerce.notifications"],
        "detail-type": ["OrderConfirmationFailed", "OrderConfirmationSent"],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["onboarding.identity"],
        "detail-type": ["IdentityVerificationFailed", "IdentityVerified"],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["onboarding.review"],
        "detail-type": ["ReviewApproved", "ReviewRejected"],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["onboarding.accounts"],
        "detail-type": [
            "AccountDeprovisioned",
            "AccountDeprovisioningFailed",
            "AccountProvisioned",
            "AccountProvisioningFailed",
        ],
        "detail": NO_CONTEXT,
    },
    {
        "source": ["onboarding.preferences"],
        "detail-type": [
            "PreferencesRecorded",
            "PreferencesRejected",
            "ProfileClosed",
            "ProfileClosureFailed",
        ],
        "detail": NO_CONTEXT,
    },
    {"source": ["workflow.callback"], "detail-type": ["StepDecided"], "detail": NO_CONTEXT},
    {
        "source": ["workflow.controller"],
        "detail-type": [
            # Onboarding's undo requests, and the review's decision requests (onboarding_notices hears them).
            "AccountDeprovisionRequested",
            "DecisionReminder",
            "DecisionRequested",
            "ProfileClosureRequested",
            "InventoryReleaseRequested",
            "RefundRequested",
            "ShipmentCancellationRequested",
            "StepRequested",
            "StepRetryRequested",
            "WorkflowCompensated",
            "WorkflowCompleted",
            "WorkflowEscalated",
            "WorkflowFailed",
        ],
        "detail": NO_CONTEXT,
    },
]


def test_events_without_a_context_that_no_rule_matches_go_to_the_unrouted_queue(
    synthesized: Synthesized,
) -> None:
    queue = synthesized.logical_id(synthesized.stack.unrouted.queue)
    rules = _rules_targeting(synthesized, {"Fn::GetAtt": [queue, "Arn"]})
    assert sorted(_canonical(rule["EventPattern"]) for rule in rules) == sorted(
        _canonical(pattern) for pattern in EXPECTED_UNROUTED
    )
    assert all(rule["State"] == "ENABLED" for rule in rules)
    properties = synthesized.resources[queue]["Properties"]
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert properties["KmsMasterKeyId"] == {
        "Fn::GetAtt": [synthesized.logical_id(synthesized.stack.encryption.key), "Arn"]
    }
    outputs = synthesized.template.to_json()["Outputs"]
    assert outputs["UnroutedEventsQueueUrl"]["Value"] == {"Ref": queue}


def test_only_the_unrouted_rules_may_send_to_the_unrouted_queue(synthesized: Synthesized) -> None:
    queue = synthesized.logical_id(synthesized.stack.unrouted.queue)
    rules = {synthesized.logical_id(rule) for rule in synthesized.stack.unrouted.rules.values()}
    (policy,) = [
        p["Properties"]
        for p in synthesized.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {"events.amazonaws.com"}
    assert {s["Action"] for s in allows} == {"sqs:SendMessage"}
    senders = set()
    for statement in allows:
        rule_id, attribute = statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"]
        assert attribute == "Arn"
        senders.add(rule_id)
    assert senders == rules


def test_the_refund_flow_is_started_by_its_request_of_the_order_workflow(synthesized: Synthesized) -> None:
    refund = _machine_id(synthesized, "workflowkit-test-order-refund")
    rules = _rules_targeting(synthesized, {"Ref": refund})
    assert [rule["EventPattern"] for rule in rules] == [
        {
            "source": ["workflow.controller"],
            "detail-type": ["RefundRequested"],
            "detail": {"workflow": {"name": ["order"]}},
        }
    ]
    # The payment flow runs a step: the controller starts it, no rule does.
    payment = _machine_id(synthesized, "workflowkit-test-order-payment")
    assert _rules_targeting(synthesized, {"Ref": payment}) == []


EXPECTED_ENVIRONMENT = {
    "controller.handler.lambda_handler": {
        "EVENT_BUS_NAME",
        "EVENT_BUS_ARN",
        "WORKFLOW_TABLE_NAME",
        "STATE_MACHINE_ARNS",
        "SCHEDULE_GROUP_NAME",
        "SCHEDULER_ROLE_ARN",
        "ESCALATION_TOPIC_ARN",
        "SCHEDULE_DEAD_LETTER_QUEUE_ARN",
    },
    "inventory.handler.lambda_handler": {"EVENT_BUS_NAME", "INVENTORY_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"},
    "shipping.handler.lambda_handler": {"EVENT_BUS_NAME", "SHIPMENTS_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"},
    "notification.handler.lambda_handler": {
        "EVENT_BUS_NAME",
        "NOTIFICATIONS_TABLE_NAME",
        "IDEMPOTENCY_TABLE_NAME",
        "CUSTOMER_TOPIC_ARN",
    },
    "payment.checks.lambda_handler": set(),
    "payment.gateway.lambda_handler": {"PAYMENTS_TABLE_NAME", "PAYMENT_GATEWAY"},
    "frontdoor.handler.lambda_handler": {"EVENT_BUS_NAME", "WORKFLOW_TABLE_NAME", "CALLBACKS_TABLE_NAME"},
    # Onboarding's services (functions/*/deployment.py): each its table and, for notices, the topic.
    "accounts.handler.lambda_handler": {"EVENT_BUS_NAME", "ACCOUNTS_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"},
    "preferences.handler.lambda_handler": {"EVENT_BUS_NAME", "PROFILES_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"},
    "onboarding_notices.handler.lambda_handler": {
        "EVENT_BUS_NAME",
        "ONBOARDING_NOTICES_TABLE_NAME",
        "IDEMPOTENCY_TABLE_NAME",
        "NOTICES_TOPIC_ARN",
    },
    "identity.verification.lambda_handler": {"VERIFICATIONS_TABLE_NAME", "IDENTITY_PROVIDER"},
}
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
# Every function pins its SDK clients' retry mode (the runtime's botocore may default to legacy).
RUNTIME = {"AWS_RETRY_MODE"}


@pytest.mark.parametrize("handler", sorted(EXPECTED_ENVIRONMENT))
def test_functions_follow_the_contract(synthesized: Synthesized, handler: str) -> None:
    _, function = _function(synthesized, handler)
    props = function["Properties"]
    variables = props["Environment"]["Variables"]
    assert set(variables) == EXPECTED_ENVIRONMENT[handler] | POWERTOOLS | RUNTIME
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "WorkflowKit"
    assert variables["AWS_RETRY_MODE"] == "standard"
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    # The AWS-managed layer for exactly this runtime, architecture and the pinned Powertools version.
    assert props["Layers"] == [
        "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/" + POWERTOOLS_VERSION + "}}"
    ]
    if handler.startswith("payment.gateway"):
        assert variables["PAYMENT_GATEWAY"] == "sandbox"
    if handler.startswith("identity.verification"):
        assert variables["IDENTITY_PROVIDER"] == "sandbox"


def test_each_service_gets_its_own_tables_and_topic_in_its_environment(synthesized: Synthesized) -> None:
    expected = {
        "inventory.handler.lambda_handler": {"INVENTORY_TABLE_NAME": {"Ref": "DataInventoryTable469FF9AA"}},
        "shipping.handler.lambda_handler": {"SHIPMENTS_TABLE_NAME": {"Ref": "DataShipmentsTableD3E066E6"}},
        "notification.handler.lambda_handler": {
            "NOTIFICATIONS_TABLE_NAME": {"Ref": "DataNotificationsTableA1FEA4C7"},
            "CUSTOMER_TOPIC_ARN": {"Ref": synthesized.logical_id(synthesized.stack.topics.notices)},
        },
        "payment.gateway.lambda_handler": {"PAYMENTS_TABLE_NAME": {"Ref": "DataPaymentsTable52B0A41C"}},
        "accounts.handler.lambda_handler": {"ACCOUNTS_TABLE_NAME": {"Ref": "DataAccountsTable816B83C6"}},
        "preferences.handler.lambda_handler": {"PROFILES_TABLE_NAME": {"Ref": "DataProfilesTable95DB990E"}},
        "onboarding_notices.handler.lambda_handler": {
            "ONBOARDING_NOTICES_TABLE_NAME": {"Ref": "DataOnboardingNoticesTableEFA619AD"},
            "NOTICES_TOPIC_ARN": {"Ref": synthesized.logical_id(synthesized.stack.topics.notices)},
        },
        "identity.verification.lambda_handler": {
            "VERIFICATIONS_TABLE_NAME": {"Ref": "DataVerificationsTable7EFDB8AD"}
        },
    }
    for handler, variables in expected.items():
        _, function = _function(synthesized, handler)
        actual = function["Properties"]["Environment"]["Variables"]
        assert {name: actual[name] for name in variables} == variables, handler
        if "IDEMPOTENCY_TABLE_NAME" in actual:
            assert actual["IDEMPOTENCY_TABLE_NAME"] == {"Ref": "DataIdempotencyTable36C198C8"}


def test_the_controller_knows_the_state_machines_it_starts_by_workflow_and_machine(
    synthesized: Synthesized,
) -> None:
    _, controller = _function(synthesized, "controller.handler.lambda_handler")
    value = controller["Properties"]["Environment"]["Variables"]["STATE_MACHINE_ARNS"]
    # A JSON object whose values are the machines' ARNs (Ref of a state machine is its ARN).
    text = "".join(
        part if isinstance(part, str) else "<" + part["Ref"] + ">" for part in value["Fn::Join"][1]
    )
    # The machines of steps: order's payment, onboarding's verification and review (not order's refund flow,
    # an undo its rule starts).
    assert json.loads(text) == {
        "order/payment": f"<{_machine_id(synthesized, 'workflowkit-test-order-payment')}>",
        "onboarding/identity-verification": (
            f"<{_machine_id(synthesized, 'workflowkit-test-onboarding-identity-verification')}>"
        ),
        "onboarding/review": f"<{_machine_id(synthesized, 'workflowkit-test-onboarding-review')}>",
    }


def test_names_the_kit_does_not_choose_are_left_to_cloudformation(synthesized: Synthesized) -> None:
    # CloudFormation fits a generated name to each service's limit (rule 64, queue 80, function 64, role
    # 64); the names the kit chooses are checked by the plan (infra/constructs/naming.py).
    named = {
        "AWS::Events::Rule": "Name",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::IAM::Role": "RoleName",
        "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    }
    for cfn_type, name in named.items():
        resources = synthesized.of_type(cfn_type)
        assert resources, cfn_type
        assert [lid for lid, r in resources.items() if name in r.get("Properties", {})] == [], cfn_type


def test_all_functions_share_one_code_asset(synthesized: Synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function").values()
    assert len({r["Properties"]["Code"]["S3Key"] for r in functions}) == 1
    assert len(functions) == len(EXPECTED_ENVIRONMENT)


def test_http_api_routes_require_sigv4(synthesized: Synthesized) -> None:
    routes = synthesized.of_type("AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["RouteKey"] for r in routes.values()} == {
        "POST /start/{workflowType}",
        "GET /workflows/{workflowId}",
        "POST /workflows/{workflowId}/commands",
        # Decisions on callback steps: every workflow's, whether or not it has any (404 then, said why).
        "POST /workflows/{workflowId}/steps/{step}/complete",
        "POST /workflows/{workflowId}/steps/{step}/reject",
    }
    assert all(r["Properties"]["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    (stage,) = synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
    assert "DestinationArn" in stage["Properties"]["AccessLogSettings"]
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_outputs_name_what_the_local_cloud_and_clients_read(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    assert set(outputs) == {
        "EventBusName",
        "EventBusArn",
        "ApiUrl",
        "ClientPolicyArn",
        "WorkflowOperatorPolicyArn",
        "CarrierDeskApproverPolicyArn",  # order v2: the carrier desk confirms manual bookings
        "WorkflowsTableName",
        "IdempotencyTableName",
        "CallbacksTableName",
        "InventoryTableName",
        "ShipmentsTableName",
        "PaymentsTableName",
        "NotificationsTableName",
        "OrderPaymentStateMachineArn",
        "OrderRefundStateMachineArn",
        # Onboarding: compliance officers decide reviews; its services' tables; its two machines.
        "ComplianceOfficerApproverPolicyArn",
        "AccountsTableName",
        "ProfilesTableName",
        "VerificationsTableName",
        "OnboardingNoticesTableName",
        "OnboardingIdentityVerificationStateMachineArn",
        "OnboardingReviewStateMachineArn",
        "AlarmTopicArn",
        "EscalationTopicArn",
        "NoticesTopicArn",
        "ScheduleGroupName",
        "UnroutedEventsQueueUrl",
    }
    tables = (
        *("Workflows", "Idempotency", "Callbacks", "Inventory", "Shipments", "Payments", "Notifications"),
        *("Accounts", "Profiles", "Verifications", "OnboardingNotices"),
    )
    for table in tables:
        assert outputs[f"{table}TableName"]["Value"]["Ref"].startswith(f"Data{table}Table")
    for output, name in (
        ("OrderPaymentStateMachineArn", "workflowkit-test-order-payment"),
        ("OrderRefundStateMachineArn", "workflowkit-test-order-refund"),
        (
            "OnboardingIdentityVerificationStateMachineArn",
            "workflowkit-test-onboarding-identity-verification",
        ),
        ("OnboardingReviewStateMachineArn", "workflowkit-test-onboarding-review"),
    ):
        assert outputs[output]["Value"] == {"Ref": _machine_id(synthesized, name)}
    api = synthesized.stack.api
    for output, group in (
        ("CarrierDeskApproverPolicyArn", "carrier-desk"),
        ("ComplianceOfficerApproverPolicyArn", "compliance-officer"),
    ):
        assert outputs[output]["Value"] == {"Ref": synthesized.logical_id(api.approver_policies[group])}
