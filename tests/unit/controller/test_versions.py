"""Versioned declarations: an instance finishes on the version it started with; new ones start on the newest.

The controller runs against DynamoDB (moto) as deployed; "deploying v2" is what a deployment does to the
controller: the same table, a new registry (v1 still listed, because v1 instances are still running).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import Field

from controller.actions import Action, PublishEvent, ScheduleDeadline
from controller.service import Controller
from controller.store import WorkflowStore
from order_workflow import INVENTORY, ORDER_WORKFLOW, PAYMENT, SHIPPING
from order_workflow import events as ev
from tests.factories import T0, domain_event, order, order_context
from workflow_core.catalog import EventType
from workflow_core.definition import Step, consumer
from workflow_core.envelope import ContractModel, WorkflowContext
from workflow_core.errors import InvalidEventError, UnknownWorkflowError, WorkflowNotFoundError
from workflow_core.lifecycle import StepDeadlineReached
from workflow_core.registry import Registry
from workflow_core.workflow_status import load_status

REGION = "us-east-1"
TABLE = "workflows"


class InvoiceIssued(ContractModel):
    invoice_id: str = Field(min_length=1)


class InvoiceFailed(ContractModel):
    reason: str


INVOICING = Step(
    name="invoicing",
    runner=consumer("invoicing"),
    started_by="ShippingScheduled",
    completed_by="InvoiceIssued",
    failed_by="InvoiceFailed",
    deadline=timedelta(hours=1),
    needs=("payment",),
)
# v2: one step added after shipping, and shipping's deadline doubled.
ORDER_V2 = dataclasses.replace(
    ORDER_WORKFLOW,
    version=2,
    steps=(PAYMENT, INVENTORY, dataclasses.replace(SHIPPING, deadline=timedelta(hours=48)), INVOICING),
    events=(
        *ORDER_WORKFLOW.events,
        EventType("InvoiceIssued", "commerce.invoicing", {1: InvoiceIssued}),
        EventType("InvoiceFailed", "commerce.invoicing", {1: InvoiceFailed}),
    ),
)


class RecordingEffects:
    """Effects that only remember what the controller asked for (the decisions are under test)."""

    def __init__(self) -> None:
        self.actions: list[Action] = []

    def perform(self, actions: Sequence[Action]) -> None:
        self.actions.extend(actions)

    def deadlines(self, step: str) -> list[str]:
        return [
            a.at for a in self.actions if isinstance(a, ScheduleDeadline) and f"-{step}-s" in a.schedule_name
        ]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield boto3.resource("dynamodb", region_name=REGION).Table(TABLE)


def deployed(effects: RecordingEffects, *definitions: Any) -> Controller:
    client = boto3.client("dynamodb", region_name=REGION)
    return Controller(
        store=WorkflowStore(table_name=TABLE, client=client),
        effects=effects,  # type: ignore[arg-type]
        registry=Registry(definitions),
        now=lambda: T0,
    )


def submitted(order_id: str) -> Any:
    data = ev.OrderSubmitted.model_validate(order(order_id).model_dump())
    return domain_event("OrderSubmitted", data, event_id=f"sub-{order_id}", correlation_id=order_id)


def step_events(order_id: str, version: int) -> list[Any]:
    context = _context(order_id, version)
    made = [
        (
            "PaymentProcessed",
            ev.PaymentProcessed(order_id=order_id, payment_id="p", amount_minor=1, currency="EUR"),
        ),
        ("InventoryReserved", ev.InventoryReserved(order_id=order_id, reservation_id="r")),
        (
            "ShippingScheduled",
            ev.ShippingScheduled(order_id=order_id, shipment_id="s", carrier="DHL", estimated_delivery=T0),
        ),
    ]
    return [
        domain_event(name, data, event_id=f"{name}-{order_id}", correlation_id=order_id, workflow=context)
        for name, data in made
    ]


def _context(order_id: str, version: int) -> WorkflowContext:
    return order_context(order_id).model_copy(update={"version": version})


def test_v1_instances_finish_on_v1_while_new_ones_run_v2(table: Any) -> None:
    effects = RecordingEffects()
    # GIVEN an instance started while only v1 was deployed
    deployed(effects, ORDER_WORKFLOW).handle(submitted("o-old"))
    # WHEN v2 is deployed (v1 still listed: its instances still run) and a new instance starts
    controller = deployed(effects, ORDER_WORKFLOW, ORDER_V2)
    controller.handle(submitted("o-new"))
    for event in step_events("o-old", 1) + step_events("o-new", 2):
        controller.handle(event)
    old = load_status(table, "o-old")
    new = load_status(table, "o-new")
    assert old is not None
    assert new is not None
    # THEN the v1 instance completed with v1's three steps, after shipping
    assert (old["definitionVersion"], old["status"], list(old["steps"])) == (
        1,
        "COMPLETED",
        ["payment", "inventory", "shipping"],
    )
    # AND the new instance runs v2: shipping is done, the added step is running, nothing is complete yet
    assert (new["definitionVersion"], new["status"]) == (2, "RUNNING")
    assert {name: step["status"] for name, step in new["steps"].items()} == {
        "payment": "COMPLETED",
        "inventory": "COMPLETED",
        "shipping": "COMPLETED",
        "invoicing": "RUNNING",
    }
    # AND each instance's shipping deadline is its own version's: 24 h for v1, 48 h for v2
    assert effects.deadlines("shipping") == [
        (T0 + timedelta(hours=24)).isoformat(),
        (T0 + timedelta(hours=48)).isoformat(),
    ]
    # AND what the controller announced for each instance names the version it runs
    started = [
        a.detail
        for a in effects.actions
        if isinstance(a, PublishEvent) and a.detail_type == "WorkflowStarted"
    ]
    assert [(d["data"]["workflowId"], d["workflow"]["version"]) for d in started] == [
        ("o-old", 1),
        ("o-new", 2),
    ]
    # AND the instance keeps payment's output, which the added step declared it needs
    assert new["steps"]["payment"]["output"] == {
        "orderId": "o-new",
        "paymentId": "p",
        "amountMinor": 1,
        "currency": "EUR",
    }


def test_the_v2_instance_completes_when_its_added_step_completes(table: Any) -> None:
    effects = RecordingEffects()
    controller = deployed(effects, ORDER_WORKFLOW, ORDER_V2)
    controller.handle(submitted("o-2"))
    for event in step_events("o-2", 2):
        controller.handle(event)
    issued = domain_event(
        "InvoiceIssued",
        InvoiceIssued(invoice_id="inv-1"),
        event_id="inv-o-2",
        correlation_id="o-2",
        workflow=_context("o-2", 2),
        catalog=ORDER_V2.catalog,
    )
    controller.handle(issued)
    status = load_status(table, "o-2")
    assert status is not None
    assert (status["status"], status["definitionVersion"]) == ("COMPLETED", 2)


def test_removing_a_version_that_still_has_instances_fails_loudly(table: Any) -> None:
    effects = RecordingEffects()
    deployed(effects, ORDER_WORKFLOW).handle(submitted("o-1"))
    # WHEN v1 is dropped from the registry while o-1 still runs on it
    controller = deployed(effects, ORDER_V2)
    # THEN its next event is refused as an unknown workflow version (a typed, dead-lettered error)
    with pytest.raises(UnknownWorkflowError, match="v1 is not deployed"):
        controller.handle(step_events("o-1", 1)[0])


def test_an_event_whose_context_names_another_workflow_is_refused(table: Any) -> None:
    effects = RecordingEffects()
    controller = deployed(effects, ORDER_WORKFLOW)
    controller.handle(submitted("o-9"))
    stray = step_events("o-9", 1)[0]
    foreign = dataclasses.replace(stray, workflow=stray.workflow.model_copy(update={"name": "billing"}))
    # an event produced or routed for another workflow never changes this instance (dead-lettered, typed)
    with pytest.raises(InvalidEventError, match="is for a billing workflow; o-9 is a order workflow"):
        controller.handle(foreign)
    status = load_status(table, "o-9")
    assert status is not None
    assert status["steps"]["payment"]["status"] == "RUNNING"


def test_a_start_type_event_inside_a_workflow_starts_nothing(table: Any) -> None:
    effects = RecordingEffects()
    controller = deployed(effects, ORDER_WORKFLOW)
    inside = dataclasses.replace(submitted("o-10"), workflow=_context("o-10", 1))
    # it carries a workflow context: it belongs to an instance (none here), it does not create one
    with pytest.raises(WorkflowNotFoundError):
        controller.handle(inside)
    assert load_status(table, "o-10") is None


def test_a_context_less_deadline_from_before_the_context_is_decided_by_the_instance(table: Any) -> None:
    # Schedules created before 0022 put StepDeadlineReached without a workflow context: still decided.
    effects = RecordingEffects()
    controller = deployed(effects, ORDER_WORKFLOW)
    controller.handle(submitted("o-11"))
    deadline = domain_event(
        "StepDeadlineReached",
        StepDeadlineReached(workflow_id="o-11", step="payment", phase="step", attempt=1, deadline=T0),
        event_id="deadline-old",
        correlation_id="o-11",
        workflow=None,
    )
    controller.handle(deadline)
    status = load_status(table, "o-11")
    assert status is not None
    # the payment may have charged: its undo is requested, in the instance's own context
    assert (status["status"], status["steps"]["payment"]["status"]) == ("COMPENSATING", "COMPENSATING")
    (refund,) = [
        a for a in effects.actions if isinstance(a, PublishEvent) and a.detail_type == "RefundRequested"
    ]
    assert refund.detail["workflow"]["subject"]["orderId"] == "o-11"


def test_a_workflow_recorded_before_versions_and_subjects_reads_and_runs_on(table: Any) -> None:
    # GIVEN a projection as the controller wrote it before decision 0022: no definitionVersion, and the
    # subject under the workflow's own field name (here "order"); its deadline schedules carry no context
    legacy = {
        "workflowId": "o-old",
        "workflowType": "order",
        "status": "RUNNING",
        "version": 1,
        "createdAt": T0.isoformat(),
        "updatedAt": T0.isoformat(),
        "order": order("o-old").to_wire(),
        "steps": {
            "payment": {"status": "RUNNING", "attempt": 1, "startedAt": T0.isoformat()},
            "inventory": {"status": "PENDING"},
            "shipping": {"status": "PENDING"},
        },
        "compensationQueue": [],
        "compensatedSteps": [],
        "announced": [],
    }
    table.put_item(
        Item={
            "pk": "WF#o-old",
            "sk": "STATE",
            "version": 1,
            "status": "RUNNING",
            "document": json.dumps(legacy),
        }
    )
    # THEN the status API reads it, on version 1, with its subject
    status = load_status(table, "o-old")
    assert status is not None
    assert (status["definitionVersion"], status["subject"]["orderId"]) == (1, "o-old")
    # AND the controller runs it on: its old deadline times the payment out and the undo is requested
    effects = RecordingEffects()
    deadline = domain_event(
        "StepDeadlineReached",
        StepDeadlineReached(workflow_id="o-old", step="payment", phase="step", attempt=1, deadline=T0),
        event_id="deadline-before-0022",
        correlation_id="o-old",
        workflow=None,
    )
    deployed(effects, ORDER_WORKFLOW).handle(deadline)
    after = load_status(table, "o-old")
    assert after is not None
    assert (after["status"], after["definitionVersion"]) == ("COMPENSATING", 1)
    (refund,) = [
        a for a in effects.actions if isinstance(a, PublishEvent) and a.detail_type == "RefundRequested"
    ]
    assert refund.detail["data"]["orderId"] == "o-old"
