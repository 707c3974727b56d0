"""The order workflow's event contracts: one model per event and schema version, and who owns each.

Money is in minor units (cents) as integers: no float ever touches an amount. The order itself (the
workflow's subject) travels in every event's workflow context, so no step's event carries it for the
next step (docs/decisions/0022).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from workflow_core.catalog import EventType, dropping
from workflow_core.envelope import ContractModel
from workflow_core.lifecycle import SOURCE_CONTROLLER, CompensationOutcome, CompensationRequest

# Sources are "<domain>.<service>": the producer that owns the detail-type.
SOURCE_ORDERS = "commerce.orders"
SOURCE_PAYMENTS = "commerce.payments"
SOURCE_INVENTORY = "commerce.inventory"
SOURCE_SHIPPING = "commerce.shipping"
SOURCE_NOTIFICATIONS = "commerce.notifications"

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


# --- payments (orchestrated) ---------------------------------------------------------------------------
class PaymentProcessedV1(ContractModel):
    """Version 1 carried the whole order for the next step; the workflow context carries it now."""

    order_id: OrderId
    payment_id: str
    amount_minor: int = Field(ge=0)
    currency: str
    order: Order


class PaymentProcessed(ContractModel):
    order_id: OrderId
    payment_id: str
    amount_minor: int = Field(ge=0)
    currency: str


class PaymentFailed(ContractModel):
    order_id: OrderId
    reason: Literal["INVALID_ORDER", "FRAUD_SUSPECTED", "DECLINED", "GATEWAY_ERROR", "LEDGER_ERROR"]
    message: str
    compensation: Literal["NONE", "VOIDED", "REFUNDED"] = "NONE"


class RefundRequested(CompensationRequest):
    """Give back whatever the gateway holds for the order: refund a capture, void an authorization."""

    order_id: OrderId  # filled by the controller from the subject


class PaymentRefunded(CompensationOutcome):
    order_id: OrderId
    payment_id: str | None = None
    refund_id: str | None = None
    amount_minor: int = Field(ge=0)
    outcome: Literal["REFUNDED", "VOIDED", "NOTHING_HELD"] = "REFUNDED"


class RefundFailed(CompensationOutcome):
    order_id: OrderId
    reason: str
    message: str


# --- inventory (choreographed) -------------------------------------------------------------------------
class InventoryReservedV1(ContractModel):
    """Version 1 carried the whole order for the next step; the workflow context carries it now."""

    order_id: OrderId
    reservation_id: str
    order: Order


class InventoryReserved(ContractModel):
    order_id: OrderId
    reservation_id: str


class InventoryReservationFailed(ContractModel):
    order_id: OrderId
    reason: Literal["OUT_OF_STOCK", "UNKNOWN_SKU"]
    skus: tuple[Sku, ...]


class InventoryReleaseRequested(CompensationRequest):
    order_id: OrderId


class InventoryReleased(CompensationOutcome):
    order_id: OrderId
    reservation_id: str | None = None  # None: nothing was reserved (a wire form omits it)
    released: bool = Field(description="False when nothing was reserved, so nothing needed releasing.")


class InventoryReleaseFailed(CompensationOutcome):
    order_id: OrderId
    reason: str


# --- shipping (choreographed) ----------------------------------------------------------------------------
class ShippingScheduled(ContractModel):
    order_id: OrderId
    shipment_id: str
    carrier: str
    estimated_delivery: datetime


class ShippingFailedV1(ContractModel):
    """Version 1 knew only the failures found at booking; version 2 adds the carrier's refusal."""

    order_id: OrderId
    reason: Literal["UNDELIVERABLE_ADDRESS", "NO_CARRIER"]
    message: str


class ShippingFailed(ContractModel):
    """Version 2: a carrier that books by hand may decline the booking (``CARRIER_DECLINED``; the message
    carries who decided and why). A new value is a new version: a subscriber that validates version 1's
    closed list of reasons would refuse it."""

    order_id: OrderId
    reason: Literal["UNDELIVERABLE_ADDRESS", "NO_CARRIER", "CARRIER_DECLINED"]
    message: str


