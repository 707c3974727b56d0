"""A card processor's test mode, deterministic by payment token, persisted in the payments table.

Tokens behave like a processor's published test cards:

- ``tok_visa``, ``tok_mastercard``, ``tok_amex``: every operation succeeds;
- ``tok_chargeDeclined``: authorize raises ``PaymentDeclinedError`` (so does any unknown token);
- ``tok_gatewayFlaky``: the first authorize of an order raises ``PaymentGatewayUnavailableError``,
  later ones succeed (the outage is recorded in the table, so a Step Functions retry sees it);
- ``tok_refundFails``: refund of a capture raises ``RefundRejectedError`` (a void of a hold still succeeds:
  it only releases the customer's own money, so the sandbox never rejects it).

Every operation is one item ``pk=ORDER#<orderId>, sk=GATEWAY#<operation>`` written with a condition,
so a repeated call finds the first result and returns it instead of moving money again. Ids derive
from the order id and time comes from :func:`workflow_core.clock.now`: two runs of the same scenario
write the same items. Every capture, refund and settle call is also recorded, replays included
(:mod:`payment.gateways.call_log`): deduplication keeps the money right here, the record shows who asked.

A capture is a transaction (the capture item and the authorization's transition), so DynamoDB may cancel
it because another transaction is in progress on one of them, and refuse a void or re-authorization of
an authorization that a capture is writing (``TransactionConflictException``): the two race by design
(decision 0007). Every operation is run again from its first read after a jittered pause, a bounded
number of times (``workflow_core.contention``); then it raises ``PaymentGatewayUnavailableError``, which
the state machines retry with their own backoff (docs/decisions/0019). A cancelled or refused write
wrote nothing, so no money moves twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from order_workflow.events import Order
from payment.errors import PaymentDeclinedError, PaymentGatewayUnavailableError, RefundRejectedError
from payment.gateways.base import (
    Authorization,
    AuthorizationStatus,
    Capture,
    GatewayCall,
    PaymentGateway,
    Refund,
    Settlement,
    SettlementOutcome,
    Void,
)
from payment.gateways.call_log import CallLog, CallOutcome
from workflow_core import attribute_values, clock
from workflow_core.contention import (
    Backoff,
    ContendedWriteError,
    describe,
    is_contention,
    is_transient,
    retry_contended,
)

TOKEN_DECLINED = "tok_chargeDeclined"
TOKEN_FLAKY = "tok_gatewayFlaky"
TOKEN_REFUND_FAILS = "tok_refundFails"
APPROVED_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex", TOKEN_FLAKY, TOKEN_REFUND_FAILS})

AUTHORIZE = "GATEWAY#authorize"
CAPTURE = "GATEWAY#capture"
REFUND = "GATEWAY#refund"
OUTAGE = "GATEWAY#authorize#OUTAGE"  # the one injected outage of a tok_gatewayFlaky order

_CONDITION_FAILED = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class SandboxGateway(PaymentGateway):
    def __init__(self, *, table_name: str, client: Any, backoff: Backoff | None = None) -> None:
        self._table = table_name
        self._client = client
        self._backoff = backoff or Backoff()
        self._calls = CallLog(table_name=table_name, client=client)

    # --- operations ---------------------------------------------------------------------------------
    def authorize(self, order: Order) -> Authorization:
        return self._contended(lambda: self._authorize(order), f"authorize {order.order_id}")

    def capture(self, order_id: str, *, call: GatewayCall) -> Capture:
        return self._recorded(order_id, "capture", call, lambda: self._capture(order_id))

    def void(self, order_id: str) -> Void:
        return self._contended(lambda: self._void(order_id), f"void {order_id}")

    def refund(
        self,
        order_id: str,
        *,
        call: GatewayCall,
        payment_id: str | None = None,
        amount_minor: int | None = None,
    ) -> Refund:
        return self._recorded(
            order_id,
            "refund",
            call,
            lambda: self._refund(order_id, payment_id=payment_id, amount_minor=amount_minor),
        )

    def settle(self, order_id: str, *, call: GatewayCall) -> Settlement:
        return self._recorded(order_id, "settle", call, lambda: self._settle(order_id))

    def _recorded[Result: (Capture, Refund, Settlement)](
        self,
        order_id: str,
        operation: str,
        call: GatewayCall,
        run: Callable[[], tuple[Result, CallOutcome]],
    ) -> Result:
        """Run a money operation as one attempt of ``call``, recorded before it starts and once answered."""
        what = f"{operation} {order_id}"
        self._contended(lambda: self._calls.begin(order_id, operation, call), what)
        try:
            result, outcome = self._contended(run, what)
        except (PaymentDeclinedError, RefundRejectedError):
            self._contended(lambda: self._calls.answer(order_id, operation, call, CallOutcome.REFUSED), what)
            raise
        except PaymentGatewayUnavailableError:
            self._contended(
                lambda: self._calls.answer(order_id, operation, call, CallOutcome.UNAVAILABLE), what
            )
            raise
        self._contended(
            lambda: self._calls.answer(order_id, operation, call, outcome, result.amount_minor), what
        )
        return result

    def _contended[Result](self, operation: Callable[[], Result], what: str) -> Result:
        """Run an operation again from its first read while DynamoDB refuses its writes for contention."""
        try:
            return retry_contended(operation, backoff=self._backoff, what=what)
        except ContendedWriteError as error:
            # The processor is busy with this order: the state machine's Retry waits and asks again.
            raise PaymentGatewayUnavailableError(str(error)) from error
        except ClientError as error:
            if not is_transient(error):
                raise
            # Its table throttled past the SDK's retries (or a 5xx): unavailable for now, not a failed
            # payment; the state machine's Retry asks again after its back-off.
            raise PaymentGatewayUnavailableError(f"{what}: {describe(error)}") from error

    # --- the operations, once -------------------------------------------------------------------------
    def _authorize(self, order: Order) -> Authorization:
        existing = self._get(order.order_id, AUTHORIZE)
        if existing is None:
            return self._first_authorization(order)
        status = existing["status"]
        if status == AuthorizationStatus.DECLINED:
            raise PaymentDeclinedError(existing["message"])
        if status == AuthorizationStatus.VOIDED:
            # A voided hold holds no money, so a later payment attempt may authorize again.
            return self._reauthorize(order, existing)
        return _authorization(existing)

    def _capture(self, order_id: str) -> tuple[Capture, CallOutcome]:
        existing = self._get(order_id, CAPTURE)
        if existing is not None:
            return _capture(existing), CallOutcome.REPLAYED
        auth = self._get(order_id, AUTHORIZE)
        status = auth["status"] if auth else AuthorizationStatus.NONE
        if auth is None or status != AuthorizationStatus.AUTHORIZED:
            raise PaymentDeclinedError(f"order {order_id} has no open authorization to capture ({status})")
        item = {
            "orderId": order_id,
            "captureId": f"cap_{order_id}",
            "paymentId": auth["paymentId"],
            "authorizationId": auth["authorizationId"],
            "amountMinor": auth["amountMinor"],
            "currency": auth["currency"],
            "createdAt": _now(),
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": self._put_new_request(order_id, CAPTURE, item)},
                    {"Update": self._transition_request(order_id, auth, AuthorizationStatus.CAPTURED)},
                ]
            )
        except ClientError as error:
            if _code(error) not in _CONDITION_FAILED or is_contention(error):
                raise  # contention: capture() runs again from the first read
            replay = self._get(order_id, CAPTURE)
            if replay is None:
                raise PaymentGatewayUnavailableError(f"capture of {order_id} raced another call") from None
            return _capture(replay), CallOutcome.REPLAYED
        return _capture(item), CallOutcome.CAPTURED

    def _void(self, order_id: str) -> Void:
        auth = self._get(order_id, AUTHORIZE)
        if auth is None:
            return Void(order_id=order_id, voided=False, status=AuthorizationStatus.NONE)
        status = AuthorizationStatus(auth["status"])
        if status == AuthorizationStatus.AUTHORIZED:
            try:
                self._client.update_item(
                    **self._transition_request(order_id, auth, AuthorizationStatus.VOIDED),
                )
            except ClientError as error:
                if _code(error) not in _CONDITION_FAILED:
                    raise
                return self._void(order_id)  # it changed under us (captured or voided): report what it is now
            status = AuthorizationStatus.VOIDED
        return Void(
            order_id=order_id,
            voided=status == AuthorizationStatus.VOIDED,
            status=status,
            payment_id=auth.get("paymentId"),
        )

    def _refund(
        self, order_id: str, *, payment_id: str | None = None, amount_minor: int | None = None
    ) -> tuple[Refund, CallOutcome]:
        existing = self._get(order_id, REFUND)
        if existing is not None:
            if existing["status"] == "REJECTED":
                raise RefundRejectedError(existing["message"])
            return _refund(existing), CallOutcome.REPLAYED
        capture = self._get(order_id, CAPTURE)
        if capture is None:
            raise RefundRejectedError(f"order {order_id} has no captured payment to refund")
        if payment_id is not None and payment_id != capture["paymentId"]:
            raise RefundRejectedError(f"payment {payment_id} is not the capture of order {order_id}")
        captured = int(capture["amountMinor"])
        amount = captured if amount_minor is None else amount_minor
        if not 0 < amount <= captured:
            raise RefundRejectedError(f"refund of {amount} is outside the captured {captured}")
        auth = self._get(order_id, AUTHORIZE) or {}
        item: dict[str, Any] = {
            "orderId": order_id,
            "paymentId": capture["paymentId"],
            "amountMinor": amount,
            "createdAt": _now(),
        }
        if auth.get("paymentToken") == TOKEN_REFUND_FAILS:
            message = f"the issuer refused the refund of {order_id}"
            self._put_new(order_id, REFUND, {**item, "status": "REJECTED", "message": message})
            raise RefundRejectedError(message)
        item.update(status="REFUNDED", refundId=f"re_{order_id}")
        if not self._put_new(order_id, REFUND, item):
            return self._refund(order_id, payment_id=payment_id, amount_minor=amount_minor)
        return _refund(item), CallOutcome.REFUNDED

    def _settle(self, order_id: str) -> tuple[Settlement, CallOutcome]:
        # Void first: it releases an open hold and, by moving the authorization out of AUTHORIZED, makes
        # a capture still in flight (a payment execution not yet stopped) fail instead of taking money.
        # It also tells whether the money was already taken.
        released = self._void(order_id)
        if released.status == AuthorizationStatus.CAPTURED:
            # Replays an earlier refund (or its rejection): never twice.
            refund, outcome = self._refund(order_id)
            settlement = Settlement(
                order_id=order_id,
                outcome=SettlementOutcome.REFUNDED,
                amount_minor=refund.amount_minor,
                payment_id=refund.payment_id,
                refund_id=refund.refund_id,
            )
            return settlement, outcome
        if released.voided:
            voided = Settlement(
                order_id=order_id,
                outcome=SettlementOutcome.VOIDED,
                amount_minor=0,
                payment_id=released.payment_id,
            )
            return voided, CallOutcome.VOIDED
        nothing = Settlement(order_id=order_id, outcome=SettlementOutcome.NOTHING_HELD, amount_minor=0)
        return nothing, CallOutcome.NOTHING_HELD

    # --- authorize helpers --------------------------------------------------------------------------
    def _first_authorization(self, order: Order) -> Authorization:
        token = order.payment_token
        if token == TOKEN_FLAKY and self._put_new(order.order_id, OUTAGE, {"createdAt": _now()}):
            raise PaymentGatewayUnavailableError("the processor timed out (sandbox: first attempt)")
        item: dict[str, Any] = {
            "orderId": order.order_id,
            "paymentToken": token,
            "amountMinor": order.amount_minor,
            "currency": order.currency,
            "createdAt": _now(),
        }
        if token not in APPROVED_TOKENS:
            message = "the card was declined" if token == TOKEN_DECLINED else f"unknown test token {token!r}"
            self._put_new(order.order_id, AUTHORIZE, {**item, "status": "DECLINED", "message": message})
            raise PaymentDeclinedError(message)
        item.update(
            status=AuthorizationStatus.AUTHORIZED.value,
            paymentId=f"pay_{order.order_id}",
            authorizationId=f"auth_{order.order_id}_1",
            authorizationNumber=1,
        )
        if not self._put_new(order.order_id, AUTHORIZE, item):
            return self._authorize(order)  # a concurrent call got there first: return its result
        return _authorization(item)

    def _reauthorize(self, order: Order, voided: dict[str, Any]) -> Authorization:
        number = int(voided["authorizationNumber"]) + 1
        item = {
            **voided,
            "status": AuthorizationStatus.AUTHORIZED.value,
            "authorizationId": f"auth_{order.order_id}_{number}",
            "authorizationNumber": number,
            "amountMinor": order.amount_minor,
            "currency": order.currency,
            "createdAt": _now(),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_serialize({**item, **_key(order.order_id, AUTHORIZE)}),
                ConditionExpression="#status = :voided AND authorizationNumber = :previous",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_serialize({":voided": "VOIDED", ":previous": number - 1}),
            )
        except ClientError as error:
            if _code(error) not in _CONDITION_FAILED:
                raise
            return self._authorize(order)
        return _authorization(item)

    # --- storage ------------------------------------------------------------------------------------
    def _get(self, order_id: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=_serialize(_key(order_id, sk)), ConsistentRead=True
        )
        item = response.get("Item")
        return _deserialize(item) if item else None

    def _put_new_request(self, order_id: str, sk: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": _serialize({**item, **_key(order_id, sk)}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def _put_new(self, order_id: str, sk: str, item: dict[str, Any]) -> bool:
        """Write the item unless one exists under its key; False when one did."""
        try:
            self._client.put_item(**self._put_new_request(order_id, sk, item))
        except ClientError as error:
            if _code(error) not in _CONDITION_FAILED:
                raise
            return False
        return True

    def _transition_request(
        self, order_id: str, auth: dict[str, Any], to: AuthorizationStatus
    ) -> dict[str, Any]:
        """Move an open authorization to ``to``, only if it is still the one we read."""
        return {
            "TableName": self._table,
            "Key": _serialize(_key(order_id, AUTHORIZE)),
            "UpdateExpression": "SET #status = :to, updatedAt = :at",
            "ConditionExpression": "#status = :open AND authorizationId = :id",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": _serialize(
                {":to": to.value, ":at": _now(), ":open": "AUTHORIZED", ":id": auth["authorizationId"]}
            ),
        }


def _key(order_id: str, sk: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": sk}


def _serialize(values: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.serialize_item(values)


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.deserialize_item(item)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _now() -> str:
    return clock.now().isoformat()


def _authorization(item: dict[str, Any]) -> Authorization:
    return Authorization(
        order_id=item["orderId"],
        payment_id=item["paymentId"],
        authorization_id=item["authorizationId"],
        amount_minor=int(item["amountMinor"]),
        currency=item["currency"],
    )


def _capture(item: dict[str, Any]) -> Capture:
    return Capture(
        order_id=item["orderId"],
        payment_id=item["paymentId"],
        capture_id=item["captureId"],
        amount_minor=int(item["amountMinor"]),
        currency=item["currency"],
    )


def _refund(item: dict[str, Any]) -> Refund:
    return Refund(
        order_id=item["orderId"],
        payment_id=item["paymentId"],
        refund_id=item["refundId"],
        amount_minor=int(item["amountMinor"]),
    )
