"""The sandbox's record of every call that may move money: one item per call, however often retried.

``pk=ORDER#<orderId>, sk=CALL#<operation>#<caller>#<idempotency key>``: ``attempts`` counts the
invocations, ``state`` is ``IN_FLIGHT`` from the first write of an attempt to its answer, then
``ANSWERED``; ``outcome`` is the latest answer (:class:`CallOutcome`) and ``moved`` whether any attempt
was answered with money moved, first-hand or replayed from an earlier call (``amountMinor`` is how much).

The gateway deduplicates per order, so a second call's replay moves no money here; a processor that
deduplicates on the idempotency key (every real one) would move it again for a second caller. The
simulator's money invariant counts these items: money is taken or given back once per order, by one call
(docs/decisions/0037). A call still ``IN_FLIGHT`` at the end died between its write and its answer: it
counts as having moved money, since nobody can tell.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from payment.gateways.base import GatewayCall
from workflow_core import attribute_values, clock

CALL_PREFIX = "CALL#"


class CallOutcome(StrEnum):
    CAPTURED = "CAPTURED"  # this call took the money
    REFUNDED = "REFUNDED"  # this call gave the money back
    REPLAYED = "REPLAYED"  # answered with an earlier call's capture or refund: deduplicated
    VOIDED = "VOIDED"  # a settlement that released a hold: no money had been taken
    NOTHING_HELD = "NOTHING_HELD"  # a settlement that found nothing to give back
    REFUSED = "REFUSED"  # declined or rejected: no money moved
    UNAVAILABLE = "UNAVAILABLE"  # the processor was busy and wrote nothing; the caller retries


MOVED = frozenset({CallOutcome.CAPTURED, CallOutcome.REFUNDED, CallOutcome.REPLAYED})


def call_sk(operation: str, call: GatewayCall) -> str:
    return f"{CALL_PREFIX}{operation}#{call.caller}#{call.idempotency_key}"


class CallLog:
    """Writes the call items. A write DynamoDB refuses for contention leaves with its ``ClientError``:
    the gateway runs it again, as it does its own writes."""

    def __init__(self, *, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def begin(self, order_id: str, operation: str, call: GatewayCall) -> None:
        """An attempt of ``call`` starts: count it, mark it in flight (before any money can move)."""
        self._update(
            order_id,
            operation,
            call,
            "ADD attempts :one SET #operation = :operation, caller = :caller, idempotencyKey = :key, "
            "firstAt = if_not_exists(firstAt, :now), lastAt = :now, #state = :in_flight",
            {
                ":one": 1,
                ":operation": operation,
                ":caller": call.caller,
                ":key": call.idempotency_key,
                ":now": clock.now().isoformat(),
                ":in_flight": "IN_FLIGHT",
            },
        )

    def answer(
        self, order_id: str, operation: str, call: GatewayCall, outcome: CallOutcome, amount_minor: int = 0
    ) -> None:
        """The attempt's answer; ``moved`` stays true once an attempt moved (or replayed) money."""
        expression = "SET #state = :answered, outcome = :outcome"
        values: dict[str, Any] = {":answered": "ANSWERED", ":outcome": outcome.value}
        if outcome in MOVED:
            expression += ", moved = :moved, amountMinor = :amount"
            values.update({":moved": True, ":amount": amount_minor})
        self._update(order_id, operation, call, expression, values)

    def _update(
        self, order_id: str, operation: str, call: GatewayCall, expression: str, values: dict[str, Any]
    ) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_serialize({"pk": f"ORDER#{order_id}", "sk": call_sk(operation, call)}),
            UpdateExpression=expression,
            ExpressionAttributeNames=_names(expression),
            ExpressionAttributeValues=_serialize(values),
        )


def _names(expression: str) -> dict[str, str]:
    return {name: name[1:] for name in ("#operation", "#state") if name in expression}


def _serialize(values: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.serialize_item(values)