class ShipmentCancellationRequested(CompensationRequest):
    order_id: OrderId


class ShipmentCancelled(CompensationOutcome):
    order_id: OrderId
    shipment_id: str | None = None  # None: no shipment existed (a wire form omits it)
    cancelled: bool = Field(description="False when no shipment existed, so nothing needed cancelling.")


class ShipmentCancellationFailed(CompensationOutcome):
    order_id: OrderId
    reason: str


# --- notifications (choreographed) -------------------------------------------------------------------------
class CustomerNotified(ContractModel):
    order_id: OrderId
    customer_id: str
    notification_id: str
    template: str
    channel: str


class OrderConfirmationSent(ContractModel):
    """The ``notify`` step's completion: the customer was told the order is confirmed (paid)."""

    order_id: OrderId
    customer_id: str
    notification_id: str
    template: str
    channel: str


class OrderConfirmationFailed(ContractModel):
    """The ``notify`` step's failure: the notice service refused the message for good."""

    order_id: OrderId
    reason: Literal["SEND_REJECTED"]
    message: str


def _order_submitted_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    v1 = OrderSubmittedV1.model_validate(data)
    fields = v1.model_dump(by_alias=True, mode="json", exclude={"amount"})
    fields["amountMinor"] = int(v1.amount * 100)
    return fields


def _unchanged(data: dict[str, Any]) -> dict[str, Any]:
    """For a version that only widened what a field accepts: every older value is a valid newer one."""
    return data


EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "OrderSubmitted",
        SOURCE_ORDERS,
        {1: OrderSubmittedV1, 2: OrderSubmitted},
        {1: _order_submitted_v1_to_v2},
    ),
    EventType("RefundRequested", SOURCE_CONTROLLER, {1: RefundRequested}),
    EventType("InventoryReleaseRequested", SOURCE_CONTROLLER, {1: InventoryReleaseRequested}),
    EventType("ShipmentCancellationRequested", SOURCE_CONTROLLER, {1: ShipmentCancellationRequested}),
    EventType(
        "PaymentProcessed",
        SOURCE_PAYMENTS,
        {1: PaymentProcessedV1, 2: PaymentProcessed},
        {1: dropping("order")},
    ),
    EventType("PaymentFailed", SOURCE_PAYMENTS, {1: PaymentFailed}),
    EventType("PaymentRefunded", SOURCE_PAYMENTS, {1: PaymentRefunded}),
    EventType("RefundFailed", SOURCE_PAYMENTS, {1: RefundFailed}),
    EventType(
        "InventoryReserved",
        SOURCE_INVENTORY,
        {1: InventoryReservedV1, 2: InventoryReserved},
        {1: dropping("order")},
    ),
    EventType("InventoryReservationFailed", SOURCE_INVENTORY, {1: InventoryReservationFailed}),
    EventType("InventoryReleased", SOURCE_INVENTORY, {1: InventoryReleased}),
    EventType("InventoryReleaseFailed", SOURCE_INVENTORY, {1: InventoryReleaseFailed}),
    EventType("ShippingScheduled", SOURCE_SHIPPING, {1: ShippingScheduled}),
    EventType("ShippingFailed", SOURCE_SHIPPING, {1: ShippingFailedV1, 2: ShippingFailed}, {1: _unchanged}),
    EventType("ShipmentCancelled", SOURCE_SHIPPING, {1: ShipmentCancelled}),
    EventType("ShipmentCancellationFailed", SOURCE_SHIPPING, {1: ShipmentCancellationFailed}),
    # That a notice went out: a record for audits and whoever listens; nothing must act on it.
    EventType("CustomerNotified", SOURCE_NOTIFICATIONS, {1: CustomerNotified}, announcement=True),
    EventType("OrderConfirmationSent", SOURCE_NOTIFICATIONS, {1: OrderConfirmationSent}),
    EventType("OrderConfirmationFailed", SOURCE_NOTIFICATIONS, {1: OrderConfirmationFailed}),
)
