"""Business validation of an order before any money moves."""

from __future__ import annotations

from collections import Counter
from typing import Any

from order_workflow.events import Order
from payment.errors import InvalidOrderError

SUPPORTED_CURRENCIES = frozenset({"EUR", "USD", "GBP"})


def validate_order(order: Order, *, currencies: frozenset[str] = SUPPORTED_CURRENCIES) -> dict[str, Any]:
    """Check totals, currency and lines; raise :class:`InvalidOrderError` listing every problem."""
    problems: list[str] = []
    if order.amount_minor <= 0:
        problems.append(f"amount must be positive, got {order.amount_minor}")
    lines_total = sum(line.quantity * line.unit_price_minor for line in order.items)
    if lines_total != order.amount_minor:
        problems.append(f"lines add up to {lines_total} but the order amount is {order.amount_minor}")
    if order.currency not in currencies:
        supported = ", ".join(sorted(currencies))
        problems.append(f"currency {order.currency} is not supported (supported: {supported})")
    repeated = sorted(sku for sku, count in Counter(line.sku for line in order.items).items() if count > 1)
    if repeated:
        problems.append(f"SKUs listed on more than one line: {', '.join(repeated)}")
    if problems:
        raise InvalidOrderError(f"order {order.order_id} is invalid: " + "; ".join(problems))
    return {"valid": True, "amountMinor": order.amount_minor, "currency": order.currency}
