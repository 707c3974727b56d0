"""A rules-based fraud screen: each rule looks at the order alone, so the verdict is deterministic.

Rules flag what card processors' own risk engines commonly flag: tokens reported as compromised,
shipping to sanctioned destinations, unusually large baskets, guest checkouts above a limit, and many
units of one SKU (resale and card-testing patterns). Any hit rejects the order with every reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from order_workflow.events import Order
from payment.errors import FraudSuspectedError

GUEST_PREFIX = "guest-"


@dataclass(frozen=True)
class FraudRules:
    """Thresholds of the screen; defaults are the sandbox's, a deployment would tune them."""

    blocked_tokens: frozenset[str] = frozenset({"tok_chargeDeclinedFraudulent", "tok_riskLevelHighest"})
    blocked_countries: frozenset[str] = frozenset({"CU", "IR", "KP", "SY"})
    max_amount_minor: int = 1_000_000
    max_guest_amount_minor: int = 50_000
    max_lines: int = 20
    max_units_per_line: int = 25


def _blocked_token(rules: FraudRules, order: Order) -> str | None:
    return "payment token is on the block list" if order.payment_token in rules.blocked_tokens else None


def _sanctioned_destination(rules: FraudRules, order: Order) -> str | None:
    country = order.shipping_address.country
    return f"shipping to {country} is blocked" if country in rules.blocked_countries else None


def _amount_limit(rules: FraudRules, order: Order) -> str | None:
    if order.amount_minor > rules.max_amount_minor:
        return f"amount {order.amount_minor} exceeds the limit {rules.max_amount_minor}"
    return None


def _guest_amount_limit(rules: FraudRules, order: Order) -> str | None:
    if order.customer_id.startswith(GUEST_PREFIX) and order.amount_minor > rules.max_guest_amount_minor:
        return f"guest checkout of {order.amount_minor} exceeds {rules.max_guest_amount_minor}"
    return None


def _too_many_lines(rules: FraudRules, order: Order) -> str | None:
    if len(order.items) > rules.max_lines:
        return f"{len(order.items)} lines exceed the limit {rules.max_lines}"
    return None


def _bulk_units(rules: FraudRules, order: Order) -> str | None:
    bulk = sorted(line.sku for line in order.items if line.quantity > rules.max_units_per_line)
    return f"more than {rules.max_units_per_line} units of {', '.join(bulk)}" if bulk else None


Rule = Callable[[FraudRules, Order], "str | None"]  # the reason the order is suspect, or None

RULES: tuple[Rule, ...] = (
    _blocked_token,
    _sanctioned_destination,
    _amount_limit,
    _guest_amount_limit,
    _too_many_lines,
    _bulk_units,
)


def screen_order(order: Order, *, rules: FraudRules | None = None) -> dict[str, Any]:
    """Run every rule; raise :class:`FraudSuspectedError` with all hits, or return the accept verdict."""
    rules = rules or FraudRules()
    hits = [reason for rule in RULES if (reason := rule(rules, order))]
    if hits:
        raise FraudSuspectedError(f"order {order.order_id} rejected by the fraud screen: " + "; ".join(hits))
    return {"decision": "ACCEPT", "rulesEvaluated": len(RULES)}
