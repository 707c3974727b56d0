"""The order workflow, declared once.

Payment is orchestrated (compliance: strict order, audit trail, its own rollback); inventory and
shipping are choreographed (each team owns its consumer); the controller starts the workflow,
watches every outcome, enforces each step's deadline and compensates in reverse order.
"""

from __future__ import annotations

from datetime import timedelta

from order_workflow.events import EVENT_TYPES
from workflow_core import lifecycle
from workflow_core.definition import (
    Compensation,
    Step,
    WorkflowDefinition,
    consumer,
    state_machine,
)

PAYMENT = Step(
    name="payment",
    runner=state_machine("payment"),
    started_by="WorkflowStarted",
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
)

INVENTORY = Step(
    name="inventory",
    runner=consumer("inventory"),
    started_by="PaymentProcessed",
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
)

SHIPPING = Step(
    name="shipping",
    runner=consumer("shipping"),
    started_by="InventoryReserved",
    completed_by="ShippingScheduled",
    failed_by="ShippingFailed",
    # Carriers confirm a booking within a business day: the 24-hour SLA of the brief.
    deadline=timedelta(hours=24),
    compensation=Compensation(
        request="ShipmentCancellationRequested",
        completed_by="ShipmentCancelled",
        failed_by="ShipmentCancellationFailed",
        runner=consumer("shipping"),
        deadline=timedelta(minutes=30),
    ),
)

ORDER_WORKFLOW = WorkflowDefinition(
    name="order",
    version=1,
    description="An e-commerce order: pay, reserve stock, ship; undo in reverse when a step fails.",
    start_event="OrderSubmitted",
    subject_id="order_id",
    steps=(PAYMENT, INVENTORY, SHIPPING),
    events=EVENT_TYPES,
    # The notification service tells the customer how the order ended (and when people look at it).
    listeners={
        "notification": (*lifecycle.OUTCOME_EVENTS, lifecycle.WORKFLOW_ESCALATED),
    },
)
