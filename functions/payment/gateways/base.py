"""The card-processor seam: what the payment state machines need from any gateway.

Every operation is idempotent per order: the processor keys it on ``(order id, operation)``, so a
Step Functions retry, a duplicate execution or a later payment attempt never moves money twice. A
repeated call returns the original result (or raises the original terminal error).

Each call that moves money (capture, refund, settle) says who makes it and under which idempotency key
(:class:`GatewayCall`): a real processor deduplicates on that key, and the sandbox records every call, so
a workflow that asks twice is seen even where the gateway's deduplication hid it (docs/decisions/0037).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from order_workflow.events import Order


class AuthorizationStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    DECLINED = "DECLINED"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    NONE = "NONE"  # nothing was ever authorized for the order


@dataclass(frozen=True)
class GatewayCall:
    """One request to the processor, however often it is retried.

    ``caller`` names who asks (a state machine passes its execution's id); ``idempotency_key`` is what the
    processor deduplicates on. A Step Functions retry, a re-invoked Lambda, a redelivered start of the same
    named execution: the same caller with the same key, so the same call. Another execution asking is
    another call, even with the same key.
    """

    caller: str
    idempotency_key: str


@dataclass(frozen=True)
class Authorization:
    order_id: str
    payment_id: str
    authorization_id: str
    amount_minor: int
    currency: str

    def to_payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "paymentId": self.payment_id,
            "authorizationId": self.authorization_id,
            "amountMinor": self.amount_minor,
            "currency": self.currency,
        }


@dataclass(frozen=True)
class Capture:
    order_id: str
    payment_id: str
    capture_id: str
    amount_minor: int
    currency: str

    def to_payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "paymentId": self.payment_id,
            "captureId": self.capture_id,
            "amountMinor": self.amount_minor,
            "currency": self.currency,
        }


@dataclass(frozen=True)
class Void:
    """The outcome of releasing an authorization.

    ``status`` is the authorization's state after the call; ``CAPTURED`` tells the caller that the money
    was already taken (e.g. a capture whose response was lost), so it must refund instead.
    """

    order_id: str
    voided: bool
    status: AuthorizationStatus
    payment_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "voided": self.voided,
            "status": self.status.value,
            "paymentId": self.payment_id,
        }


@dataclass(frozen=True)
class Refund:
    order_id: str
    payment_id: str
    refund_id: str
    amount_minor: int

    def to_payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "paymentId": self.payment_id,
            "refundId": self.refund_id,
            "amountMinor": self.amount_minor,
        }


class SettlementOutcome(StrEnum):
    REFUNDED = "REFUNDED"  # money was captured: it went back to the customer
    VOIDED = "VOIDED"  # only a hold existed: it was released, no money was taken
    NOTHING_HELD = "NOTHING_HELD"  # nothing was authorized (or it was declined): nothing to give back


@dataclass(frozen=True)
class Settlement:
    """What undoing an order's payment did, decided by what the processor holds, not by any ledger.

    ``amount_minor`` is what went back to the customer: the captured amount for ``REFUNDED``, 0 otherwise.
    """

    order_id: str
    outcome: SettlementOutcome
    amount_minor: int
    payment_id: str | None = None
    refund_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "outcome": self.outcome.value,
            "paymentId": self.payment_id,
            "refundId": self.refund_id,
            "amountMinor": self.amount_minor,
        }


class PaymentGateway(ABC):
    """A card processor. Implementations raise the errors of :mod:`workflow_core.errors`:

    ``PaymentGatewayUnavailableError`` (retryable), ``PaymentDeclinedError`` and ``RefundRejectedError``
    (terminal); the state machines' ``Retry``/``Catch`` match those names.
    """

    @abstractmethod
    def authorize(self, order: Order) -> Authorization:
        """Hold the order's amount on the customer's payment method."""

    @abstractmethod
    def capture(self, order_id: str, *, call: GatewayCall) -> Capture:
        """Take the held amount."""

    @abstractmethod
    def void(self, order_id: str) -> Void:
        """Release an uncaptured hold; a no-op (``voided=False``) when there is none."""

    @abstractmethod
    def refund(
        self,
        order_id: str,
        *,
        call: GatewayCall,
        payment_id: str | None = None,
        amount_minor: int | None = None,
    ) -> Refund:
        """Return captured money; ``payment_id``/``amount_minor``, when given, must match the capture."""

    @abstractmethod
    def settle(self, order_id: str, *, call: GatewayCall) -> Settlement:
        """Give back whatever the processor holds for the order, whatever any ledger says.

        A capture is refunded in full (``REFUNDED``; ``RefundRejectedError`` if the processor refuses),
        an uncaptured hold is voided (``VOIDED``; a void releases the customer's own money and is never
        rejected), and with neither it is ``NOTHING_HELD``. Idempotent per order: a repeated call never
        moves money twice and reports what the order's payment is now (so after a later capture it
        refunds that capture).
        """
