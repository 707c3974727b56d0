"""Task Lambda of the payment and refund state machines: one card-processor operation per call.

Input ``{"operation": "authorize", "order": {...}}``, ``{"operation": "void", "orderId"}``,
``{"operation": "capture", "orderId", "call"}``, ``{"operation": "refund", "orderId", "call", "paymentId"?,
"amountMinor"?}`` or ``{"operation": "settle", "orderId", "call"}`` (give back whatever the processor
holds: refund a capture, void a hold); output the operation's result in camelCase. Errors surface by
class name for the state machine's ``Retry``/``Catch``; a request of another shape is
``InvalidTaskInputError``.

``call`` (``{"caller", "idempotencyKey"}``) says who asks for the money to move and under which key: the
state machines pass their execution's id and a key per order and operation, so their retries are one
call and another execution asking is another (docs/decisions/0037).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, TypeAdapter, ValidationError

from order_workflow.events import Order, OrderId
from payment.gateways import GatewayCall, GatewaySettings, PaymentGateway, build_gateway
from workflow_core import lazy, logs
from workflow_core.envelope import ContractModel
from workflow_core.errors import InvalidTaskInputError

# The order id the state machines pass is the subject's, so it is held to what an Order's id may be: an id
# of other characters (a lone surrogate, say) reached the processor's store and failed there, untyped.
RequestOrderId = Annotated[OrderId, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Call(ContractModel):
    caller: str = Field(min_length=1, description="who asks: a state machine's $$.Execution.Id")
    idempotency_key: str = Field(min_length=1, description="what the processor deduplicates on")

    def as_gateway_call(self) -> GatewayCall:
        return GatewayCall(caller=self.caller, idempotency_key=self.idempotency_key)


class AuthorizeRequest(ContractModel):
    operation: Literal["authorize"]
    order: Order


class CaptureRequest(ContractModel):
    operation: Literal["capture"]
    order_id: RequestOrderId
    call: Call


class VoidRequest(ContractModel):
    operation: Literal["void"]
    order_id: RequestOrderId


class RefundRequest(ContractModel):
    operation: Literal["refund"]
    order_id: RequestOrderId
    call: Call
    payment_id: str | None = Field(default=None, min_length=1, max_length=128)
    amount_minor: int | None = Field(default=None, gt=0)


class SettleRequest(ContractModel):
    operation: Literal["settle"]
    order_id: RequestOrderId
    call: Call


GatewayRequest = Annotated[
    AuthorizeRequest | CaptureRequest | VoidRequest | RefundRequest | SettleRequest,
    Field(discriminator="operation"),
]
_requests: TypeAdapter[GatewayRequest] = TypeAdapter(GatewayRequest)

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()
GATEWAY: PaymentGateway = build_gateway(GatewaySettings.from_env(), dynamodb_client=lazy.client("dynamodb"))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, gateway=GATEWAY)


def handle(event: Any, *, gateway: PaymentGateway) -> dict[str, Any]:
    try:
        request = _requests.validate_python(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise InvalidTaskInputError(f"the request does not match the contract: {problems}") from None
    order_id = request.order.order_id if isinstance(request, AuthorizeRequest) else request.order_id
    logger.append_keys(order_id=order_id, operation=request.operation)
    logger.set_correlation_id(order_id)  # the order id is the workflow's correlation id
    try:
        result = _run(request, gateway)
    except Exception as error:
        logger.warning("gateway refused", extra={"error_type": type(error).__name__, "error": str(error)})
        raise
    logger.info("gateway operation done", extra={"result": result})
    return result


def _run(request: GatewayRequest, gateway: PaymentGateway) -> dict[str, Any]:
    if isinstance(request, AuthorizeRequest):
        return gateway.authorize(request.order).to_payload()
    if isinstance(request, CaptureRequest):
        return gateway.capture(request.order_id, call=request.call.as_gateway_call()).to_payload()
    if isinstance(request, VoidRequest):
        return gateway.void(request.order_id).to_payload()
    if isinstance(request, SettleRequest):
        return gateway.settle(request.order_id, call=request.call.as_gateway_call()).to_payload()
    return gateway.refund(
        request.order_id,
        call=request.call.as_gateway_call(),
        payment_id=request.payment_id,
        amount_minor=request.amount_minor,
    ).to_payload()
