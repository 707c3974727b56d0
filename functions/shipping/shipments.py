"""Booking and cancelling an order's shipment: one conditionally written item per order.

``pk=ORDER#<orderId>`` moves SCHEDULED | PENDING_CONFIRMATION -> DISPATCHED, or -> CANCELLED. The item is
also the memory that makes triggers idempotent beyond the event id:

- a trigger that finds a shipment re-announces the recorded outcome (same carrier, same estimate);
- a cancellation records ``undoneThrough``: the highest step attempt it undid (the booking's own attempt
  or the request's ``stepAttempt``, whichever is higher, kept at the maximum across repeated requests).
  One that arrives *before* the booking (reordering) leaves a CANCELLED tombstone carrying it;
- a trigger for attempt N books only if no shipment is live and N > ``undoneThrough``: a trigger of an
  attempt the workflow already compensated (a late ``InventoryReserved``, a delayed operator retry) is
  refused with a log line and a metric, nothing published. See
  ``docs/decisions/0011-consumer-tombstones-and-attempts.md``.

Failures (no carrier, undeliverable address) change nothing: they follow from the order and the carrier
table alone, so a redelivered trigger reaches the same answer.

A manual booking waits for the carrier desk's decision (``StepDecided``, :mod:`shipping.decisions`):
``complete`` confirms it (ShippingScheduled, with the id the automatic path would have used), ``reject``
cancels it for its attempt (``undoneThrough``, so a late trigger cannot book it again) and reports
ShippingFailed ``CARRIER_DECLINED``. A decision that overtakes its booking is redelivered by SQS.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from order_workflow import SHIPPING
from order_workflow.events import (
    Order,
    ShipmentCancellationFailed,
    ShipmentCancellationRequested,
    ShipmentCancelled,
    ShippingFailed,
    ShippingScheduled,
)
from shipping.carriers import DEFAULT_CARRIERS, Booking, CarrierDirectory, is_po_box
from shipping.decisions import CarrierDecision, carrier_decision
from shipping.errors import BookingNotRecordedError, ShipmentNotFoundError, ShipmentNotPendingError
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, carried_context, outcome_event, step_trigger
from workflow_core.envelope import WorkflowContext
from workflow_core.errors import ConcurrentUpdateError, InvalidEventError
from workflow_core.lifecycle import STEP_DECIDED, STEP_RETRY_REQUESTED
from workflow_core.publisher import EventPublisher, OutgoingEvent, derived_event_id, new_event
from workflow_core.registry import deployed

PRODUCER = "shipping"
SCHEDULED = "SCHEDULED"
PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
DISPATCHED = "DISPATCHED"
CANCELLED = "CANCELLED"
RACE_RETRIES = 3

# A new booking, or a booking over a cancelled one for an attempt no cancellation has undone. An item
# written before ``undoneThrough`` existed counts its own attempt as undone.
NEW_OR_NOT_UNDONE_ATTEMPT = (
    "attribute_not_exists(pk) OR (#status = :cancelled AND "
    "(#undone < :attempt OR (attribute_not_exists(#undone) AND #attempt < :attempt)))"
)

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
    undone_through: int  # the highest step attempt a cancellation undid; 0 while nothing was cancelled
    booked_by: str | None  # the event id of the trigger that booked it
    correlation_id: str | None
    # The workflow context the trigger carried (JSON): a carrier's later confirmation publishes in it.
    workflow_context: str | None = None
    cancelled_by: str | None = None  # the event that cancelled it: a compensation, or a carrier's refusal

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Shipment:
        estimate = item.get("estimatedDelivery")
        status = str(item["status"])
        attempt = int(item.get("attempt", 1))
        undone = item.get("undoneThrough")
        return cls(
            order_id=str(item["orderId"]),
            status=status,
            shipment_id=_str_or_none(item.get("shipmentId")),
            carrier=_str_or_none(item.get("carrier")),
            transit_days=int(item.get("transitDays", 0)),
            estimated_delivery=datetime.fromisoformat(str(estimate)) if estimate else None,
            attempt=attempt,
            undone_through=int(undone) if undone is not None else (attempt if status == CANCELLED else 0),
            booked_by=_str_or_none(item.get("bookedBy")),
            correlation_id=_str_or_none(item.get("correlationId")),
            workflow_context=_str_or_none(item.get("workflowContext")),
            cancelled_by=_str_or_none(item.get("cancelledBy")),
        )


class ShippingService:
    """Handles the shipping step and its compensation, plus the carrier's out-of-band confirmation."""

    def __init__(
        self, *, table: Any, publisher: EventPublisher, carriers: CarrierDirectory = DEFAULT_CARRIERS
    ) -> None:
        self._table = table
        self._publisher = publisher
        self._carriers = carriers
        # What shipping handles, in one place (its queue's rule must deliver exactly these).
        self.router: EventRouter[OutgoingEvent | None] = EventRouter()
        self.router.on(*deployed().step_triggers(SHIPPING.name), STEP_RETRY_REQUESTED)(self._on_trigger)
        self.router.on("ShipmentCancellationRequested")(self._on_cancellation_requested)
        self.router.on(STEP_DECIDED)(self._on_decision)

    # --- events -------------------------------------------------------------------------------------
    def handle(self, event: DomainEvent) -> OutgoingEvent | None:
        """Dispatch one validated event; returns what was published (None: nothing to announce yet)."""
        return self.router.dispatch(event)

    def _on_trigger(self, event: DomainEvent) -> OutgoingEvent | None:
        trigger = step_trigger(event, SHIPPING.name)
        order, attempt = cast(Order, trigger.subject), trigger.attempt
        return self.schedule(order, attempt=attempt, cause=event)

    def _on_cancellation_requested(self, event: DomainEvent) -> OutgoingEvent:
        data = event.data
        if not isinstance(data, ShipmentCancellationRequested):
            raise InvalidEventError(f"{event.detail_type} carries {type(data).__name__}, not a cancellation")
        return self.cancel(data, cause=event)

    # --- schedule -----------------------------------------------------------------------------------
    def schedule(self, order: Order, *, attempt: int, cause: DomainEvent) -> OutgoingEvent | None:
        existing = self.load(order.order_id)
        if existing is not None and not _may_book_over(existing, attempt):
            return self._announce_existing(existing, attempt, cause)
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
        context = carried_context(cause)
        if context is not None:
            item["workflowContext"] = context.model_dump_json(by_alias=True, exclude_none=True)
        if status == SCHEDULED:
            item["estimatedDelivery"] = estimate.isoformat()
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression=NEW_OR_NOT_UNDONE_ATTEMPT,
                ExpressionAttributeNames={
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                ExpressionAttributeValues={":cancelled": CANCELLED, ":attempt": attempt},
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            racer = self.load(order.order_id)
            if racer is None:
                raise ConcurrentUpdateError(f"shipment of {order.order_id} vanished while booking") from None
            if _may_book_over(racer, attempt):
                # Not what refused the write: the item changed after it (cancelled meanwhile). SQS redelivers.
                raise ConcurrentUpdateError(f"shipment of {order.order_id} changed while booking") from None
            return self._announce_existing(racer, attempt, cause)
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

    def _announce_existing(
        self, shipment: Shipment, attempt: int, cause: DomainEvent
    ) -> OutgoingEvent | None:
        if shipment.status in (SCHEDULED, DISPATCHED):
            logger.info("shipment exists; announcing it again", extra={"status": shipment.status})
            return self._publish(
                outcome_event(cause, "ShippingScheduled", _scheduled(shipment), producer=PRODUCER)
            )
        if shipment.status == PENDING_CONFIRMATION:
            logger.info("shipment still awaits the carrier's confirmation")
        else:
            # The workflow already undid this attempt: booking now would ship an order nobody pays for.
            logger.warning(
                "trigger for an undone attempt ignored",
                extra={"attempt": attempt, "undone_through": shipment.undone_through},
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
    def confirm_shipment(
        self,
        order_id: str,
        *,
        estimated_delivery: datetime | None = None,
        reference: str | None = None,
        confirmed_by: str | None = None,
    ) -> OutgoingEvent:
        """The carrier confirmed a manual booking: record it and publish ShippingScheduled.

        The event id is derived from the trigger that booked it, as if the booking had been automatic,
        so confirming twice publishes the same event and downstream deduplicates it. ``reference`` (the
        carrier's booking number) and ``confirmed_by`` are kept on the shipment.
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
            updates: dict[str, Any] = {
                "estimatedDelivery": estimate.isoformat(),
                "confirmedAt": clock.now().isoformat(),
            }
            if reference is not None:
                updates["carrierReference"] = reference
            if confirmed_by is not None:
                updates["confirmedBy"] = confirmed_by
            if self._transition(order_id, PENDING_CONFIRMATION, SCHEDULED, updates):
                confirmed = dataclasses.replace(shipment, status=SCHEDULED, estimated_delivery=estimate)
                logger.info("carrier confirmed the booking", extra={"order_id": order_id})
                return self._publish(self._confirmation(confirmed))
        raise ConcurrentUpdateError(f"shipment of {order_id} kept changing while confirming it")

    def _on_decision(self, event: DomainEvent) -> OutgoingEvent | None:
        decision = carrier_decision(event)
        shipment = self.load(decision.order_id)
        if shipment is None or (
            shipment.status == CANCELLED
            and shipment.cancelled_by != decision.event_id
            and shipment.undone_through < decision.attempt
        ):
            # The trigger that books this attempt has not been handled yet (reordering): SQS redelivers
            # the decision after the visibility timeout, by when the booking is recorded.
            raise BookingNotRecordedError(
                f"no booking of {decision.order_id} for attempt {decision.attempt} yet; decision redelivered"
            )
        if shipment.status == CANCELLED:
            return self._decided_after_cancel(shipment, decision, event)
        if decision.verdict == "complete":
            return self.confirm_shipment(
                decision.order_id,
                estimated_delivery=decision.estimated_delivery,
                reference=decision.reference,
                confirmed_by=decision.decided_by,
            )
        if shipment.status == PENDING_CONFIRMATION:
            return self.decline(shipment, decision, event)
        # Booked automatically (or already out): nobody had to confirm it, and it stands.
        logger.warning(
            "carrier declined a booking that needed no confirmation; ignored",
            extra={"status": shipment.status, "decided_by": decision.decided_by},
        )
        return None

    def _decided_after_cancel(
        self, shipment: Shipment, decision: CarrierDecision, event: DomainEvent
    ) -> OutgoingEvent | None:
        if shipment.cancelled_by == decision.event_id:
            # This refusal cancelled it already (a redelivery, or a crash before publishing): report again.
            return self._declined(shipment, decision, event)
        # The workflow undid this attempt first (its deadline passed meanwhile): nothing to confirm.
        logger.warning(
            "decision on a booking the workflow already cancelled; ignored",
            extra={"decision": decision.verdict, "undone_through": shipment.undone_through},
        )
        return None

    def decline(
        self, shipment: Shipment, decision: CarrierDecision, cause: DomainEvent
    ) -> OutgoingEvent | None:
        """The carrier declined a manual booking: cancel it for its attempt and report ShippingFailed."""
        for _ in range(RACE_RETRIES):
            if self._transition(
                shipment.order_id,
                PENDING_CONFIRMATION,
                CANCELLED,
                {
                    # A late trigger of this attempt (or an older one) must not book it again.
                    "undoneThrough": max(shipment.attempt, decision.attempt),
                    "cancelledAt": clock.now().isoformat(),
                    "cancelReason": f"CARRIER_DECLINED: {decision.reason or 'no reason given'}",
                    "cancelledBy": decision.event_id,
                    "declinedBy": decision.decided_by,
                },
                attempt=shipment.attempt,
            ):
                logger.info("carrier declined the booking", extra={"decided_by": decision.decided_by})
                return self._declined(shipment, decision, cause)
            current = self.load(shipment.order_id)
            if current is None or current.status != PENDING_CONFIRMATION:
                return self._on_decision(cause)  # decided or cancelled meanwhile: answer from what is there
            shipment = current
        raise ConcurrentUpdateError(f"shipment of {shipment.order_id} kept changing while declining it")

    def _declined(self, shipment: Shipment, decision: CarrierDecision, cause: DomainEvent) -> OutgoingEvent:
        failed = ShippingFailed(
            order_id=shipment.order_id, reason="CARRIER_DECLINED", message=decision.refusal(shipment.carrier)
        )
        return self._publish(outcome_event(cause, "ShippingFailed", failed, producer=PRODUCER))

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
            # In the workflow the booking was for: without it no rule would route the confirmation.
            workflow=WorkflowContext.model_validate_json(shipment.workflow_context)
            if shipment.workflow_context
            else None,
        )
        metadata = event.metadata.model_copy(update={"causation_id": shipment.booked_by})
        return dataclasses.replace(event, metadata=metadata)

    # --- cancel -------------------------------------------------------------------------------------
    def cancel(self, request: ShipmentCancellationRequested, *, cause: DomainEvent) -> OutgoingEvent:
        """Cancel the order's shipment; every outcome echoes ``request.compensation_attempt``."""
        order_id = request.order_id
        for _ in range(RACE_RETRIES):
            shipment = self.load(order_id)
            if shipment is None:
                if self._leave_tombstone(request, cause):
                    logger.info(
                        "nothing booked; tombstone left for a late trigger",
                        extra={"undone_through": request.step_attempt},
                    )
                    return self._cancelled(cause, request, None, cancelled=False)
            elif shipment.status == CANCELLED:
                if self._raise_undone_through(shipment, request.step_attempt):
                    return self._cancelled(cause, request, shipment.shipment_id, cancelled=False)
            elif shipment.status == DISPATCHED:
                failed = ShipmentCancellationFailed(
                    order_id=order_id,
                    reason=f"ALREADY_DISPATCHED: shipment {shipment.shipment_id} is with {shipment.carrier}",
                    compensation_attempt=request.compensation_attempt,
                )
                return self._publish(
                    outcome_event(cause, "ShipmentCancellationFailed", failed, producer=PRODUCER)
                )
            elif self._transition(
                order_id,
                shipment.status,
                CANCELLED,
                {
                    "undoneThrough": max(shipment.attempt, request.step_attempt),
                    "cancelledAt": clock.now().isoformat(),
                    "cancelReason": request.reason,
                    "cancelledBy": cause.event_id,
                },
                attempt=shipment.attempt,
            ):
                logger.info("shipment cancelled", extra={"shipment_id": shipment.shipment_id})
                return self._cancelled(cause, request, shipment.shipment_id, cancelled=True)
        raise ConcurrentUpdateError(f"shipment of {order_id} kept changing while cancelling it")

    def _raise_undone_through(self, shipment: Shipment, step_attempt: int) -> bool:
        """Record that a cancelled shipment's ``step_attempt`` is undone too; False on a race."""
        if shipment.undone_through >= step_attempt:
            return True
        try:
            self._table.update_item(
                Key={"pk": shipment_pk(shipment.order_id)},
                UpdateExpression="SET #undone = :undone",
                ConditionExpression="#status = :cancelled AND #attempt = :attempt AND "
                "(attribute_not_exists(#undone) OR #undone < :undone)",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                ExpressionAttributeValues={
                    ":cancelled": CANCELLED,
                    ":attempt": shipment.attempt,
                    ":undone": step_attempt,
                },
            )
        except ClientError as error:
            if _condition_failed(error):
                return False  # changed meanwhile: re-read and answer from what is there
            raise
        logger.info("cancellation recorded for a later attempt", extra={"undone_through": step_attempt})
        return True

    def _leave_tombstone(self, request: ShipmentCancellationRequested, cause: DomainEvent) -> bool:
        try:
            self._table.put_item(
                Item={
                    "pk": shipment_pk(request.order_id),
                    "orderId": request.order_id,
                    "status": CANCELLED,
                    "attempt": request.step_attempt,
                    "undoneThrough": request.step_attempt,
                    "cancelledAt": clock.now().isoformat(),
                    "cancelReason": request.reason,
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
        self,
        cause: DomainEvent,
        request: ShipmentCancellationRequested,
        shipment_id: str | None,
        *,
        cancelled: bool,
    ) -> OutgoingEvent:
        data = ShipmentCancelled(
            order_id=request.order_id,
            shipment_id=shipment_id,
            cancelled=cancelled,
            compensation_attempt=request.compensation_attempt,
        )
        return self._publish(outcome_event(cause, "ShipmentCancelled", data, producer=PRODUCER))

    # --- helpers ------------------------------------------------------------------------------------
    def load(self, order_id: str) -> Shipment | None:
        item = self._table.get_item(Key={"pk": shipment_pk(order_id)}, ConsistentRead=True).get("Item")
        return Shipment.from_item(item) if item else None

    def _transition(
        self,
        order_id: str,
        from_status: str,
        to_status: str,
        updates: Mapping[str, Any],
        *,
        attempt: int | None = None,
    ) -> bool:
        """Conditionally move the shipment between statuses; False when it was not in ``from_status``
        (or, given ``attempt``, is no longer the booking of that attempt)."""
        assignments = ", ".join(f"#{name} = :{name}" for name in updates)
        names = {"#status": "status", **{f"#{name}": name for name in updates}}
        values = {
            ":from": from_status,
            ":to": to_status,
            **{f":{name}": value for name, value in updates.items()},
        }
        condition = "#status = :from"
        if attempt is not None:
            condition += " AND #attempt = :attempt"
            names["#attempt"] = "attempt"
            values[":attempt"] = attempt
        try:
            self._table.update_item(
                Key={"pk": shipment_pk(order_id)},
                UpdateExpression="SET #status = :to" + (f", {assignments}" if assignments else ""),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def _publish(self, event: OutgoingEvent) -> OutgoingEvent:
        self._publisher.publish([event])
        return event


def _may_book_over(shipment: Shipment, attempt: int) -> bool:
    """Only a trigger for an attempt that no cancellation undid may book over a cancelled shipment."""
    return shipment.status == CANCELLED and shipment.undone_through < attempt


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
