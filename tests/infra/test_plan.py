"""The plan refuses what would deploy but be wrong, naming who is at fault, and grants exactly what is
published. No synthesis: the plan is pure data (infra/plan.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

import pytest
from pydantic import Field

from infra.constructs.naming import LIMITS
from infra.plan import plan
from order_workflow import ORDER_WORKFLOW
from order_workflow.declaration import PAYMENT
from tests.infra.conftest import STAGE
from workflow_core import lifecycle
from workflow_core.catalog import EventType
from workflow_core.definition import Callback, Step, WorkflowDefinition, consumer, state_machine
from workflow_core.deployment import ServiceNeeds, needs_of
from workflow_core.envelope import ContractModel
from workflow_core.registry import Registry
from workflow_registry import WORKFLOWS

ORDER = Registry([ORDER_WORKFLOW])


def _claiming(service: str, *sources: str) -> Callable[[str], ServiceNeeds]:
    """A needs_of where ``service``'s own deployment.py declares ``sources`` as its extra sources."""

    def needs(name: str) -> ServiceNeeds:
        declared = needs_of(name)
        return dataclasses.replace(declared, extra_sources=sources) if name == service else declared

    return needs


# --- extra_sources: a service's own deployment.py cannot widen its PutEvents grant (M6) ------------------
@pytest.mark.parametrize("source", ["workflow.controller", "workflow.scheduler", "workflow.operator"])
def test_a_service_claiming_one_of_the_kits_sources_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match=rf"service 'notification' declares '{source}' .*the kit's"):
        plan(ORDER, stage=STAGE, needs=_claiming("notification", "commerce.notifications", source))


def test_a_service_claiming_the_source_of_another_services_outcomes_is_refused() -> None:
    # The payment flows report PaymentProcessed from commerce.payments: inventory must not be able to.
    with pytest.raises(
        ValueError,
        match=r"service 'inventory' declares 'commerce.payments' .*belong to others .*payment's outcome "
        r"PaymentFailed",
    ):
        plan(ORDER, stage=STAGE, needs=_claiming("inventory", "commerce.payments"))


def test_a_service_claiming_the_source_of_a_start_event_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"service 'shipping' declares 'commerce.orders' .*OrderSubmitted, the start event of "
        r"workflow 'order'",
    ):
        plan(ORDER, stage=STAGE, needs=_claiming("shipping", "commerce.orders"))


def test_two_services_claiming_one_source_are_refused() -> None:
    def needs(name: str) -> ServiceNeeds:
        declared = needs_of(name)
        if name == "shipping":
            return dataclasses.replace(declared, extra_sources=("commerce.notifications",))
        return declared

    refused = r"service 'notification' declares 'commerce.notifications' .*'shipping' declares it too"
    with pytest.raises(ValueError, match=refused):
        plan(ORDER, stage=STAGE, needs=needs)


def test_a_source_no_deployed_event_comes_from_is_refused() -> None:
    with pytest.raises(ValueError, match=r"service 'notification' declares 'commerce.nothing' .*no deployed"):
        plan(
            ORDER, stage=STAGE, needs=_claiming("notification", "commerce.notifications", "commerce.nothing")
        )


# A second workflow whose service reports events from the source the inventory service's outcomes come
# from: sharing a source must not let either publish the other's events.
class AuditRequested(ContractModel):
    audit_id: str = Field(min_length=1, max_length=64)


class StockAudited(ContractModel):
    audit_id: str


AUDIT = WorkflowDefinition(
    name="audit",
    version=1,
    start_event="AuditRequested",
    subject_id="audit_id",
    steps=(
        Step(
            name="count",
            runner=consumer("auditor"),
            started_by=lifecycle.WORKFLOW_STARTED,
            completed_by="StockAudited",
            failed_by="StockAuditFailed",
            deadline=timedelta(minutes=5),
        ),
    ),
    events=(
        EventType("AuditRequested", "warehouse.audits", {1: AuditRequested}),
        EventType("StockAudited", "commerce.inventory", {1: StockAudited}),
        EventType("StockAuditFailed", "commerce.inventory", {1: StockAudited}),
    ),
)


