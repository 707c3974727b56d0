"""Reserving and releasing an order's stock, each in one DynamoDB transaction.

A reservation (``pk=RES#<orderId>``) and the stock counters (``pk=SKU#<sku>``) change together or not
at all, and every stock decrement is conditional on ``available >= quantity``, so concurrent orders can
never oversell: DynamoDB serialises the transactions and refuses the one that would go negative.

The reservation item doubles as the order's inventory record across triggers:

- a trigger (``PaymentProcessed`` or ``StepRetryRequested``) that finds a ``RESERVED`` item re-announces
  it without touching stock (a replay, or a redelivery after a failed publish);
- a release records ``undoneThrough``: the highest step attempt it undid (the reservation's own attempt
  or the request's ``stepAttempt``, whichever is higher, kept at the maximum across repeated requests).
  A release that arrives *before* its reservation (reordering) leaves a ``RELEASED`` tombstone carrying
  it, so the late trigger cannot reserve stock that nobody would ever release.
- a trigger for attempt N reserves only if no reservation is live and N > ``undoneThrough``: a trigger of
  an attempt the workflow already compensated (a late ``PaymentProcessed``, a delayed operator retry) is
  refused with a log line and a metric, nothing published. See
  ``docs/decisions/0011-consumer-tombstones-and-attempts.md``.

Reservations and stock items are written by transactions, so DynamoDB may cancel a reserve or a release
because another transaction is in progress on one of its items (another order taking the same SKU's
last units, a release of the same order), and refuse a single write on a reservation item while a
transaction holds it. Each reserve and release is retried from its first read after a jittered pause,
a bounded number of times, then fails with a retryable error for SQS to redeliver
(``workflow_core.contention``, docs/decisions/0019).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from inventory.stock import read_stock, sku_pk
from order_workflow import INVENTORY
from order_workflow.events import (
    InventoryReleased,
    InventoryReleaseFailed,
    InventoryReleaseRequested,
    InventoryReservationFailed,
    InventoryReserved,
    Order,
    OrderLine,
)
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event, step_trigger
from workflow_core.contention import Backoff, is_contention, retry_contended
from workflow_core.errors import ConcurrentUpdateError, InvalidEventError
from workflow_core.item_table import transact_write_items
from workflow_core.lifecycle import STEP_RETRY_REQUESTED
from workflow_core.publisher import EventPublisher, OutgoingEvent
from workflow_core.registry import deployed

PRODUCER = "inventory"
RESERVATION_PREFIX = "RES#"
RESERVED = "RESERVED"
RELEASED = "RELEASED"
CONDITION_FAILED = "ConditionalCheckFailed"
NO_FAILURE = "None"
RACE_RETRIES = 3  # re-reads after losing a race to another writer of the same reservation

# A new reservation, or a reservation over a released one for an attempt no release has undone. An item
# written before ``undoneThrough`` existed counts its own attempt as undone.
NEW_OR_NOT_UNDONE_ATTEMPT = (
    "attribute_not_exists(pk) OR (#status = :released AND "
    "(#undone < :attempt OR (attribute_not_exists(#undone) AND #attempt < :attempt)))"
)

logger = Logger(child=True)


def reservation_pk(order_id: str) -> str:
    return f"{RESERVATION_PREFIX}{order_id}"


def reservation_id_for(order_id: str) -> str:
    return f"res_{order_id}"


def merge_lines(items: Sequence[OrderLine]) -> dict[str, int]:
    """Quantity per SKU, duplicates merged, in SKU order (one transaction item per SKU)."""
    merged: dict[str, int] = {}
    for line in items:
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    return dict(sorted(merged.items()))


@dataclass(frozen=True)
class Reservation:
    order_id: str
    status: str
    reservation_id: str | None  # None for a tombstone: released before anything was reserved
    lines: Mapping[str, int]
    attempt: int
    undone_through: int  # the highest step attempt a release undid; 0 while nothing was released

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Reservation:
        status = str(item["status"])
        attempt = int(item.get("attempt", 1))
        undone = item.get("undoneThrough")
        return cls(
            order_id=str(item["orderId"]),
            status=status,
            reservation_id=str(item["reservationId"]) if "reservationId" in item else None,
            lines={str(line["sku"]): int(line["quantity"]) for line in item.get("items", [])},
            attempt=attempt,
            undone_through=int(undone) if undone is not None else (attempt if status == RELEASED else 0),
        )


class InventoryService:
    """Handles the inventory step and its compensation; publishes exactly one outcome per trigger."""

    def __init__(self, *, table: Any, publisher: EventPublisher, backoff: Backoff | None = None) -> None:
        self._table = table
        self._publisher = publisher
        self._backoff = backoff or Backoff()
        # What inventory handles, in one place (its queue's rule must deliver exactly these).
        self.router: EventRouter[OutgoingEvent | None] = EventRouter()
        self.router.on(*deployed().step_triggers(INVENTORY.name), STEP_RETRY_REQUESTED)(self._on_trigger)
        self.router.on("InventoryReleaseRequested")(self._on_release_requested)

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        """One transaction of Python values on the table's client (the table's own ItemTable path: no
        boto3 resource layer; docs/decisions/0047)."""
        transact_write_items(self._table, TransactItems=actions)

    # --- events -------------------------------------------------------------------------------------
    def handle(self, event: DomainEvent) -> OutgoingEvent | None:
        """Dispatch one validated event; returns what was published (None: a stale trigger, ignored)."""
        return self.router.dispatch(event)

    def _on_trigger(self, event: DomainEvent) -> OutgoingEvent | None:
        trigger = step_trigger(event, INVENTORY.name)
        order, attempt = cast(Order, trigger.subject), trigger.attempt
        return self.reserve(order, attempt=attempt, cause=event)

    def _on_release_requested(self, event: DomainEvent) -> OutgoingEvent:
        data = event.data
        if not isinstance(data, InventoryReleaseRequested):
            raise InvalidEventError(f"{event.detail_type} carries {type(data).__name__}, not a release")
        return self.release(data, cause=event)

    # --- reserve ------------------------------------------------------------------------------------
    def reserve(self, order: Order, *, attempt: int, cause: DomainEvent) -> OutgoingEvent | None:
        return retry_contended(
            lambda: self._reserve(order, attempt, cause),
            backoff=self._backoff,
            what=f"reservation of {order.order_id}",
        )

    def _reserve(self, order: Order, attempt: int, cause: DomainEvent) -> OutgoingEvent | None:
        lines = merge_lines(order.items)
        reservation_id = reservation_id_for(order.order_id)
        try:
            self._transact(
                [
                    self._put_reservation(order.order_id, reservation_id, lines, attempt, cause),
                    *(self._take_stock(sku, quantity) for sku, quantity in lines.items()),
                ]
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "TransactionCanceledException" or is_contention(error):
                raise  # contention: reserve() tries again from the start
            return self._reservation_refused(order, lines, attempt, error, cause)
        logger.info("stock reserved", extra={"reservation_id": reservation_id, "lines": lines})
        return self._publish(cause, "InventoryReserved", self._reserved(order, reservation_id))

    def _reservation_refused(
        self, order: Order, lines: Mapping[str, int], attempt: int, error: ClientError, cause: DomainEvent
    ) -> OutgoingEvent | None:
        reasons: list[dict[str, Any]] = list(error.response.get("CancellationReasons", []))
        codes = [r.get("Code", NO_FAILURE) for r in reasons]
        if len(reasons) != len(lines) + 1 or any(c not in (NO_FAILURE, CONDITION_FAILED) for c in codes):
            # Neither a condition nor contention (retried before we get here): SQS redelivers.
            raise ConcurrentUpdateError(f"reservation of {order.order_id} cancelled: {codes}")
        if codes[0] == CONDITION_FAILED:
            return self._reservation_exists(order, attempt, cause)
        unknown: list[str] = []
        short: list[str] = []
        for sku, reason in zip(lines, reasons[1:], strict=True):
            if reason.get("Code") != CONDITION_FAILED:
                continue
            # ALL_OLD returns the item when it exists: then the stock was short; otherwise read to be sure.
            exists = "Item" in reason or read_stock(self._table, sku) is not None
            (short if exists else unknown).append(sku)
        if not unknown and not short:
            raise ConcurrentUpdateError(f"reservation of {order.order_id} cancelled without a cause")
        # An unknown SKU is a catalogue error that no restock fixes: it takes precedence.
        reason_code: Literal["OUT_OF_STOCK", "UNKNOWN_SKU"] = "UNKNOWN_SKU" if unknown else "OUT_OF_STOCK"
        skus = unknown or short
        logger.info("reservation refused", extra={"reason": reason_code, "skus": skus})
        failed = InventoryReservationFailed(order_id=order.order_id, reason=reason_code, skus=tuple(skus))
        return self._publish(cause, "InventoryReservationFailed", failed)

    def _reservation_exists(self, order: Order, attempt: int, cause: DomainEvent) -> OutgoingEvent | None:
        existing = self.load(order.order_id)
        if existing is None:
            raise ConcurrentUpdateError(f"reservation of {order.order_id} vanished while reserving")
        if existing.status == RESERVED and existing.reservation_id is not None:
            logger.info("reservation exists; announcing it again", extra={"attempt": attempt})
            return self._publish(cause, "InventoryReserved", self._reserved(order, existing.reservation_id))
        if existing.status == RELEASED and attempt > existing.undone_through:
            # Not what refused the write: the item changed after it (released meanwhile). SQS redelivers.
            raise ConcurrentUpdateError(f"reservation of {order.order_id} changed while reserving")
        # The workflow already undid this attempt (released, or released before it was ever reserved):
        # reserving now would hold stock that no compensation will return.
        logger.warning(
            "trigger for an undone attempt ignored",
            extra={"attempt": attempt, "undone_through": existing.undone_through},
        )
        return None

    def _put_reservation(
        self, order_id: str, reservation_id: str, lines: Mapping[str, int], attempt: int, cause: DomainEvent
    ) -> dict[str, Any]:
        item = {
            "pk": reservation_pk(order_id),
            "orderId": order_id,
            "reservationId": reservation_id,
            "status": RESERVED,
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
            "attempt": attempt,
            "reservedAt": clock.now().isoformat(),
            "reservedBy": cause.event_id,
        }
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": item,
                "ConditionExpression": NEW_OR_NOT_UNDONE_ATTEMPT,
                "ExpressionAttributeNames": {
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                "ExpressionAttributeValues": {":released": RELEASED, ":attempt": attempt},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _take_stock(self, sku: str, quantity: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": {"pk": sku_pk(sku)},
                "UpdateExpression": "SET available = available - :q, reserved = reserved + :q",
                "ConditionExpression": "attribute_exists(pk) AND available >= :q",
                "ExpressionAttributeValues": {":q": quantity},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    # --- release ------------------------------------------------------------------------------------
    def release(self, request: InventoryReleaseRequested, *, cause: DomainEvent) -> OutgoingEvent:
        """Return the order's reserved stock; every outcome echoes ``request.compensation_attempt``."""
        return retry_contended(
            lambda: self._release(request, cause),
            backoff=self._backoff,
            what=f"release of {request.order_id}",
        )

    def _release(self, request: InventoryReleaseRequested, cause: DomainEvent) -> OutgoingEvent:
        order_id = request.order_id
        for _ in range(RACE_RETRIES):
            existing = self.load(order_id)
            if existing is None:
                if self._leave_tombstone(request, cause):
                    logger.info(
                        "nothing reserved; tombstone left for a late trigger",
                        extra={"undone_through": request.step_attempt},
                    )
                    return self._released(cause, request, None, released=False)
            elif existing.status == RELEASED:
                if self._raise_undone_through(existing, request.step_attempt):
                    return self._released(cause, request, existing.reservation_id, released=False)
            else:
                outcome = self._return_stock(existing, request, cause)
                if outcome is not None:
                    return outcome
        raise ConcurrentUpdateError(f"reservation of {order_id} kept changing while releasing it")

    def _raise_undone_through(self, reservation: Reservation, step_attempt: int) -> bool:
        """Record that a released reservation's ``step_attempt`` is undone too; False on a race."""
        if reservation.undone_through >= step_attempt:
            return True
        try:
            self._table.update_item(
                Key={"pk": reservation_pk(reservation.order_id)},
                UpdateExpression="SET #undone = :undone",
                ConditionExpression="#status = :released AND #attempt = :attempt AND "
                "(attribute_not_exists(#undone) OR #undone < :undone)",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                ExpressionAttributeValues={
                    ":released": RELEASED,
                    ":attempt": reservation.attempt,
                    ":undone": step_attempt,
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # changed meanwhile: re-read and answer from what is there
            raise
        logger.info("release recorded for a later attempt", extra={"undone_through": step_attempt})
        return True

    def _return_stock(
        self, reservation: Reservation, request: InventoryReleaseRequested, cause: DomainEvent
    ) -> OutgoingEvent | None:
        """Flip RESERVED -> RELEASED and return the stock; None when a concurrent writer got there first."""
        flip = {
            "Update": {
                "TableName": self._table.name,
                "Key": {"pk": reservation_pk(reservation.order_id)},
                "UpdateExpression": "SET #status = :released, #undone = :undone, releasedAt = :now, "
                "releaseReason = :reason, releasedBy = :cause",
                "ConditionExpression": "#status = :reserved AND #attempt = :attempt",
                "ExpressionAttributeNames": {
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                "ExpressionAttributeValues": {
                    ":released": RELEASED,
                    ":reserved": RESERVED,
                    ":attempt": reservation.attempt,
                    ":undone": max(reservation.attempt, request.step_attempt),
                    ":now": clock.now().isoformat(),
                    ":reason": request.reason,
                    ":cause": cause.event_id,
                },
            }
        }
        returns = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"pk": sku_pk(sku)},
                    "UpdateExpression": "SET available = available + :q, reserved = reserved - :q",
                    "ConditionExpression": "attribute_exists(pk) AND reserved >= :q",
                    "ExpressionAttributeValues": {":q": quantity},
                }
            }
            for sku, quantity in reservation.lines.items()
        ]
        try:
            self._transact([flip, *returns])
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "TransactionCanceledException" or is_contention(error):
                raise  # contention: release() tries again from the first read
            codes = [r.get("Code", NO_FAILURE) for r in error.response.get("CancellationReasons", [])]
            if len(codes) != len(returns) + 1 or any(c not in (NO_FAILURE, CONDITION_FAILED) for c in codes):
                raise ConcurrentUpdateError(f"release of {reservation.order_id} cancelled: {codes}") from None
            if codes[0] == CONDITION_FAILED:
                return None  # someone else released it meanwhile: re-read and answer from what is there
            broken = [
                sku for sku, code in zip(reservation.lines, codes[1:], strict=True) if code != NO_FAILURE
            ]
            # The stock records no longer match the reservation (deleted SKU, reset counters): a human
            # must reconcile; releasing part of it would hide the discrepancy.
            logger.error("stock records do not match the reservation", extra={"skus": broken})
            failed = InventoryReleaseFailed(
                order_id=reservation.order_id,
                reason=f"STOCK_RECORD_MISMATCH: {', '.join(broken)} missing or with fewer reserved units",
                compensation_attempt=request.compensation_attempt,
            )
            return self._publish(cause, "InventoryReleaseFailed", failed)
        logger.info("stock released", extra={"reservation_id": reservation.reservation_id})
        return self._released(cause, request, reservation.reservation_id, released=True)

    def _leave_tombstone(self, request: InventoryReleaseRequested, cause: DomainEvent) -> bool:
        try:
            self._table.put_item(
                Item={
                    "pk": reservation_pk(request.order_id),
                    "orderId": request.order_id,
                    "status": RELEASED,
                    "attempt": request.step_attempt,
                    "undoneThrough": request.step_attempt,
                    "releasedAt": clock.now().isoformat(),
                    "releaseReason": request.reason,
                    "releasedBy": cause.event_id,
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # a reservation appeared meanwhile: re-read and release it
            raise
        return True

    # --- helpers ------------------------------------------------------------------------------------
    def load(self, order_id: str) -> Reservation | None:
        item = self._table.get_item(Key={"pk": reservation_pk(order_id)}, ConsistentRead=True).get("Item")
        return Reservation.from_item(item) if item else None

    @staticmethod
    def _reserved(order: Order, reservation_id: str) -> InventoryReserved:
        return InventoryReserved(order_id=order.order_id, reservation_id=reservation_id)

    def _released(
        self,
        cause: DomainEvent,
        request: InventoryReleaseRequested,
        reservation_id: str | None,
        *,
        released: bool,
    ) -> OutgoingEvent:
        data = InventoryReleased(
            order_id=request.order_id,
            reservation_id=reservation_id,
            released=released,
            compensation_attempt=request.compensation_attempt,
        )
        return self._publish(cause, "InventoryReleased", data)

    def _publish(self, cause: DomainEvent, detail_type: str, data: Any) -> OutgoingEvent:
        event = outcome_event(cause, detail_type, data, producer=PRODUCER)
        self._publisher.publish([event])
        return event
