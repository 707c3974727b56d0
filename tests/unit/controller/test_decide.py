"""The controller's decisions, event by event, without AWS: transitions, compensation order, deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from controller.actions import (
    CancelDeadline,
    Escalate,
    PublishEvent,
    ScheduleDeadline,
    StartStateMachine,
    StopStateMachine,
)
from controller.decide import METRIC_PAST_DEADLINE, Decider, Decision
from order_workflow import ORDER_WORKFLOW
from order_workflow import events as ev
from tests.factories import T0, domain_event, order
from workflow_core import lifecycle as lc
from workflow_core.catalog import DomainEvent
from workflow_core.errors import WorkflowNotFoundError
from workflow_core.publisher import derived_event_id
from workflow_core.workflow_state import StepStatus, WorkflowState, WorkflowStatus

ORDER = order()
WF = ORDER.order_id


class Flow:
    """Feeds events to the decider like the controller does, keeping the state between them."""

    def __init__(self) -> None:
        self.decider = Decider(ORDER_WORKFLOW)
        self.state: WorkflowState | None = None
        self.now = T0
        self.last: Decision | None = None
        self.counter = 0

    def feed(
        self, detail_type: str, data: Any, *, event_id: str | None = None, after: timedelta = timedelta(0)
    ) -> Decision:
        self.now += after
        self.counter += 1
        event = domain_event(detail_type, data, event_id=event_id or f"e{self.counter}", at=self.now)
        return self.feed_event(event)

    def feed_event(self, event: DomainEvent) -> Decision:
        self.last = self.decider.decide(self.state, event, self.now)
        self.state = self.last.state
        return self.last

    @property
    def status(self) -> WorkflowStatus:
        assert self.state is not None
        return self.state.status

    def step(self, name: str) -> StepStatus:
        assert self.state is not None
        return self.state.steps[name].status


def published(decision: Decision) -> list[str]:
    return [a.detail_type for a in decision.actions if isinstance(a, PublishEvent)]


def submitted() -> ev.OrderSubmitted:
    return ev.OrderSubmitted.model_validate(ORDER.model_dump())


def processed() -> ev.PaymentProcessed:
    return ev.PaymentProcessed(
        order_id=WF, payment_id="pay_1", amount_minor=ORDER.amount_minor, currency="EUR"
    )


def reserved() -> ev.InventoryReserved:
    return ev.InventoryReserved(order_id=WF, reservation_id="res_1")


def scheduled() -> ev.ShippingScheduled:
    return ev.ShippingScheduled(
        order_id=WF, shipment_id="shp_1", carrier="DHL", estimated_delivery=T0 + timedelta(days=2)
    )


def started_flow() -> Flow:
    flow = Flow()
    flow.feed("OrderSubmitted", submitted())
    return flow


def test_order_submitted_starts_the_workflow_payment_and_its_deadline() -> None:
    # GIVEN no workflow WHEN the order is submitted
    flow = Flow()
    decision = flow.feed("OrderSubmitted", submitted(), event_id="sub-1")
    # THEN the workflow runs, WorkflowStarted is published, payment starts by name with a deadline
    assert flow.status is WorkflowStatus.RUNNING
    assert published(decision) == ["WorkflowStarted"]
    start = next(a for a in decision.actions if isinstance(a, StartStateMachine))
    assert start.machine == "order/payment"
    assert start.execution_name.endswith("-payment-1")
    assert start.input["metadata"]["eventId"] == derived_event_id("sub-1", "WorkflowStarted", "order")
    assert start.input["workflow"]["subject"]["orderId"] == WF  # the subject travels in the context
    deadline = next(a for a in decision.actions if isinstance(a, ScheduleDeadline))
    assert deadline.at == (T0 + timedelta(minutes=15)).isoformat()
    assert deadline.detail["data"] == {
        "workflowId": WF,
        "step": "payment",
        "phase": "step",
        "attempt": 1,
        "deadline": deadline.detail["data"]["deadline"],
    }
    assert flow.step("payment") is StepStatus.RUNNING


def test_a_second_submission_of_the_same_order_changes_nothing() -> None:
    flow = started_flow()
    decision = flow.feed("OrderSubmitted", submitted(), event_id="sub-2")
    assert not decision.changed
    assert decision.actions == []


def test_happy_path_completes_after_shipping_is_scheduled() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    assert (flow.step("payment"), flow.step("inventory")) == (StepStatus.COMPLETED, StepStatus.RUNNING)
    flow.feed("InventoryReserved", reserved())
    decision = flow.feed("ShippingScheduled", scheduled())
    assert flow.status is WorkflowStatus.COMPLETED
    assert published(decision) == ["WorkflowCompleted"]
    assert any(isinstance(a, CancelDeadline) for a in decision.actions)


def test_payment_declined_fails_the_workflow_with_nothing_to_undo() -> None:
    flow = started_flow()
    failed = ev.PaymentFailed(order_id=WF, reason="DECLINED", message="card declined")
    decision = flow.feed("PaymentFailed", failed)
    assert flow.status is WorkflowStatus.FAILED
    assert published(decision) == ["WorkflowFailed"]


def test_out_of_stock_refunds_the_payment_then_reports_compensated() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    decision = flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("SKU-TEA",)),
    )
    assert flow.status is WorkflowStatus.COMPENSATING
    assert published(decision) == ["RefundRequested"]
    decision = flow.feed(
        "PaymentRefunded",
        ev.PaymentRefunded(order_id=WF, payment_id="pay_1", refund_id="re_1", amount_minor=3300),
    )
    assert flow.status is WorkflowStatus.COMPENSATED
    assert published(decision) == ["WorkflowCompensated"]
    assert flow.state is not None
    assert flow.state.compensated_steps == ["payment"]


def test_shipping_failure_releases_inventory_before_refunding() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    flow.feed("InventoryReserved", reserved())
    decision = flow.feed(
        "ShippingFailed", ev.ShippingFailed(order_id=WF, reason="NO_CARRIER", message="no carrier")
    )
    assert published(decision) == ["InventoryReleaseRequested"]
    decision = flow.feed(
        "InventoryReleased", ev.InventoryReleased(order_id=WF, reservation_id="res_1", released=True)
    )
    assert published(decision) == ["RefundRequested"]
    flow.feed(
        "PaymentRefunded",
        ev.PaymentRefunded(order_id=WF, payment_id="pay_1", refund_id="re_1", amount_minor=3300),
    )
    assert flow.status is WorkflowStatus.COMPENSATED
    assert flow.state is not None
    assert flow.state.compensated_steps == ["inventory", "payment"]


def test_missed_shipping_deadline_cancels_the_shipment_then_releases_then_refunds() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    flow.feed("InventoryReserved", reserved())
    deadline = T0 + timedelta(hours=24)
    decision = flow.feed(
        "StepDeadlineReached",
        lc.StepDeadlineReached(workflow_id=WF, step="shipping", phase="step", attempt=1, deadline=deadline),
        after=timedelta(hours=24),
    )
    assert flow.step("shipping") is StepStatus.COMPENSATING
    assert published(decision) == ["ShipmentCancellationRequested"]
    assert METRIC_PAST_DEADLINE in decision.metrics
    flow.feed("ShipmentCancelled", ev.ShipmentCancelled(order_id=WF, shipment_id=None, cancelled=False))
    flow.feed("InventoryReleased", ev.InventoryReleased(order_id=WF, reservation_id="res_1", released=True))
    flow.feed(
        "PaymentRefunded",
        ev.PaymentRefunded(order_id=WF, payment_id="pay_1", refund_id="re_1", amount_minor=3300),
    )
    assert flow.status is WorkflowStatus.COMPENSATED
    assert flow.state is not None
    assert flow.state.compensated_steps == ["shipping", "inventory", "payment"]


def test_a_deadline_for_a_finished_step_is_ignored() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    decision = flow.feed(
        "StepDeadlineReached",
        lc.StepDeadlineReached(workflow_id=WF, step="payment", phase="step", attempt=1, deadline=T0),
    )
    assert not decision.changed
    assert flow.status is WorkflowStatus.RUNNING


def test_failed_refund_escalates_to_needs_attention() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("X",)),
    )
    decision = flow.feed(
        "RefundFailed", ev.RefundFailed(order_id=WF, reason="REJECTED", message="issuer refused")
    )
    assert flow.status is WorkflowStatus.NEEDS_ATTENTION
    assert published(decision) == ["WorkflowEscalated"]
    assert any(isinstance(a, Escalate) for a in decision.actions)


def test_compensation_deadline_escalates() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("X",)),
    )
    flow.feed(
        "StepDeadlineReached",
        lc.StepDeadlineReached(workflow_id=WF, step="payment", phase="compensation", attempt=1, deadline=T0),
        after=timedelta(hours=1),
    )
    assert flow.status is WorkflowStatus.NEEDS_ATTENTION
    assert flow.step("payment") is StepStatus.COMPENSATION_FAILED


def test_duplicate_outcome_is_recorded_without_change() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    decision = flow.feed("PaymentProcessed", processed())
    assert not decision.changed
    assert decision.actions == []


def test_reordered_outcomes_still_complete_the_workflow() -> None:
    # GIVEN shipping's and inventory's outcomes overtake payment's
    flow = started_flow()
    flow.feed("ShippingScheduled", scheduled())
    flow.feed("InventoryReserved", reserved())
    assert flow.status is WorkflowStatus.RUNNING
    flow.feed("PaymentProcessed", processed())
    assert flow.status is WorkflowStatus.COMPLETED


def test_a_step_completing_after_compensation_is_undone_too() -> None:
    # GIVEN payment timed out and the workflow compensated (nothing to undo -> no refund yet)
    flow = started_flow()
    flow.feed(
        "StepDeadlineReached",
        lc.StepDeadlineReached(workflow_id=WF, step="payment", phase="step", attempt=1, deadline=T0),
        after=timedelta(minutes=15),
    )
    assert flow.status is WorkflowStatus.COMPENSATING  # the timed-out payment itself is refunded
    flow.feed(
        "PaymentRefunded", ev.PaymentRefunded(order_id=WF, payment_id="p", refund_id="r", amount_minor=1)
    )
    assert flow.status is WorkflowStatus.COMPENSATED
    # WHEN inventory (reacting to a late PaymentProcessed) reserves stock afterwards
    decision = flow.feed("InventoryReserved", reserved())
    # THEN the reservation is released again
    assert flow.status is WorkflowStatus.COMPENSATING
    assert published(decision) == ["InventoryReleaseRequested"]


def test_unknown_workflow_is_retryable() -> None:
    with pytest.raises(WorkflowNotFoundError):
        Flow().feed("PaymentProcessed", processed())


def test_operator_cancel_compensates_completed_and_running_steps() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    command = lc.OperatorCommandIssued(
        workflow_id=WF, command="cancel", operator="ops@example.com", reason="customer called"
    )
    decision = flow.feed("OperatorCommandIssued", command)
    assert published(decision) == ["InventoryReleaseRequested"]
    assert flow.status is WorkflowStatus.COMPENSATING


def test_operator_retry_step_reruns_a_failed_compensation_and_resume_settles_it() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("X",)),
    )
    flow.feed("RefundFailed", ev.RefundFailed(order_id=WF, reason="REJECTED", message="no"))
    retry = lc.OperatorCommandIssued(
        workflow_id=WF, command="retry-step", step="payment", operator="ops", reason="fixed card"
    )
    decision = flow.feed("OperatorCommandIssued", retry)
    assert published(decision) == ["RefundRequested"]
    assert flow.state is not None
    assert flow.state.steps["payment"].compensation_attempt == 2
    flow.feed("RefundFailed", ev.RefundFailed(order_id=WF, reason="REJECTED", message="still no"))
    resume = lc.OperatorCommandIssued(
        workflow_id=WF, command="resume", operator="ops", reason="refunded by bank transfer"
    )
    decision = flow.feed("OperatorCommandIssued", resume)
    assert flow.status is WorkflowStatus.COMPENSATED
    assert published(decision) == ["WorkflowCompensated"]


def test_operator_command_the_state_does_not_allow_is_recorded_not_applied() -> None:
    flow = started_flow()
    resume = lc.OperatorCommandIssued(workflow_id=WF, command="resume", operator="ops", reason="why not")
    decision = flow.feed("OperatorCommandIssued", resume)
    assert not decision.changed
    assert "rejected" in decision.notes[0]


def test_operator_retry_of_a_running_choreographed_step_requests_a_retry() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    retry = lc.OperatorCommandIssued(
        workflow_id=WF, command="retry-step", step="inventory", operator="ops", reason="stuck"
    )
    decision = flow.feed("OperatorCommandIssued", retry)
    assert published(decision) == ["StepRetryRequested"]
    assert flow.state is not None
    assert flow.state.steps["inventory"].attempt == 2


# --- attempts: stopping, late completions, stale outcomes -------------------------------------------------
def kinds(decision: Decision) -> list[str]:
    return [a.kind for a in decision.actions]


def refunded(attempt: int | None = None, outcome: str = "REFUNDED") -> ev.PaymentRefunded:
    return ev.PaymentRefunded(
        order_id=WF,
        payment_id="p",
        refund_id="r",
        amount_minor=0,
        outcome=outcome,
        compensation_attempt=attempt,
    )


def test_cancel_stops_the_running_payment_before_asking_for_its_undo() -> None:
    flow = started_flow()
    cancel = lc.OperatorCommandIssued(workflow_id=WF, command="cancel", operator="ops", reason="changed mind")
    decision = flow.feed("OperatorCommandIssued", cancel)
    stop = next(a for a in decision.actions if isinstance(a, StopStateMachine))
    assert stop.execution_name.endswith("-payment-1")
    # the machine it stops is the one it started: this workflow's (the effects find its ARN by this key)
    assert stop.machine == "order/payment"
    request = next(a for a in decision.actions if isinstance(a, PublishEvent))
    assert request.detail_type == "RefundRequested"
    assert request.detail["data"]["stepAttempt"] == 1
    assert request.detail["data"]["compensationAttempt"] == 1


def test_a_payment_captured_after_its_undo_found_nothing_is_refunded_again() -> None:
    # GIVEN a payment that timed out, whose undo found nothing held
    flow = started_flow()
    flow.feed(
        "StepDeadlineReached",
        lc.StepDeadlineReached(workflow_id=WF, step="payment", phase="step", attempt=1, deadline=T0),
        after=timedelta(minutes=15),
    )
    flow.feed("PaymentRefunded", refunded(1, "NOTHING_HELD"))
    assert flow.status is WorkflowStatus.COMPENSATED
    # WHEN the stopped execution's capture shows up after all
    decision = flow.feed("PaymentProcessed", processed())
    # THEN the payment is undone a second time, and only then compensated again
    assert published(decision) == ["RefundRequested"]
    assert flow.state is not None
    assert flow.state.steps["payment"].compensation_attempt == 2
    assert flow.feed("PaymentProcessed", processed()).actions == []  # the same completion again: nothing
    decision = flow.feed("PaymentRefunded", refunded(2))
    assert flow.status is WorkflowStatus.COMPENSATED
    assert flow.state is not None
    assert flow.state.compensated_steps == ["payment"]
    # The customer was told once, when the workflow first ended compensated.
    assert published(decision) == []


def test_a_completion_during_its_undo_is_undone_once_more() -> None:
    flow = started_flow()
    cancel = lc.OperatorCommandIssued(workflow_id=WF, command="cancel", operator="ops", reason="x")
    flow.feed("OperatorCommandIssued", cancel)
    flow.feed("PaymentProcessed", processed())  # arrives while the refund (attempt 1) is in flight
    decision = flow.feed("PaymentRefunded", refunded(1, "NOTHING_HELD"))
    assert published(decision) == ["RefundRequested"]
    assert flow.status is WorkflowStatus.COMPENSATING
    # the second undo request carries the late completion's output (what there is to undo)
    (again,) = [a for a in decision.actions if isinstance(a, PublishEvent)]
    assert again.detail["workflow"]["outputs"] == {"payment": processed().to_wire()}
    flow.feed("PaymentRefunded", refunded(2))
    assert flow.status is WorkflowStatus.COMPENSATED


def test_an_outcome_of_an_earlier_undo_attempt_is_ignored() -> None:
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("X",)),
    )
    flow.feed(
        "RefundFailed", ev.RefundFailed(order_id=WF, reason="REJECTED", message="no", compensation_attempt=1)
    )
    retry = lc.OperatorCommandIssued(
        workflow_id=WF, command="retry-step", step="payment", operator="ops", reason="r"
    )
    flow.feed("OperatorCommandIssued", retry)
    decision = flow.feed(
        "RefundFailed",
        ev.RefundFailed(order_id=WF, reason="REJECTED", message="late", compensation_attempt=1),
    )
    assert not decision.changed
    assert flow.status is WorkflowStatus.COMPENSATING


def test_retrying_a_running_payment_stops_the_old_attempt_and_ignores_its_failure() -> None:
    flow = started_flow()
    retry = lc.OperatorCommandIssued(
        workflow_id=WF, command="retry-step", step="payment", operator="ops", reason="stuck"
    )
    decision = flow.feed("OperatorCommandIssued", retry)
    assert kinds(decision).count("stop_execution") == 1
    start = next(a for a in decision.actions if isinstance(a, StartStateMachine))
    assert start.execution_name.endswith("-payment-2")
    # WHEN the stopped attempt 1 reports a failure caused by the original start
    assert flow.state is not None
    old_cause = "sub-1"  # attempt 1 started from the OrderSubmitted's WorkflowStarted, not attempt 2's
    stale = domain_event(
        "PaymentFailed",
        ev.PaymentFailed(order_id=WF, reason="GATEWAY_ERROR", message="stopped"),
        event_id="pf-1",
        causation_id=derived_event_id(old_cause, "WorkflowStarted", "order"),
    )
    decision = flow.feed_event(stale)
    assert not decision.changed
    assert flow.status is WorkflowStatus.RUNNING


def test_a_payment_deadline_after_the_workflow_failed_still_undoes_the_payment() -> None:
    # GIVEN inventory's failure overtook payment's success (payment still running for the controller)
    flow = started_flow()
    decision = flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("X",)),
    )
    # THEN the workflow does not claim to have failed while payment may still charge: it waits
    assert flow.status is WorkflowStatus.COMPENSATING
    assert published(decision) == []
    assert decision.notes == ["waiting for payment to finish before undoing"]
    # WHEN payment's deadline passes
    decision = flow.feed(
        "StepDeadlineReached",
        lc.StepDeadlineReached(workflow_id=WF, step="payment", phase="step", attempt=1, deadline=T0),
        after=timedelta(minutes=15),
    )
    # THEN its execution is stopped and whatever it took is given back
    assert "stop_execution" in kinds(decision)
    assert published(decision) == ["RefundRequested"]
    assert flow.status is WorkflowStatus.COMPENSATING


def test_an_orchestrated_step_after_another_starts_its_machine_with_the_outputs_so_far() -> None:
    # GIVEN a declaration where the state machine runs second, started by the first step's completion
    import dataclasses  # noqa: PLC0415

    from order_workflow import INVENTORY, PAYMENT  # noqa: PLC0415

    first = dataclasses.replace(INVENTORY, started_by="WorkflowStarted", compensation=None)
    second = dataclasses.replace(PAYMENT, started_by="InventoryReserved")
    flow = Flow()
    flow.decider = Decider(dataclasses.replace(ORDER_WORKFLOW, steps=(first, second)))
    started = flow.feed("OrderSubmitted", submitted())
    assert not [a for a in started.actions if isinstance(a, StartStateMachine)]
    # WHEN the first step completes
    reserved = ev.InventoryReserved(order_id=WF, reservation_id="res_1")
    decision = flow.feed("InventoryReserved", reserved, event_id="evt-reserved")
    # THEN the machine starts once, with a start announcement whose context holds the first step's output
    (start,) = [a for a in decision.actions if isinstance(a, StartStateMachine)]
    assert start.machine == "order/payment"
    assert start.input["data"] == {"workflowId": WF, "workflowType": "order", "version": 1}
    assert start.input["workflow"]["outputs"] == {"inventory": reserved.to_wire()}
    assert start.input["metadata"]["causationId"] == "evt-reserved"
    # AND it is not published: the step's state machine is its only reader
    assert "WorkflowStarted" not in published(decision)
    assert flow.step("payment") is StepStatus.RUNNING


def test_a_failure_that_overtakes_an_earlier_completion_still_undoes_latest_first() -> None:
    # GIVEN payment done and inventory running; shipping heard InventoryReserved and failed at once, and
    # its failure reached the controller before InventoryReserved did
    flow = started_flow()
    flow.feed("PaymentProcessed", processed())
    failed = flow.feed(
        "ShippingFailed", ev.ShippingFailed(order_id=WF, reason="NO_CARRIER", message="none to AQ")
    )
    # THEN nothing is undone yet: inventory may have reserved stock (its completion is in flight)
    assert published(failed) == []
    assert flow.status is WorkflowStatus.COMPENSATING
    # WHEN inventory's completion arrives
    late = flow.feed("InventoryReserved", ev.InventoryReserved(order_id=WF, reservation_id="res_1"))
    # THEN inventory is undone first, then payment: the reverse of how they completed
    assert published(late) == ["InventoryReleaseRequested"]
    flow.feed("InventoryReleased", ev.InventoryReleased(order_id=WF, reservation_id="res_1", released=True))
    assert flow.state is not None
    flow.feed("PaymentRefunded", refunded(1))
    assert flow.state.compensated_steps == ["inventory", "payment"]
    assert flow.status is WorkflowStatus.COMPENSATED


def test_a_failure_while_an_earlier_step_runs_fails_the_workflow_once_that_step_fails_too() -> None:
    flow = started_flow()  # payment running
    flow.feed(
        "InventoryReservationFailed",
        ev.InventoryReservationFailed(order_id=WF, reason="OUT_OF_STOCK", skus=("X",)),
    )
    decision = flow.feed("PaymentFailed", ev.PaymentFailed(order_id=WF, reason="DECLINED", message="no"))
    # nothing completed, so nothing to undo: the workflow failed, and says so once
    assert published(decision) == ["WorkflowFailed"]
    assert flow.status is WorkflowStatus.FAILED


def test_a_failure_that_overtakes_two_earlier_completions_still_undoes_latest_first() -> None:
    # GIVEN inventory heard PaymentProcessed and reserved, shipping heard InventoryReserved and failed at
    # once, and the failure reached the controller before either completion did (found by the chaos
    # profile: deliveries to the controller's queue held back)
    flow = started_flow()
    failed = flow.feed(
        "ShippingFailed", ev.ShippingFailed(order_id=WF, reason="NO_CARRIER", message="none to AQ")
    )
    # THEN nothing is undone yet: inventory, which shipping came after, is awaited like a running step,
    # its deadline bounding the wait
    assert published(failed) == []
    assert flow.step("inventory") is StepStatus.RUNNING
    assert any(isinstance(a, ScheduleDeadline) and "inventory" in a.schedule_name for a in failed.actions)
    # WHEN payment's completion arrives, then inventory's
    assert published(flow.feed("PaymentProcessed", processed())) == []
    late = flow.feed("InventoryReserved", ev.InventoryReserved(order_id=WF, reservation_id="res_1"))
    # THEN inventory is undone first, then payment: the reverse of how they completed
    assert published(late) == ["InventoryReleaseRequested"]
    flow.feed("InventoryReleased", ev.InventoryReleased(order_id=WF, reservation_id="res_1", released=True))
    flow.feed("PaymentRefunded", refunded(1))
    assert flow.state is not None
    assert flow.state.compensated_steps == ["inventory", "payment"]
    assert flow.status is WorkflowStatus.COMPENSATED


def test_an_awaited_step_whose_outcome_never_comes_is_given_up_at_its_deadline_and_undone() -> None:
    flow = started_flow()
    flow.feed("ShippingFailed", ev.ShippingFailed(order_id=WF, reason="NO_CARRIER", message="none to AQ"))
    flow.feed("PaymentProcessed", processed())
    data = lc.StepDeadlineReached(
        workflow_id=WF, step="inventory", phase="step", attempt=1, deadline=flow.now + timedelta(minutes=10)
    )
    decision = flow.feed(lc.STEP_DEADLINE_REACHED, data, after=timedelta(minutes=10))
    assert published(decision) == ["InventoryReleaseRequested"]