def test_a_consumer_may_publish_exactly_what_it_reports_and_its_own_sources_events() -> None:
    planned = plan(Registry([ORDER_WORKFLOW, AUDIT]), stage=STAGE)
    # Not "every detail-type of commerce.inventory": the auditor's outcomes come from it too.
    assert set(planned.consumers["inventory"].publishes) == {
        "InventoryReserved",
        "InventoryReservationFailed",
        "InventoryReleased",
        "InventoryReleaseFailed",
    }
    assert set(planned.consumers["auditor"].publishes) == {"StockAudited", "StockAuditFailed"}
    assert set(planned.consumers["shipping"].publishes) == {
        "ShippingScheduled",
        "ShippingFailed",
        "ShipmentCancelled",
        "ShipmentCancellationFailed",
    }
    # In order v1 the notifier reports no step: it publishes what its declared source carries (which holds
    # the outcomes of v2's notify step too: the versions share one catalog).
    assert planned.consumers["notification"].publishes == (
        "CustomerNotified",
        "OrderConfirmationFailed",
        "OrderConfirmationSent",
    )


def test_a_shared_outcome_source_cannot_be_claimed_whole() -> None:
    with pytest.raises(
        ValueError, match=r"service 'auditor' declares 'commerce.inventory' .*inventory's outcome"
    ):
        plan(Registry([ORDER_WORKFLOW, AUDIT]), stage=STAGE, needs=_claiming("auditor", "commerce.inventory"))


# --- physical names fit AWS's limits ----------------------------------------------------------------------
def _with_undo_machine(name: str, machine: str) -> WorkflowDefinition:
    assert PAYMENT.compensation is not None
    undo = dataclasses.replace(
        PAYMENT.compensation, runner=state_machine(machine, service=PAYMENT.compensation.runner.service)
    )
    steps = (dataclasses.replace(PAYMENT, compensation=undo), *ORDER_WORKFLOW.steps[1:])
    return dataclasses.replace(ORDER_WORKFLOW, name=name, steps=steps)


def test_a_state_machine_name_longer_than_aws_allows_is_refused_naming_the_workflow_and_machine() -> None:
    # A legal declaration: a 24-character workflow name (the most definition.py allows) and a machine named
    # after the workflow, its step and what it does, which CDK would refuse at synth with a bare length error.
    workflow = "inventory-replenishments"
    assert len(workflow) == 24
    machine = f"{workflow}-payment-refund-undo"
    name = f"workflowkit-test-{workflow}-{machine}"
    assert len(name) == 86 > LIMITS["state machine"] == 80
    registry = Registry([_with_undo_machine(workflow, machine)])
    with pytest.raises(
        ValueError,
        match=rf"workflow '{workflow}', state machine '{machine}': the state machine name '{name}' is 86 "
        r"characters; AWS allows at most 80",
    ):
        plan(registry, stage=STAGE, needs=needs_of)


def test_a_name_that_fits_is_planned() -> None:
    workflow = "inventory-replenishments"
    planned = plan(Registry([_with_undo_machine(workflow, "payment-undo")]), stage=STAGE)
    assert {flow.machine for flow in planned.flows} == {"payment", "payment-undo"}


def test_a_state_machine_name_aws_would_refuse_for_its_characters_is_refused() -> None:
    with pytest.raises(ValueError, match=r"state machine 'refund:v2'.* may only contain letters"):
        plan(Registry([_with_undo_machine("order", "refund:v2")]), stage=STAGE)


def test_a_stage_whose_names_do_not_fit_is_refused() -> None:
    stage = "s" * 40  # the archive name workflowkit-<stage> may be 48 characters
    with pytest.raises(ValueError, match=rf"stage '{stage}': the archive name .* AWS allows at most 48"):
        plan(ORDER, stage=stage)


