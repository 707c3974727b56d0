"""One stack, many workflows: a second workflow deploys beside the order workflow without a collision.

The app is synthesized from a copy of the functions folder with a second workflow (``restock``) and a new
service (``stocktake``) added, the way ``cdk synth -c functionsDir=...`` would: the registry comes from
the copy's ``workflow_registry``. ``restock`` shares the inventory consumer, the payment service's task
functions and the payment/refund ASL with the order workflow, so every kind of sharing is exercised.
Expectations are literal.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from app import load_registry, stage_config
from infra.plan import plan
from order_workflow import INVENTORY, ORDER_WORKFLOW, PAYMENT
from tests.infra.conftest import ROOT, STAGE, Synthesized, synthesize
from workflow_core.deployment import ServiceNeeds, needs_of
from workflow_core.lifecycle import WORKFLOW_COMPLETED
from workflow_core.registry import Registry, deployed

RESTOCK = textwrap.dedent(
    '''
    """A second workflow (tests/infra): count a SKU's stock, reserve it, pay the supplier."""

    from datetime import timedelta

    from pydantic import Field

    from order_workflow.events import EVENT_TYPES as ORDER_EVENTS
    from workflow_core import lifecycle
    from workflow_core.catalog import EventType
    from workflow_core.definition import Compensation, Step, WorkflowDefinition, consumer, state_machine
    from workflow_core.envelope import ContractModel


    class RestockRequested(ContractModel):
        restock_id: str = Field(min_length=1, max_length=64)
        # The shared services key their records on it; their undo requests are filled from it.
        order_id: str = Field(min_length=1, max_length=64)
        sku: str
        quantity: int = Field(gt=0)


    class StockCounted(ContractModel):
        restock_id: str
        on_hand: int


    class StockCountFailed(ContractModel):
        restock_id: str
        reason: str


    SHARED = {etype.name: etype for etype in ORDER_EVENTS}
    EVENTS = (
        EventType("RestockRequested", "warehouse.restock", {1: RestockRequested}),
        EventType("StockCounted", "warehouse.stocktake", {1: StockCounted}),
        EventType("StockCountFailed", "warehouse.stocktake", {1: StockCountFailed}),
        *(
            SHARED[name]
            for name in (
                "InventoryReserved",
                "InventoryReservationFailed",
                "InventoryReleaseRequested",
                "InventoryReleased",
                "InventoryReleaseFailed",
                "PaymentProcessed",
                "PaymentFailed",
                "RefundRequested",
                "PaymentRefunded",
                "RefundFailed",
            )
        ),
    )

    RESTOCK_WORKFLOW = WorkflowDefinition(
        name="restock",
        version=1,
        start_event="RestockRequested",
        subject_id="restock_id",
        steps=(
            Step(
                name="count",
                runner=consumer("stocktake"),
                started_by=lifecycle.WORKFLOW_STARTED,
                completed_by="StockCounted",
                failed_by="StockCountFailed",
                deadline=timedelta(minutes=5),
            ),
            Step(
                name="reserve",
                runner=consumer("inventory"),
                started_by="StockCounted",
                completed_by="InventoryReserved",
                failed_by="InventoryReservationFailed",
                deadline=timedelta(minutes=10),
                compensation=Compensation(
                    request="InventoryReleaseRequested",
                    completed_by="InventoryReleased",
                    failed_by="InventoryReleaseFailed",
                    runner=consumer("inventory"),
                    deadline=timedelta(minutes=30),
                ),
            ),
            Step(
                name="pay",
                runner=state_machine("payment"),
                started_by="InventoryReserved",
                completed_by="PaymentProcessed",
                failed_by="PaymentFailed",
                deadline=timedelta(minutes=15),
                compensation=Compensation(
                    request="RefundRequested",
                    completed_by="PaymentRefunded",
                    failed_by="RefundFailed",
                    runner=state_machine("refund", service="payment"),
                    deadline=timedelta(hours=1),
                ),
            ),
        ),
        events=EVENTS,
        listeners={"notification": (lifecycle.WORKFLOW_ESCALATED,)},
    )
    '''
)
STOCKTAKE_NEEDS = textwrap.dedent(
    '''
    """What the stocktake service needs deployed."""

    from workflow_core.deployment import ServiceNeeds, TableNeed

    NEEDS = ServiceNeeds(
        handler="stocktake.handler.lambda_handler",
        description="counts stock on hand",
        tables=(TableNeed("Counts", env="COUNTS_TABLE_NAME", sort_key="sku"),),
    )
    '''
)
REGISTRY = textwrap.dedent(
    """
    from order_workflow import ORDER_WORKFLOW
    from restock_workflow import RESTOCK_WORKFLOW

    WORKFLOWS = (ORDER_WORKFLOW, RESTOCK_WORKFLOW)
    """
)


def _functions_with_restock(folder: Path) -> Path:
    """A copy of the app's functions folder with the restock workflow and the stocktake service added."""
    functions = folder / "functions"
    shutil.copytree(ROOT / "functions", functions, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (functions / "restock_workflow").mkdir()
    (functions / "restock_workflow" / "__init__.py").write_text(RESTOCK, encoding="utf-8")
    (functions / "stocktake").mkdir()
    (functions / "stocktake" / "__init__.py").write_text('"""Counts stock."""\n', encoding="utf-8")
    (functions / "stocktake" / "deployment.py").write_text(STOCKTAKE_NEEDS, encoding="utf-8")
    (functions / "stocktake" / "handler.py").write_text(
        "def lambda_handler(event, context):\n    return {'batchItemFailures': []}\n", encoding="utf-8"
    )
    (functions / "workflow_registry.py").write_text(REGISTRY, encoding="utf-8")
    return functions


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    deployed()  # the app's own workflows are imported from the app's folder, before the copy joins the path
    functions = _functions_with_restock(tmp_path_factory.mktemp("two-workflows"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "path", list(sys.path))  # load_registry's addition to the path is undone after
        config = stage_config(
            cdk.App(
                context={
                    "stage": STAGE,
                    "functionsDir": str(functions),
                    "statemachinesDir": str(ROOT / "statemachines"),
                }
            )
        )
        assert config.functions_dir == functions
        registry = load_registry(config.functions_dir)
        assert registry.names == ("order", "restock")
        synthesized = synthesize(tmp_path_factory.mktemp("cdk.out.two"), config, registry)
    return synthesized


def _rules(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in synth.of_type("AWS::Events::Rule").items()}


def _queue_rules(synth: Synthesized, handler: str) -> list[dict[str, Any]]:
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
    queue = mapping["EventSourceArn"]
    return [
        rule["EventPattern"]
        for rule in _rules(synth).values()
        if any(target["Arn"] == queue for target in rule["Targets"])
    ]


def _default_policy(role: iam.IRole) -> iam.Policy:
    return cast(iam.Policy, role.node.find_child("DefaultPolicy"))


def _canonical(patterns: list[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps({**p, "detail-type": sorted(p["detail-type"])}, sort_keys=True) for p in patterns
    )


def _names(synth: Synthesized) -> list[str]:
    """Every physical name the template fixes, rendered (a log group's is joined with the stack's id)."""
    properties = {
        "AWS::StepFunctions::StateMachine": "StateMachineName",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::Events::Rule": "Name",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::DynamoDB::Table": "TableName",
        "AWS::Scheduler::ScheduleGroup": "Name",
        "AWS::CloudWatch::Alarm": "AlarmName",
    }
    names = []
    for resource in synth.resources.values():
        name = resource.get("Properties", {}).get(properties.get(resource["Type"], ""))
        if name is not None:
            names.append(json.dumps(name, sort_keys=True))
    return names


def test_two_workflows_synthesize_cdk_nag_clean_without_a_name_collision(two: Synthesized) -> None:
    # synthesize() raised already if cdk-nag had an unacknowledged finding.
    names = _names(two)
    assert len(names) == len(set(names))
    machines = {
        m["Properties"]["StateMachineName"] for m in two.of_type("AWS::StepFunctions::StateMachine").values()
    }
    assert machines == {
        "workflowkit-test-order-payment",
        "workflowkit-test-order-refund",
        "workflowkit-test-restock-payment",
        "workflowkit-test-restock-refund",
    }
    log_groups = {
        g["Properties"]["LogGroupName"]["Fn::Join"][1][0]
        for g in two.of_type("AWS::Logs::LogGroup").values()
        if "LogGroupName" in g["Properties"]
    }
    assert log_groups == {f"/aws/vendedlogs/states/{machine}" for machine in machines}
    # One controller and its one schedule group for both workflows.
    assert len(two.of_type("AWS::Scheduler::ScheduleGroup")) == 1
    handlers = [f["Properties"]["Handler"] for f in two.of_type("AWS::Lambda::Function").values()]
    assert sorted(handlers) == sorted(
        [
            "controller.handler.lambda_handler",
            "frontdoor.handler.lambda_handler",
            "inventory.handler.lambda_handler",
            "notification.handler.lambda_handler",
            "payment.checks.lambda_handler",
            "payment.gateway.lambda_handler",
            "shipping.handler.lambda_handler",
            "stocktake.handler.lambda_handler",
        ]
    )


NO_CONTEXT = {"workflow": {"name": [{"exists": False}]}}


def test_every_rule_of_a_workflow_matches_its_name(two: Synthesized) -> None:
    starts = []
    unrouted = {two.logical_id(rule) for rule in two.stack.unrouted.rules.values()}
    for lid, rule in _rules(two).items():
        pattern = rule["EventPattern"]
        if pattern["detail"] == NO_CONTEXT:
            if lid.startswith("ControllerContextless") or lid in unrouted:
                continue
            starts.append((pattern["source"], pattern["detail-type"]))
            continue
        workflow = pattern["detail"]["workflow"]
        assert workflow in ({"name": ["order"]}, {"name": ["restock"]}), lid
        assert lid.startswith(
            (
                "Controller",
                "InventoryConsumer",
                "NotificationConsumer",
                "ShippingConsumer",
                "StocktakeConsumer",
                "OrderRefundFlow",
                "RestockRefundFlow",
            )
        ), lid
    # The start events are matched on source and type, and on the absence of a workflow context.
    assert sorted(starts) == [
        (["commerce.orders"], ["OrderSubmitted"]),
        (["warehouse.restock"], ["RestockRequested"]),
    ]


def test_a_shared_consumer_has_one_queue_and_rules_per_workflow(two: Synthesized) -> None:
    order = {"workflow": {"name": ["order"]}}
    restock = {"workflow": {"name": ["restock"]}}
    assert _canonical(_queue_rules(two, "inventory.handler.lambda_handler")) == _canonical(
        [
            {"source": ["commerce.payments"], "detail-type": ["PaymentProcessed"], "detail": order},
            {
                "source": ["workflow.controller"],
                "detail-type": ["InventoryReleaseRequested"],
                "detail": order,
            },
            {
                "source": ["workflow.controller"],
                "detail-type": ["StepRetryRequested"],
                "detail": {**order, "data": {"step": ["inventory"]}},
            },
            {"source": ["warehouse.stocktake"], "detail-type": ["StockCounted"], "detail": restock},
            {
                "source": ["workflow.controller"],
                "detail-type": ["InventoryReleaseRequested"],
                "detail": restock,
            },
            {
                "source": ["workflow.controller"],
                "detail-type": ["StepRetryRequested"],
                "detail": {**restock, "data": {"step": ["reserve"]}},
            },
        ]
    )
    assert _canonical(_queue_rules(two, "stocktake.handler.lambda_handler")) == _canonical(
        [
            {"source": ["workflow.controller"], "detail-type": ["WorkflowStarted"], "detail": restock},
            {
                "source": ["workflow.controller"],
                "detail-type": ["StepRetryRequested"],
                "detail": {**restock, "data": {"step": ["count"]}},
            },
        ]
    )
    assert _canonical(_queue_rules(two, "notification.handler.lambda_handler")) == _canonical(
        [
            {
                "source": ["workflow.controller"],
                "detail-type": [
                    "WorkflowCompleted",
                    "WorkflowCompensated",
                    "WorkflowFailed",
                    "WorkflowEscalated",
                ],
                "detail": order,
            },
            {"source": ["workflow.controller"], "detail-type": ["WorkflowEscalated"], "detail": restock},
        ]
    )
    controller = _queue_rules(two, "controller.handler.lambda_handler")
    assert {
        "source": ["warehouse.restock"],
        "detail-type": ["RestockRequested"],
        "detail": NO_CONTEXT,
    } in controller
    assert {
        "source": ["warehouse.stocktake"],
        "detail-type": ["StockCounted", "StockCountFailed"],
        "detail": restock,
    } in controller
    # order: start, 3 outcome sources, deadlines, commands; restock the same; deadlines and commands
    # without a context, whatever the workflow.
    assert len(controller) == 6 + 6 + 2


def test_both_workflows_events_without_a_context_go_to_the_unrouted_queue(two: Synthesized) -> None:
    queue = {"Fn::GetAtt": [two.logical_id(two.stack.unrouted.queue), "Arn"]}
    patterns = {
        rule["EventPattern"]["source"][0]: sorted(rule["EventPattern"]["detail-type"])
        for rule in _rules(two).values()
        if any(target["Arn"] == queue for target in rule["Targets"])
    }
    assert patterns["warehouse.stocktake"] == ["StockCountFailed", "StockCounted"]
    # Announcements restock's first step starts on, and both workflows' requests, retries and outcomes.
    assert patterns["workflow.controller"] == [
        "InventoryReleaseRequested",
        "RefundRequested",
        "ShipmentCancellationRequested",
        "StepRetryRequested",
        "WorkflowCompensated",
        "WorkflowCompleted",
        "WorkflowEscalated",
        "WorkflowFailed",
        "WorkflowStarted",
    ]
    assert set(patterns) == {
        "commerce.inventory",
        "commerce.payments",
        "commerce.shipping",
        "warehouse.stocktake",
        "workflow.controller",
    }


def test_the_controller_starts_each_workflows_own_machines(two: Synthesized) -> None:
    stack = two.stack
    variables = two.resources[two.logical_id(stack.controller.function)]["Properties"]["Environment"][
        "Variables"
    ]
    text = "".join(
        p if isinstance(p, str) else "<" + p["Ref"] + ">"
        for p in variables["STATE_MACHINE_ARNS"]["Fn::Join"][1]
    )
    assert json.loads(text) == {
        "order/payment": f"<{two.logical_id(stack.flows['order/payment'].state_machine)}>",
        "restock/payment": f"<{two.logical_id(stack.flows['restock/payment'].state_machine)}>",
    }
    policy = two.resources[two.logical_id(_default_policy(stack.controller.handler.role))]
    (stop,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "states:StopExecution"
    ]
    assert [r["Fn::Join"][1][-1] for r in stop["Resource"]] == [
        ":states:eu-west-1:123456789012:execution:workflowkit-test-order-payment:*",
        ":states:eu-west-1:123456789012:execution:workflowkit-test-restock-payment:*",
    ]


def test_each_refund_flow_starts_on_its_own_workflows_request(two: Synthesized) -> None:
    for workflow in ("order", "restock"):
        machine = two.logical_id(two.stack.flows[f"{workflow}/refund"].state_machine)
        patterns = [
            rule["EventPattern"]
            for rule in _rules(two).values()
            if any(t["Arn"] == {"Ref": machine} for t in rule["Targets"])
        ]
        assert patterns == [
            {
                "source": ["workflow.controller"],
                "detail-type": ["RefundRequested"],
                "detail": {"workflow": {"name": [workflow]}},
            }
        ]


def test_services_shared_by_workflows_are_deployed_once_and_new_ones_get_their_tables(
    two: Synthesized,
) -> None:
    tables = set(two.of_type("AWS::DynamoDB::Table"))
    # The order workflow's tables keep their logical IDs; the new service's table is Data/CountsTable.
    kept = {
        "DataWorkflowsTableC1EDE449",
        "DataIdempotencyTable36C198C8",
        "DataCallbacksTable30F33F09",
        "DataInventoryTable469FF9AA",
        "DataShipmentsTableD3E066E6",
        "DataPaymentsTable52B0A41C",
        "DataNotificationsTableA1FEA4C7",
    }
    assert kept < tables
    (counts,) = tables - kept
    assert counts.startswith("DataCountsTable")
    assert two.resources[counts]["Properties"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sku", "KeyType": "RANGE"},
    ]
    outputs = two.template.to_json()["Outputs"]
    assert outputs["CountsTableName"]["Value"] == {"Ref": counts}
    assert {
        "OrderPaymentStateMachineArn",
        "RestockPaymentStateMachineArn",
        "RestockRefundStateMachineArn",
    } <= set(outputs)
    stocktake = next(
        r
        for r in two.of_type("AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "stocktake.handler.lambda_handler"
    )
    assert stocktake["Properties"]["Environment"]["Variables"]["COUNTS_TABLE_NAME"] == {"Ref": counts}


def test_the_front_door_and_clients_may_start_both_workflows(two: Synthesized) -> None:
    stack = two.stack
    policy = two.resources[two.logical_id(_default_policy(stack.front_door.role))]
    puts = {
        (
            tuple(s["Condition"]["ForAllValues:StringEquals"]["events:source"]),
            tuple(s["Condition"]["ForAllValues:StringEquals"]["events:detail-type"]),
        )
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "events:PutEvents"
    }
    assert puts == {
        (("commerce.orders",), ("OrderSubmitted",)),
        (("warehouse.restock",), ("RestockRequested",)),
        (("workflow.operator",), ("OperatorCommandIssued",)),
    }
    client = two.resources[two.logical_id(stack.api.client_policy)]["Properties"]["PolicyDocument"]
    (statement,) = client["Statement"]
    assert [r["Fn::Join"][1][-1] for r in statement["Resource"]] == [
        "/$default/POST/start/order",
        "/$default/POST/start/restock",
        "/$default/GET/workflows/*",
    ]


def test_each_workflow_has_its_dashboard_row(two: Synthesized) -> None:
    (dashboard,) = two.of_type("AWS::CloudWatch::Dashboard").values()
    body = "".join(p for p in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1] if isinstance(p, str))
    for workflow in ("order", "restock"):
        assert f'"title":"{workflow}: state machine executions"' in body
        assert f'"title":"{workflow}: rule deliveries failed (to target / to DLQ)"' in body


# --- versions of one workflow: the plan alone (no synthesis) ---------------------------------------------
def test_versions_that_want_different_events_get_rules_that_match_the_version() -> None:
    # Version 2 ships nothing (no shipping step) and tells people only about completed workflows.
    v2 = dataclasses.replace(
        ORDER_WORKFLOW,
        version=2,
        steps=(PAYMENT, INVENTORY),
        listeners={"notification": (WORKFLOW_COMPLETED,)},
    )
    planned = plan(Registry([ORDER_WORKFLOW, v2]), stage=STAGE)

    def patterns(subscriptions: Any) -> dict[str, tuple[str, tuple[str, ...], dict[str, Any]]]:
        return {s.name: (s.source, s.detail_types, dict(s.detail)) for s in subscriptions}

    both = {"workflow": {"name": ["order"]}}
    v1 = {"workflow": {"name": ["order"], "version": [1]}}
    assert patterns(planned.consumers["shipping"].subscriptions) == {
        "OrderV1CommerceInventoryRule": ("commerce.inventory", ("InventoryReserved",), v1),
        "OrderV1WorkflowControllerRule": ("workflow.controller", ("ShipmentCancellationRequested",), v1),
        "OrderV1StepRetryRequestedRule": (
            "workflow.controller",
            ("StepRetryRequested",),
            {**v1, "data": {"step": ["shipping"]}},
        ),
    }
    assert patterns(planned.consumers["notification"].subscriptions) == {
        "OrderWorkflowControllerRule": ("workflow.controller", ("WorkflowCompleted",), both),
        "OrderV1WorkflowControllerRule": (
            "workflow.controller",
            ("WorkflowCompensated", "WorkflowFailed", "WorkflowEscalated"),
            v1,
        ),
    }
    assert patterns(planned.consumers["inventory"].subscriptions) == {
        "OrderCommercePaymentsRule": ("commerce.payments", ("PaymentProcessed",), both),
        "OrderWorkflowControllerRule": ("workflow.controller", ("InventoryReleaseRequested",), both),
        "OrderStepRetryRequestedRule": (
            "workflow.controller",
            ("StepRetryRequested",),
            {**both, "data": {"step": ["inventory"]}},
        ),
    }
    controller = patterns(planned.controller)
    assert controller["OrderV1CommerceShippingRule"] == (
        "commerce.shipping",
        ("ShippingScheduled", "ShippingFailed", "ShipmentCancelled", "ShipmentCancellationFailed"),
        v1,
    )
    assert controller["OrderStartCommerceOrdersRule"] == (
        "commerce.orders",
        ("OrderSubmitted",),
        {"workflow": {"name": [{"exists": False}]}},
    )
    assert "OrderCommerceShippingRule" not in controller


def test_a_service_that_uses_a_table_it_does_not_declare_is_refused() -> None:
    def needs(service: str) -> ServiceNeeds:
        declared = needs_of(service)
        if service != "payment":
            return declared
        return dataclasses.replace(declared, tables=())  # its task function and ASL still name "Payments"

    with pytest.raises(ValueError, match=r"service 'payment' uses tables it does not declare.*Payments"):
        plan(Registry([ORDER_WORKFLOW]), stage=STAGE, needs=needs)


def test_a_consumer_without_a_handler_is_refused() -> None:
    def needs(service: str) -> ServiceNeeds:
        declared = needs_of(service)
        return dataclasses.replace(declared, handler=None) if service == "shipping" else declared

    with pytest.raises(ValueError, match=r"service 'shipping' consumes events but .* names no handler"):
        plan(Registry([ORDER_WORKFLOW]), stage=STAGE, needs=needs)
