"""The order workflow, declared once.

Payment is orchestrated (compliance: strict order, audit trail, its own rollback); inventory and
shipping are choreographed (each team owns its consumer); the controller starts the workflow,
watches every outcome, enforces each step's deadline and compensates in reverse order.

Version 2 (new instances) adds two things; version 1 stays declared for the instances that started on it
(docs/decisions/0024): their state has no ``notify`` step, and their shipping takes no decision.

- A carrier that books by hand confirms or declines through the callback route
  (``POST /workflows/{id}/steps/shipping/complete|reject``, the ``carrier-desk`` approvers); shipping
  hears the decision as ``StepDecided`` and reports the step's outcome itself. Unconfirmed at 24 h, the
  booking fails like any missed deadline (compensated).
- ``notify`` tells the customer the order is confirmed once it is paid, beside inventory and shipping: it
  gates nothing (``required=False``), so a notice that cannot be sent never fails an order.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from order_workflow.confirmation import CarrierConfirmation
from order_workflow.events import EVENT_TYPES
from workflow_core import lifecycle
from workflow_core.definition import (
    Callback,
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

# Who may confirm or decline a manual booking: the stack's approver policy for this group grants the
# callback routes of the steps it decides (and nothing else).
CARRIER_DESK = "carrier-desk"

SHIPPING_DECIDED = dataclasses.replace(
    SHIPPING, callback=Callback(approvers=CARRIER_DESK, details=CarrierConfirmation)
)

NOTIFY = Step(
    name="notify",
    runner=consumer("notification"),
    after=(PAYMENT.name,),
    completed_by="OrderConfirmationSent",
    failed_by="OrderConfirmationFailed",
    # A notice goes out in seconds; past this the workflow stops waiting for it (and records it).
    deadline=timedelta(minutes=5),
    required=False,
)

ORDER_WORKFLOW_V2 = dataclasses.replace(
    ORDER_WORKFLOW,
    version=2,
    description="An e-commerce order: pay, then tell the customer while stock is reserved and the order "
    "shipped (a carrier desk confirms manual bookings); undo in reverse when a step fails.",
    steps=(PAYMENT, INVENTORY, SHIPPING_DECIDED, NOTIFY),
)
