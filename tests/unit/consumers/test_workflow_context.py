"""The workflow context: how a step gets the subject and earlier outputs without its neighbours' help."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from order_workflow import ORDER_WORKFLOW
from order_workflow import events as ev
from tests.factories import domain_event, order, order_context
from workflow_core.catalog import EventType
from workflow_core.consumer import carried_context, outcome_event, step_trigger
from workflow_core.definition import Step, WorkflowDefinition, consumer
from workflow_core.errors import InvalidEventError, MalformedEventError, UnknownWorkflowError
from workflow_core.lifecycle import StepRetryRequested
from workflow_core.registry import Registry

PAID = ev.PaymentProcessed(order_id="o-1001", payment_id="pay_1", amount_minor=3300, currency="EUR")


def payment_processed(**kwargs: Any) -> Any:
    return domain_event("PaymentProcessed", PAID, event_id="evt-paid", **kwargs)


def test_a_steps_completion_joins_the_outputs_the_next_events_carry() -> None:
    # GIVEN payment's completion, in the order workflow's context
    cause = payment_processed()
    # WHEN inventory answers it
    reserved = ev.InventoryReserved(order_id="o-1001", reservation_id="res_o-1001")
    published = outcome_event(cause, "InventoryReserved", reserved, producer="inventory")
    # THEN the answer carries the subject and payment's output, though neither event's data names them
    assert published.detail()["workflow"] == {
        "name": "order",
        "version": 1,
        "subject": order().to_wire(),
        "outputs": {"payment": PAID.to_wire()},
    }
    assert "order" not in published.detail()["data"]


def test_an_event_that_completes_no_step_passes_the_context_on_unchanged() -> None:
    context = order_context(outputs={"payment": PAID.to_wire()})
    request = ev.InventoryReleaseRequested(order_id="o-1001", reason="x")
    event = domain_event("InventoryReleaseRequested", request, event_id="e", workflow=context)
    assert carried_context(event) == context


def test_the_trigger_gives_the_subject_typed_by_the_start_event_and_attempt_one() -> None:
    trigger = step_trigger(payment_processed(), "inventory")
    assert isinstance(trigger.subject, ev.OrderSubmitted)
    assert trigger.subject.order_id == "o-1001"
    assert trigger.attempt == 1
    assert trigger.output("payment") == PAID.to_wire()
    assert (trigger.definition, trigger.step.name) == (ORDER_WORKFLOW, "inventory")


def test_a_retry_starts_the_attempt_it_names_for_its_own_step_only() -> None:
    retry = domain_event(
        "StepRetryRequested",
        StepRetryRequested(workflow_id="o-1001", step="inventory", attempt=3),
        event_id="r",
    )
    assert step_trigger(retry, "inventory").attempt == 3
    with pytest.raises(InvalidEventError, match="runs step 'shipping', not 'inventory'"):
        step_trigger(retry, "shipping")


def test_an_event_outside_any_workflow_starts_no_step() -> None:
    with pytest.raises(InvalidEventError, match="carries no workflow context"):
        step_trigger(payment_processed(workflow=None), "inventory")


def test_an_event_that_does_not_start_the_step_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="does not start step 'shipping'"):
        step_trigger(payment_processed(), "shipping")


def test_a_context_of_a_version_that_is_not_deployed_is_refused() -> None:
    context = order_context().model_copy(update={"version": 7})
    with pytest.raises(UnknownWorkflowError, match="v7 is not deployed"):
        step_trigger(payment_processed(workflow=context), "inventory")


def test_a_subject_that_breaks_the_start_events_contract_is_malformed() -> None:
    context = order_context().model_copy(update={"subject": {"orderId": "o-1001"}})
    with pytest.raises(MalformedEventError, match="invalid workflow subject"):
        step_trigger(payment_processed(workflow=context), "inventory")


def test_a_step_that_needs_an_output_the_event_lacks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a declaration where shipping needs inventory's output, and a trigger without it
    needy = _order_with(needs={"shipping": ("payment", "inventory")})
    monkeypatch.setattr("workflow_core.consumer.deployed", lambda: Registry([needy]))
    reserved = ev.InventoryReserved(order_id="o-1001", reservation_id="r")
    context = order_context(outputs={"payment": PAID.to_wire()})
    # WHEN the trigger (InventoryReserved) completes inventory, its output joins: nothing is missing
    event = domain_event("InventoryReserved", reserved, event_id="e", workflow=context)
    assert step_trigger(event, "shipping").output("inventory") == reserved.to_wire()
    # BUT a retry from a context without payment's output is refused
    retry = domain_event(
        "StepRetryRequested",
        StepRetryRequested(workflow_id="o-1001", step="shipping", attempt=2),
        event_id="r",
        workflow=order_context(),
    )
    with pytest.raises(InvalidEventError, match="needs the outputs of"):
        step_trigger(retry, "shipping")


def _order_with(*, needs: dict[str, tuple[str, ...]]) -> WorkflowDefinition:
    import dataclasses  # noqa: PLC0415

    steps = tuple(dataclasses.replace(s, needs=needs.get(s.name, ())) for s in ORDER_WORKFLOW.steps)
    return dataclasses.replace(ORDER_WORKFLOW, steps=steps)


# --- declarations are checked when they are made -----------------------------------------------------------
def _one_step(**overrides: Any) -> WorkflowDefinition:
    step = Step(
        name="only",
        runner=consumer("inventory"),
        started_by="WorkflowStarted",
        completed_by="InventoryReserved",
        failed_by="InventoryReservationFailed",
        deadline=timedelta(minutes=1),
    )
    fields: dict[str, Any] = {
        "name": "tiny",
        "version": 1,
        "start_event": "OrderSubmitted",
        "subject_id": "order_id",
        "steps": (step,),
        "events": ORDER_WORKFLOW.events,
    }
    return WorkflowDefinition(**(fields | overrides))


def test_a_declaration_needing_a_later_step_is_refused() -> None:
    step = ORDER_WORKFLOW.steps[0]
    import dataclasses  # noqa: PLC0415

    with pytest.raises(ValueError, match="not steps it comes after"):
        _one_step(steps=(dataclasses.replace(step, needs=("shipping",)),))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Order Flow"}, "must match"),
        ({"version": 0}, "version must be >= 1"),
        ({"subject_id": "ticket_id"}, "has no field 'ticket_id'"),
        ({"start_event": "WorkflowStarted"}, "is the kit's, not a start event"),
        ({"events": ()}, "no schema is registered"),
        ({"listeners": {"notification": ("PaymentProcessed",)}}, "not workflow announcements"),
    ],
)
def test_a_bad_declaration_is_refused_with_the_reason(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        _one_step(**overrides)


def test_two_workflows_cannot_share_a_start_event_and_a_version_cannot_repeat() -> None:
    with pytest.raises(ValueError, match="one start event per workflow"):
        Registry([ORDER_WORKFLOW, _one_step()])
    with pytest.raises(ValueError, match="declared twice"):
        Registry([ORDER_WORKFLOW, ORDER_WORKFLOW])


def test_one_detail_type_cannot_have_two_definitions() -> None:
    other = EventType("PaymentProcessed", "elsewhere.payments", {1: ev.PaymentProcessed})
    with pytest.raises(ValueError, match="declared twice, differently"):
        _one_step(events=(*ORDER_WORKFLOW.events, other)).catalog  # noqa: B018 - building it is the check


def _step(**overrides: Any) -> Step:
    fields: dict[str, Any] = {
        "name": "only",
        "runner": consumer("inventory"),
        "started_by": "WorkflowStarted",
        "completed_by": "InventoryReserved",
        "failed_by": "InventoryReservationFailed",
        "deadline": timedelta(minutes=1),
    }
    return Step(**(fields | overrides))


class _NeedsPayment(ev.CompensationRequest):
    payment_id: str  # only payment's output has it: the controller cannot fill it from the subject


@pytest.mark.parametrize(
    ("step", "message"),
    [
        # a trigger the controller never receives: the step would stay pending forever
        (_step(started_by="OrderSubmitted"), "a step starts on WorkflowStarted or an earlier step's"),
        (_step(started_by="ShippingScheduled"), "a step starts on WorkflowStarted or an earlier step's"),
        # schedule and execution names keep 12 characters of a step's name
        (_step(name="inventory-reserve"), "must match"),
    ],
)
def test_a_step_the_controller_could_not_run_is_refused(step: Step, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _one_step(steps=(step,))


def test_an_undo_request_the_controller_could_not_build_is_refused() -> None:
    import dataclasses  # noqa: PLC0415

    from workflow_core.definition import Compensation  # noqa: PLC0415

    undo = Compensation(
        request="NeedsPayment",
        completed_by="InventoryReleased",
        failed_by="InventoryReleaseFailed",
        runner=consumer("inventory"),
        deadline=timedelta(minutes=1),
    )
    events = (*ORDER_WORKFLOW.events, EventType("NeedsPayment", "workflow.controller", {1: _NeedsPayment}))
    with pytest.raises(ValueError, match=r"requires \['payment_id'\], which are not fields of the subject"):
        _one_step(steps=(_step(compensation=undo),), events=events)
    # a request that is no CompensationRequest at all is refused too
    plain = dataclasses.replace(undo, request="InventoryReserved")
    with pytest.raises(ValueError, match=r"must be a lifecycle\.CompensationRequest"):
        _one_step(steps=(_step(compensation=plain),))


def test_a_workflow_cannot_start_on_another_workflows_event() -> None:
    # "start tracking when shipping is scheduled": ShippingScheduled carries the order's context, so the
    # controller could not tell the order's completion from tracking's start; refused at declaration.
    tracking = _one_step(name="tracking", start_event="ShippingScheduled", subject_id="order_id")
    with pytest.raises(ValueError, match="starts on an event from outside any workflow"):
        Registry([ORDER_WORKFLOW, tracking])


def test_the_versions_of_a_workflow_start_on_one_event() -> None:
    import dataclasses  # noqa: PLC0415

    v2 = dataclasses.replace(ORDER_WORKFLOW, version=2, start_event="PaymentProcessed", subject_id="order_id")
    with pytest.raises(ValueError, match="start on different events"):
        Registry([ORDER_WORKFLOW, v2])
