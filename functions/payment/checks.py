"""Task Lambda of the payment state machine: validate an order, or screen it for fraud.

Input ``{"operation": "validate" | "fraud", "order": {...}}``. Raises ``InvalidOrderError`` or
``FraudSuspectedError``, whose names the state machine catches, or ``InvalidTaskInputError`` for an input
of another shape; returns a small verdict otherwise.
No I/O: the same order always gets the same verdict.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from order_workflow.events import Order
from payment.errors import InvalidOrderError
from payment.fraud import screen_order
from payment.validation import validate_order
from workflow_core import lazy, logs
from workflow_core.errors import InvalidTaskInputError, TerminalError

OPERATIONS = ("validate", "fraud")

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event)


def handle(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidTaskInputError(f"the input must be a JSON object, got {type(event).__name__}")
    operation = event.get("operation")
    if operation not in OPERATIONS:
        raise InvalidTaskInputError(f"operation must be one of {OPERATIONS}, got {operation!r}")
    order = _order(event.get("order"))
    logger.append_keys(order_id=order.order_id, operation=operation)
    logger.set_correlation_id(order.order_id)  # the order id is the workflow's correlation id
    try:
        verdict = validate_order(order) if operation == "validate" else screen_order(order)
    except TerminalError as error:
        logger.warning("order rejected", extra={"error_type": type(error).__name__, "error": str(error)})
        raise
    logger.info("order accepted", extra={"verdict": verdict})
    return verdict


def _order(raw: Any) -> Order:
    try:
        return Order.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise InvalidOrderError(f"order does not match the contract: {problems}") from None