# --- events without a workflow context ---------------------------------------------------------------------
def test_deadlines_and_commands_without_a_context_reach_the_controller_the_rest_the_unrouted_queue() -> None:
    planned = plan(ORDER, stage=STAGE)
    no_context = {"workflow": {"name": [{"exists": False}]}}
    contextless = {s.name: (s.source, s.detail_types) for s in planned.controller if s.detail == no_context}
    assert contextless == {
        "OrderStartCommerceOrdersRule": ("commerce.orders", ("OrderSubmitted",)),
        "ContextlessWorkflowOperatorRule": ("workflow.operator", ("OperatorCommandIssued",)),
        "ContextlessWorkflowSchedulerRule": ("workflow.scheduler", ("StepDeadlineReached",)),
    }
    unrouted = {s.source: set(s.detail_types) for s in planned.unrouted}
    assert all(s.detail == no_context for s in planned.unrouted)
    # Never the start event (it has no context by design), nor what the controller takes without one.
    assert set(unrouted) == {
        "commerce.payments",
        "commerce.inventory",
        "commerce.shipping",
        "workflow.controller",
    }
    assert "StepRetryRequested" in unrouted["workflow.controller"]
    assert unrouted["commerce.payments"] == {
        "PaymentProcessed",
        "PaymentFailed",
        "PaymentRefunded",
        "RefundFailed",
    }


# --- execution timeouts: an execution outlives the deadlines the controller enforces ------------------------
def test_each_deployed_machine_outlives_what_the_controller_waits_for() -> None:
    planned = plan(Registry(WORKFLOWS), stage=STAGE)
    assert {flow.key: flow.timeout for flow in planned.flows} == {
        # Payment 15 min, refund 1 h, verification 15 min: the flows' 2 hours is more than twice each.
        "order/payment": timedelta(hours=2),
        "order/refund": timedelta(hours=2),
        "onboarding/identity-verification": timedelta(hours=2),
        # The review waits for an officer past its 48-hour SLA (the deadline escalates, a late decision
        # counts): as long as a Standard execution may run. With 2 hours, it would time out before anyone
        # could decide, and the decision could never reach it.
        "onboarding/review": timedelta(days=365),
    }


class PaymentSigned(ContractModel):
    order_id: str


def _sign_off(deadline: timedelta, on_deadline: Literal["fail", "escalate"]) -> WorkflowDefinition:
    """The order workflow with a signing machine after payment: a person decides, within ``deadline``."""
    sign = Step(
        name="sign",
        runner=state_machine("signing", service="payment"),
        after=(PAYMENT.name,),
        completed_by="PaymentSigned",
        failed_by="PaymentSignRefused",
        deadline=deadline,
        callback=Callback(approvers="officers", on_deadline=on_deadline),
    )
    events = (
        EventType("PaymentSigned", "commerce.payments", {1: PaymentSigned}),
        EventType("PaymentSignRefused", "commerce.payments", {1: PaymentSigned}),
    )
    return dataclasses.replace(
        ORDER_WORKFLOW, steps=(*ORDER_WORKFLOW.steps, sign), events=(*ORDER_WORKFLOW.events, *events)
    )


def test_a_machine_whose_deadline_fails_gets_twice_its_longest_deadline() -> None:
    # A missed deadline stops the execution: twice the deadline leaves the controller all the time it needs.
    planned = plan(Registry([_sign_off(timedelta(hours=24), "fail")]), stage=STAGE)
    assert {flow.key: flow.timeout for flow in planned.flows}["order/signing"] == timedelta(hours=48)
    # An undo's deadline counts too (the refund flow's, here 3 hours).
    assert PAYMENT.compensation is not None
    slow_refund = dataclasses.replace(PAYMENT.compensation, deadline=timedelta(hours=3))
    steps = (dataclasses.replace(PAYMENT, compensation=slow_refund), *ORDER_WORKFLOW.steps[1:])
    planned = plan(Registry([dataclasses.replace(ORDER_WORKFLOW, steps=steps)]), stage=STAGE)
    assert {flow.key: flow.timeout for flow in planned.flows} == {
        "order/payment": timedelta(hours=2),
        "order/refund": timedelta(hours=6),
    }


def test_a_machine_waiting_for_a_decision_that_may_come_late_waits_as_long_as_step_functions_allows() -> None:
    planned = plan(Registry([_sign_off(timedelta(hours=1), "escalate")]), stage=STAGE)
    assert {flow.key: flow.timeout for flow in planned.flows}["order/signing"] == timedelta(days=365)
