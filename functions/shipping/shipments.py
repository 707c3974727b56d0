"""Booking and cancelling an order's shipment: one conditionally written item per order.

``pk=ORDER#<orderId>`` moves SCHEDULED | PENDING_CONFIRMATION -> DISPATCHED, or -> CANCELLED. The item is
also the memory that makes triggers idempotent beyond the event id:

- a trigger that finds a shipment re-announces the recorded outcome (same carrier, same estimate);
- a cancellation that arrives *before* the booking (reordering) leaves a CANCELLED tombstone, so the late
  trigger books nothing; only an explicit retry with a higher attempt may book over a cancelled item.

Failures (no carrier, undeliverable address) change nothing: they follow from the order and the carrier
table alone, so a redelivered trigger reaches the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from shipping.carriers import DEFAULT_CARRIERS, Booking, CarrierDirectory, is_po_box
from shipping.errors import ShipmentNotFoundError, ShipmentNotPendingError
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import outcome_event
from workflow_core.errors import ConcurrentUpdateError, InvalidEventError
from workflow_core.events import (
    InventoryReserved,
    Order,
    ShipmentCancellationFailed,
    ShipmentCancellationRequested,
    ShipmentCancelled,
    ShippingFailed,
    ShippingScheduled,
    StepRetryRequested,
)
from workflow_core.order_workflow import SHIPPING
from workflow_core.publisher import EventPublisher, OutgoingEvent, derived_event_id, new_event

PRODUCER = "shipping"
SCHEDULED = "SCHEDULED"
PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
DISPATCHED = "DISPATCHED"
CANCELLED = "CANCELLED"
RACE_RETRIES = 3

# A new booking, or an explicit retry (higher attempt) over a cancelled one.
NEW_OR_NEWER_ATTEMPT = "attribute_not_exists(pk) OR (#status = :cancelled AND #attempt < :attempt)"

logger = Logger(child=True)


def shipment_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def shipment_id_for(order_id: str) -> str:
    return f"shp_{order_id}"


@dataclass(frozen=True)
class Shipment:
    order_id: str
    status: str
    shipment_id: str | None  # None for a tombstone: cancelled before anything was booked
    carrier: str | None
    transit_days: int
    estimated_delivery: datetime | None
    attempt: int
    booked_by: str | None  # the event id of the trigger that booked it
    correlation_id: str | None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Shipment:
        estimate = item.get("estimatedDelivery")
        return cls(
            order_id=str(item["orderId"]),
            status=str(item["status"]),
            shipment_id=_str_or_none(item.get("shipmentId")),
            carrier=_str_or_none(item.get("carrier")),
            transit_days=int(item.get("transitDays", 0)),
            estimated_delivery=datetime.fromisoformat(str(estimate)) if estimate else None,
            attempt=int(item.get("attempt", 1)),
            booked_by=_str_or_none(item.get("bookedBy")),
            correlation_id=_str_or_none(item.get("correlationId")),
        )


class ShippingService:
    """Handles the shipping step and its compensation, plus the carrier's out-of-band confirmation."""

    def __init__(
        self, *, table: Any, publisher: EventPublisher, carriers: CarrierDirectory = DEFAULT_CARRIERS
    ) -> None:
        self._table = table
        self._publisher = publisher
        self._carriers = carriers

    # --- events -------------------------------------------------------------------------------------
    def handle(self, event: DomainEvent) -> OutgoingEvent | None:
        """Dispatch one validated event; returns what was published (None: nothing to announce yet)."""
        data = event.data
        if isinstance(data, InventoryReserved):
            return self.schedule(data.order, attempt=1, cause=event)
        if isinstance(data, StepRetryRequested):
            if data.step != SHIPPING.name:
                raise InvalidEventError(f"shipping runs step {SHIPPING.name!r}, not {data.step!r}")
            return self.schedule(data.order, attempt=data.attempt, cause=event)
        if isinstance(data, ShipmentCancellationRequested):
            return self.cancel(data.order_id, reason=data.reason, cause=event)
        raise InvalidEventError(f"shipping does not handle {event.detail_type}")

    # --- schedule -----------------------------------------------------------------------------------
    def schedule(self, order: Order, *, attempt: int, cause: DomainEvent) -> OutgoingEvent | None:
        existing = self.load(order.order_id)
        if existing is not None and not _may_rebook(existing, attempt):
            return self._announce_existing(existing, cause)
        address = order.shipping_address
        route = self._carriers.route(address.country)
        if route is None:
            return self._fail(cause, order, "NO_CARRIER", f"no carrier serves {address.country}")
        if is_po_box(address) and not route.serves_po_boxes:
            message = f"{route.carrier} does not deliver to PO boxes in {address.country}"
            return self._fail(cause, order, "UNDELIVERABLE_ADDRESS", message)
        status = PENDING_CONFIRMATION if route.booking is Booking.MANUAL else SCHEDULED
        estimate = clock.now() + timedelta(days=route.transit_days)
        item = {
            "pk": shipment_pk(order.order_id),
            "orderId": order.order_id,
            "shipmentId": shipment_id_for(order.order_id),
            "carrier": route.carrier,
            "transitDays": route.transit_days,
            "status": status,
            "attempt": attempt,
            "bookedAt": clock.now().isoformat(),
            "bookedBy": cause.event_id,
            "correlationId": cause.correlation_id,
        }
        if status == SCHEDULED:
            item["estimatedDelivery"] = estimate.isoformat()
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression=NEW_OR_NEWER_ATTEMPT,
                ExpressionAttributeNames={"#status": "status", "#attempt": "attempt"},
                ExpressionAttributeValues={":cancelled": CANCELLED, ":attempt": attempt},
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            racer = self.load(order.order_id)
            if racer is None:
                raise ConcurrentUpdateError(f"shipment of {order.order_id} vanished while booking") from None
            return self._announce_existing(racer, cause)
        shipment = Shipment.from_item(item)
        if status == PENDING_CONFIRMATION:
            logger.info(
                "manual booking: awaiting the carrier's confirmation", extra={"carrier": route.carrier}
            )
            return None
        logger.info("shipment scheduled", extra={"carrier": route.carrier})
        return self._publish(
            outcome_event(cause, "ShippingScheduled", _scheduled(shipment), producer=PRODUCER)
        )

    def _announce_existing(self, shipment: Shipment, cause: DomainEvent) -> OutgoingEvent | None:
        if shipment.status in (SCHEDULED, DISPATCHED):
            logger.info("shipment exists; announcing it again", extra={"status": shipment.status})
            return self._publish(
                outcome_event(cause, "ShippingScheduled", _scheduled(shipment), producer=PRODUCER)
            )
        if shipment.status == PENDING_CONFIRMATION:
            logger.info("shipment still awaits the carrier's confirmation")
        else:
            logger.warning(
                "stale trigger for a cancelled shipment ignored", extra={"attempt": shipment.attempt}
            )
        return None

    def _fail(
        self,
        cause: DomainEvent,
        order: Order,
        reason: Literal["UNDELIVERABLE_ADDRESS", "NO_CARRIER"],
        message: str,
    ) -> OutgoingEvent:
        logger.info("shipping refused", extra={"reason": reason, "reason_message": message})
        failed = ShippingFailed(order_id=order.order_id, reason=reason, message=message)
        return self._publish(outcome_event(cause, "ShippingFailed", failed, producer=PRODUCER))

    # --- carrier callbacks / operators ----------------------------------------------------------------
    def confirm_shipment(self, order_id: str, *, estimated_delivery: datetime | None = None) -> OutgoingEvent:
        """The carrier confirmed a manual booking: record it and publish ShippingScheduled.

        The event id is derived from the trigger that booked it, as if the booking had been automatic,
        so confirming twice publishes the same event and downstream deduplicates it.
        """
        for _ in range(RACE_RETRIES):
            shipment = self.load(order_id)
            if shipment is None or shipment.shipment_id is None:
                raise ShipmentNotFoundError(f"no shipment is booked for order {order_id}")
            if shipment.status in (SCHEDULED, DISPATCHED):
                return self._publish(self._confirmation(shipment))
            if shipment.status != PENDING_CONFIRMATION:
                raise ShipmentNotPendingError(f"shipment {shipment.shipment_id} is {shipment.status}")
            estimate = estimated_delivery or clock.now() + timedelta(days=shipment.transit_days)
            if self._transition(
                order_id, PENDING_CONFIRMATION, SCHEDULED, {"estimatedDelivery": estimate.isoformat()}
            ):
                confirmed = dataclasses.replace(shipment, status=SCHEDULED, estimated_delivery=estimate)
                logger.info("carrier confirmed the booking", extra={"order_id": order_id})
                return self._publish(self._confirmation(confirmed))
        raise ConcurrentUpdateError(f"shipment of {order_id} kept changing while confirming it")

    def mark_dispatched(self, order_id: str) -> None:
        """The parcel left the warehouse: from now on the shipment can no longer be cancelled."""
        if not self._transition(order_id, SCHEDULED, DISPATCHED, {}):
            shipment = self.load(order_id)
            if shipment is None or shipment.status != DISPATCHED:
                status = shipment.status if shipment else "missing"
                raise ShipmentNotPendingError(f"shipment of {order_id} cannot be dispatched: it is {status}")

    def _confirmation(self, shipment: Shipment) -> OutgoingEvent:
        cause_id = shipment.booked_by or shipment_id_for(shipment.order_id)
        event = new_event(
            "ShippingScheduled",
            _scheduled(shipment),
            event_id=derived_event_id(cause_id, "ShippingScheduled"),
            correlation_id=shipment.correlation_id or shipment.order_id,
            caused_by=None,
            producer=PRODUCER,
        )
        metadata = event.metadata.model_copy(update={"causation_id": shipment.booked_by})
        return dataclasses.replace(event, metadata=metadata)

    # --- cancel -------------------------------------------------------------------------------------
    def cancel(self, order_id: str, *, reason: str, cause: DomainEvent) -> OutgoingEvent:
        for _ in range(RACE_RETRIES):
            shipment = self.load(order_id)
            if shipment is None:
                if self._leave_tombstone(order_id, reason, cause):
                    logger.info("nothing booked; tombstone left for a late trigger")
                    return self._cancelled(cause, order_id, None, cancelled=False)
            elif shipment.status == CANCELLED:
                return self._cancelled(cause, order_id, shipment.shipment_id, cancelled=False)
            elif shipment.status == DISPATCHED:
                failed = ShipmentCancellationFailed(
                    order_id=order_id,
                    reason=f"ALREADY_DISPATCHED: shipment {shipment.shipment_id} is with {shipment.carrier}",
                )
                return self._publish(
                    outcome_event(cause, "ShipmentCancellationFailed", failed, producer=PRODUCER)
                )
            elif self._transition(
                order_id,
                shipment.status,
                CANCELLED,
                {
                    "cancelledAt": clock.now().isoformat(),
                    "cancelReason": reason,
                    "cancelledBy": cause.event_id,
                },
            ):
                logger.info("shipment cancelled", extra={"shipment_id": shipment.shipment_id})
                return self._cancelled(cause, order_id, shipment.shipment_id, cancelled=True)
        raise ConcurrentUpdateError(f"shipment of {order_id} kept changing while cancelling it")

    def _leave_tombstone(self, order_id: str, reason: str, cause: DomainEvent) -> bool:
        try:
            self._table.put_item(
                Item={
                    "pk": shipment_pk(order_id),
                    "orderId": order_id,
                    "status": CANCELLED,
                    "attempt": 1,
                    "cancelledAt": clock.now().isoformat(),
                    "cancelReason": reason,
                    "cancelledBy": cause.event_id,
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def _cancelled(
        self, cause: DomainEvent, order_id: str, shipment_id: str | None, *, cancelled: bool
    ) -> OutgoingEvent:
        data = ShipmentCancelled(order_id=order_id, shipment_id=shipment_id, cancelled=cancelled)
        return self._publish(outcome_event(cause, "ShipmentCancelled", data, producer=PRODUCER))

    # --- helpers ------------------------------------------------------------------------------------
    def load(self, order_id: str) -> Shipment | None:
        item = self._table.get_item(Key={"pk": shipment_pk(order_id)}, ConsistentRead=True).get("Item")
        return Shipment.from_item(item) if item else None

    def _transition(
        self, order_id: str, from_status: str, to_status: str, updates: Mapping[str, Any]
    ) -> bool:
        """Conditionally move the shipment between statuses; False when it was not in ``from_status``."""
        assignments = ", ".join(f"#{name} = :{name}" for name in updates)
        try:
            self._table.update_item(
                Key={"pk": shipment_pk(order_id)},
                UpdateExpression="SET #status = :to" + (f", {assignments}" if assignments else ""),
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={"#status": "status", **{f"#{name}": name for name in updates}},
                ExpressionAttributeValues={
                    ":from": from_status,
                    ":to": to_status,
                    **{f":{name}": value for name, value in updates.items()},
                },
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def _publish(self, event: OutgoingEvent) -> OutgoingEvent:
        self._publisher.publish([event])
        return event


def _may_rebook(shipment: Shipment, attempt: int) -> bool:
    """Only an explicit retry with a newer attempt may book over a cancelled shipment."""
    return shipment.status == CANCELLED and shipment.attempt < attempt


def _scheduled(shipment: Shipment) -> ShippingScheduled:
    if shipment.shipment_id is None or shipment.carrier is None or shipment.estimated_delivery is None:
        raise ValueError(f"shipment of {shipment.order_id} is not booked")
    return ShippingScheduled(
        order_id=shipment.order_id,
        shipment_id=shipment.shipment_id,
        carrier=shipment.carrier,
        estimated_delivery=shipment.estimated_delivery,
    )


def _condition_failed(error: ClientError) -> bool:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code == "ConditionalCheckFailedException"


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
