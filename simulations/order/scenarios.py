"""The order scenarios: named ways an order goes, each driven only by what a customer submits.

No scenario reaches into the system: each is an ordinary order whose payment token, items or address
lead the real services down one path (the sandbox gateway's test tokens, a sold-out SKU, a country
no carrier serves, a carrier that books by hand), plus, for a carrier that books by hand, what its desk
decides through the callback route (confirm, decline, or nothing at all).

Stock per SKU is far above any run's demand, so no scenario depends on contention: a run over several
processes (whose shards share no tables, hence no stock rows) ends every order as one process would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

SOLD_OUT_SKU = "SKU-SOLDOUT"
STOCKED_SKUS = ("SKU-RED-MUG", "SKU-TEA-SAMPLER", "SKU-FRENCH-PRESS")
STOCK_PER_SKU = 1_000_000


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    payment_token: str
    country: str
    sold_out: bool
    expected_status: str
    expected_compensations: tuple[str, ...]
    # A manual booking: what the carrier desk decides on the shipping step (None: nobody answers).
    carrier_decision: Literal["complete", "reject"] | None = None


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("happy", "paid, reserved, shipped", "tok_visa", "DE", False, "COMPLETED", ()),
        Scenario(
            "declined",
            "the card is declined: nothing to undo",
            "tok_chargeDeclined",
            "DE",
            False,
            "FAILED",
            (),
        ),
        Scenario(
            "out_of_stock",
            "paid, then out of stock: refunded",
            "tok_visa",
            "FR",
            True,
            "COMPENSATED",
            ("payment",),
        ),
        Scenario(
            "shipping_failure",
            "paid and reserved, no carrier serves the address: released and refunded",
            "tok_visa",
            "AQ",
            False,
            "COMPENSATED",
            ("inventory", "payment"),
        ),
        Scenario(
            "timeout",
            "the carrier never confirms the booking: after 24 hours, cancelled, released, refunded",
            "tok_visa",
            "GL",
            False,
            "COMPENSATED",
            ("shipping", "inventory", "payment"),
        ),
        Scenario(
            "carrier_confirmed",
            "a carrier that books by hand: its desk confirms the booking through the callback route",
            "tok_visa",
            "GL",
            False,
            "COMPLETED",
            (),
            carrier_decision="complete",
        ),
        Scenario(
            "carrier_declined",
            "a carrier that books by hand declines the booking: released and refunded, the reason on record",
            "tok_visa",
            "IS",
            False,
            "COMPENSATED",
            ("inventory", "payment"),
            carrier_decision="reject",
        ),
        Scenario(
            "compensation_failure",
            "out of stock, and the refund is rejected: escalated to a human",
            "tok_refundFails",
            "NL",
            True,
            "NEEDS_ATTENTION",
            (),
        ),
    )
}

DEFAULT_MIX = {
    "happy": 65,
    "declined": 10,
    "out_of_stock": 10,
    "shipping_failure": 5,
    "carrier_confirmed": 5,
    "carrier_declined": 2,
    "timeout": 3,
}


def order_for(scenario: Scenario, order_id: str, *, lines: int = 2) -> dict[str, Any]:
    """The OrderSubmitted data (wire form) of one order that follows ``scenario``."""
    items: list[dict[str, Any]] = [
        {"sku": STOCKED_SKUS[i % len(STOCKED_SKUS)], "quantity": 1 + i % 2, "unitPriceMinor": 1250 + 100 * i}
        for i in range(lines)
    ]
    if scenario.sold_out:
        items.append({"sku": SOLD_OUT_SKU, "quantity": 1, "unitPriceMinor": 4200})
    return {
        "orderId": order_id,
        "customerId": f"cust-{order_id}",
        "items": items,
        "amountMinor": sum(i["quantity"] * i["unitPriceMinor"] for i in items),
        "currency": "EUR",
        "paymentToken": scenario.payment_token,
        "shippingAddress": {
            "line1": "1 Example Street",
            "city": "Example City",
            "postalCode": "12345",
            "country": scenario.country,
        },
    }


def initial_stock() -> dict[str, int]:
    return {**dict.fromkeys(STOCKED_SKUS, STOCK_PER_SKU), SOLD_OUT_SKU: 0}
