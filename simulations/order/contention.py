"""Contention, checked against the stock records: an order refused for ``OUT_OF_STOCK`` found its shelf
short at that moment.

The inventory table is the stock ledger: each reservation (``RES#<orderId>``) says what it took and when
(``reservedAt``), and when it gave it back (``releasedAt``); the driver knows what went on each shelf. At
the moment of a refusal (the ``occurredAt`` of the ``InventoryReservationFailed`` the controller recorded)
what a SKU had left is what was stocked less what reservations held then. The refusal was earned when one
of the order's SKUs had less left than the order asked for. A reservation made or released at that very
moment counts as held: the ledger cannot tell which came first, so the refusal gets the benefit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflowkit.simulator import Statuses, Violation, in_sequence

INVENTORY = "inventory"
REFUSED = "InventoryReservationFailed"
OUT_OF_STOCK = "OUT_OF_STOCK"


@dataclass(frozen=True)
class Hold:
    """Units of one SKU a reservation held, from ``start`` until ``end`` (None: still held)."""

    sku: str
    quantity: int
    start: datetime
    end: datetime | None

    def held_at(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or self.end >= at)


def holds(inventory: Iterable[Mapping[str, Any]]) -> list[Hold]:
    """Every reservation's lines, from the inventory table's items (tombstones held nothing)."""
    found = []
    for item in inventory:
        if not str(item["pk"]).startswith("RES#") or "reservedAt" not in item:
            continue
        released = item.get("releasedAt")
        for line in item.get("items", []):
            found.append(
                Hold(
                    sku=str(line["sku"]),
                    quantity=int(line["quantity"]),
                    start=_time(item["reservedAt"]),
                    end=_time(released) if released else None,
                )
            )
    return found


def check_contention(
    inventory: Iterable[Mapping[str, Any]], statuses: Statuses, stocked: Mapping[str, int]
) -> list[Violation]:
    by_sku: dict[str, list[Hold]] = defaultdict(list)
    for hold in holds(inventory):
        by_sku[hold.sku].append(hold)
    violations = []
    for order_id, status in in_sequence(statuses):
        step = status.get("steps", {}).get(INVENTORY) or {}
        if step.get("status") != "FAILED" or step.get("reason") != OUT_OF_STOCK:
            continue
        refused_at = _refused_at(status)
        if refused_at is None:
            violations.append(Violation("contention", order_id, f"OUT_OF_STOCK, but no {REFUSED} recorded"))
            continue
        wanted = _wanted(status)
        left = {
            sku: stocked.get(sku, 0) - sum(h.quantity for h in by_sku[sku] if h.held_at(refused_at))
            for sku in wanted
        }
        if all(left[sku] >= quantity for sku, quantity in wanted.items()):
            shelf = ", ".join(f"{sku} {left[sku]} left of {wanted[sku]} asked" for sku in sorted(wanted))
            violations.append(
                Violation(
                    "contention", order_id, f"refused OUT_OF_STOCK at {refused_at.isoformat()}, but {shelf}"
                )
            )
    return violations


def _refused_at(status: Mapping[str, Any]) -> datetime | None:
    """When inventory refused the reservation: its outcome's ``occurredAt``, the latest if several."""
    moments = [
        _time(record["occurredAt"])
        for record in status.get("timeline", [])
        if record.get("detailType") == REFUSED and record.get("occurredAt")
    ]
    return max(moments) if moments else None


def _wanted(status: Mapping[str, Any]) -> dict[str, int]:
    wanted: dict[str, int] = defaultdict(int)
    for line in (status.get("subject") or {}).get("items", []):
        wanted[str(line["sku"])] += int(line["quantity"])
    return dict(wanted)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
