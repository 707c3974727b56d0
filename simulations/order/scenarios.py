"""The order scenarios: named ways an order goes, each driven only by what a customer submits.

No scenario reaches into the system: each is an ordinary order whose payment token, items or address
lead the real services down one path (the sandbox gateway's test tokens, a sold-out SKU, a country
no carrier serves, a carrier that books by hand), plus, for a carrier that books by hand, what its desk
decides through the callback route (confirm, decline, or nothing at all).

Stock is finite and contended. Orders are grouped by the number their id ends in: each run of
:data:`ORDERS_PER_SHELF` consecutive orders buys from one shelf, three SKUs with :data:`STOCK_PER_SKU`
units each (tens), and its orders' demand for the tea sampler is about that, so some find it empty
because the others took it. Such an order ends COMPENSATED for ``OUT_OF_STOCK`` (its payment refunded):
an ending every scenario that reserves stock accepts (:data:`CONTENDED`), which the order plug-in's
contention invariant checks against the stock records (the shelf really was short when it was refused).
A sharded run keeps each shelf's orders in one shard (:func:`shelf_of`), so they contend as in one
process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from workflowkit.simulator import Ending

SOLD_OUT_SKU = "SKU-SOLDOUT"
STOCKED_SKUS = ("SKU-RED-MUG", "SKU-TEA-SAMPLER", "SKU-FRENCH-PRESS")
STOCK_PER_SKU = 60  # units of each SKU on each shelf
ORDERS_PER_SHELF = 40  # consecutive orders that buy from one shelf
OUT_OF_STOCK = "OUT_OF_STOCK"
# How an order that reserves stock may end when others emptied its shelf first: refunded, nothing else
# undone (the reservation never happened), for that reason. Earned only if the shelf was short then.
CONTENDED = Ending("COMPENSATED", ("payment",), reason=OUT_OF_STOCK)


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

    @property
    def reserves_stock(self) -> bool:
        """Its payment goes through and its items are on the shelf: it takes stock others may want."""
        return not self.sold_out and self.expected_status != "FAILED"


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

# Every scenario, each with its weight.
DEFAULT_MIX = {
    "happy": 65,
    "declined": 10,
    "out_of_stock": 10,
    "shipping_failure": 5,
    "carrier_confirmed": 5,
    "carrier_declined": 2,
    "timeout": 3,
    "compensation_failure": 2,
}
# The other ending each scenario may honestly have: finding its shelf empty.
OTHER_ENDINGS = {name: (CONTENDED,) for name, scenario in SCENARIOS.items() if scenario.reserves_stock}


_NUMBER = re.compile(r"(\d+)$")


def shelf_of(order_id: str) -> int:
    """The shelf an order buys from: the number its id ends in, by :data:`ORDERS_PER_SHELF` (0 for an id
    with no number)."""
    found = _NUMBER.search(order_id)
    return int(found.group(1)) // ORDERS_PER_SHELF if found else 0


def shelf_skus(shelf: int) -> tuple[str, ...]:
    """The SKUs on a shelf: shelf 0 holds :data:`STOCKED_SKUS` themselves."""
    return STOCKED_SKUS if shelf == 0 else tuple(f"{sku}-{shelf:05d}" for sku in STOCKED_SKUS)


def shard_key(scenario: str, order_id: str) -> str:
    """Orders of one shelf run in one shard: they contend for its stock as in one process."""
    return f"shelf-{shelf_of(order_id)}"


def order_for(scenario: Scenario, order_id: str, *, lines: int = 2) -> dict[str, Any]:
    """The OrderSubmitted data (wire form) of one order that follows ``scenario``."""
    skus = shelf_skus(shelf_of(order_id))
    items: list[dict[str, Any]] = [
        {"sku": skus[i % len(skus)], "quantity": 1 + i % 2, "unitPriceMinor": 1250 + 100 * i}
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


def initial_stock(shelf: int = 0) -> dict[str, int]:
    """What goes on a shelf when its first order arrives (shelf 0 with the sold-out SKU, at 0)."""
    stock = dict.fromkeys(shelf_skus(shelf), STOCK_PER_SKU)
    return {**stock, SOLD_OUT_SKU: 0} if shelf == 0 else stock
