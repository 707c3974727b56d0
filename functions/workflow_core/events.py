"""Data models of every event, one class per event and schema version.

Money is in minor units (cents) as integers: no float ever touches an amount.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from workflow_core.envelope import ContractModel

OrderId = str
Sku = str


# --- shared value objects -------------------------------------------------------------------------
class OrderLine(ContractModel):
    sku: Sku = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    unit_price_minor: int = Field(ge=0)


class Address(ContractModel):
    line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Order(ContractModel):
    order_id: OrderId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    customer_id: str = Field(min_length=1, max_length=64)
    items: tuple[OrderLine, ...] = Field(min_length=1, max_length=50)
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payment_token: str = Field(min_length=1, max_length=100)
    shipping_address: Address


# --- the front door ---------------------------------------------------------------------------------
class OrderSubmittedV1(ContractModel):
    """Version 1 carried the amount as a decimal string ("12.34"); upcast to version 2 at the edge."""

    order_id: OrderId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    customer_id: str = Field(min_length=1, max_length=64)
    items: tuple[OrderLine, ...] = Field(min_length=1, max_length=50)
    amount: Decimal = Field(ge=0, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payment_token: str = Field(min_length=1, max_length=100)
    shipping_address: Address


class OrderSubmitted(Order):
    """Version 2: the order itself, amount in minor units."""


# --- controller -------------------------------------------------------------------------------------
class WorkflowStarted(ContractModel):
    workflow_id: str
    workflow_type: str
    order: Order


class WorkflowOutcome(ContractModel):
    """Completed, compensated, failed: the workflow's end and why."""

    workflow_id: str
    order_id: OrderId
    customer_id: str
    status: str
    reason: str | None = None
    compensated_steps: tuple[str, ...] = ()


class WorkflowEscalated(ContractModel):
    workflow_id: str
    order_id: OrderId
    customer_id: str
    reason: str
    failed_step: str | None = None


class StepDeadlineReached(ContractModel):
    workflow_id: str
    step: str
    phase: Literal["step", "compensation"]
    attempt: int = Field(ge=1)
    deadline: datetime


class StepRetryRequested(ContractModel):
    workflow_id: str
    step: str
    attempt: int = Field(ge=2)
    order: Order


class OperatorCommandIssued(ContractModel):
    workflow_id: str
    command: Literal["resume", "retry-step", "cancel"]
    step: str | None = None
    operator: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)


# --- compensation requests and their outcomes ------------------------------------------------------------
class CompensationRequest(ContractModel):
    """What every compensation request carries: which attempts it concerns.

    ``step_attempt`` is the attempt of the step being undone (a consumer must refuse that attempt and
    any older one afterwards); ``compensation_attempt`` numbers the undo itself, and every outcome
    echoes it so the controller can tell a stale outcome from the current one.
    """

    order_id: OrderId
    reason: str
    step_attempt: int = Field(default=1, ge=1)
    compensation_attempt: int = Field(default=1, ge=1)


class CompensationOutcome(ContractModel):
    order_id: OrderId
    compensation_attempt: int | None = Field(default=None, ge=1, description="Echo of the request's.")


# --- payments (orchestrated) ---------------------------------------------------------------------------
class PaymentProcessed(ContractModel):
    order_id: OrderId
    payment_id: str
    amount_minor: int = Field(ge=0)
    currency: str
    order: Order


class PaymentFailed(ContractModel):
    order_id: OrderId
    reason: Literal["INVALID_ORDER", "FRAUD_SUSPECTED", "DECLINED", "GATEWAY_ERROR", "LEDGER_ERROR"]
    message: str
    compensation: Literal["NONE", "VOIDED", "REFUNDED"] = "NONE"


class RefundRequested(CompensationRequest):
    """Give back whatever the gateway holds for the order: refund a capture, void an authorization."""


class PaymentRefunded(CompensationOutcome):
    payment_id: str | None = None
    refund_id: str | None = None
    amount_minor: int = Field(ge=0)
    outcome: Literal["REFUNDED", "VOIDED", "NOTHING_HELD"] = "REFUNDED"


class RefundFailed(CompensationOutcome):
    reason: str
    message: str


# --- inventory (choreographed) -------------------------------------------------------------------------
class InventoryReserved(ContractModel):
    order_id: OrderId
    reservation_id: str
    order: Order


class InventoryReservationFailed(ContractModel):
    order_id: OrderId
    reason: Literal["OUT_OF_STOCK", "UNKNOWN_SKU"]
    skus: tuple[Sku, ...]


class InventoryReleaseRequested(CompensationRequest):
    pass


class InventoryReleased(CompensationOutcome):
    reservation_id: str | None
    released: bool = Field(description="False when nothing was reserved, so nothing needed releasing.")


class InventoryReleaseFailed(CompensationOutcome):
    reason: str


# --- shipping (choreographed) ----------------------------------------------------------------------------
class ShippingScheduled(ContractModel):
    order_id: OrderId
    shipment_id: str
    carrier: str
    estimated_delivery: datetime


class ShippingFailed(ContractModel):
    order_id: OrderId
    reason: Literal["UNDELIVERABLE_ADDRESS", "NO_CARRIER"]
    message: str


class ShipmentCancellationRequested(CompensationRequest):
    pass


class ShipmentCancelled(CompensationOutcome):
    shipment_id: str | None
    cancelled: bool = Field(description="False when no shipment existed, so nothing needed cancelling.")


class ShipmentCancellationFailed(CompensationOutcome):
    reason: str


# --- notifications (choreographed) -------------------------------------------------------------------------
class CustomerNotified(ContractModel):
    order_id: OrderId
    customer_id: str
    notification_id: str
    template: str
    channel: str
