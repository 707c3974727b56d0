"""Which carrier serves which destination: a small explicit table, not a service call.

A route books either automatically (the carrier's API confirms at once) or manually (the carrier
confirms out of band, later; see :meth:`shipping.shipments.ShippingService.confirm_shipment`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from order_workflow.events import Address


class Booking(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


@dataclass(frozen=True)
class CarrierRoute:
    carrier: str
    transit_days: int
    serves_po_boxes: bool = True
    booking: Booking = Booking.AUTOMATIC


# "PO Box 12", "P.O. Box", "Post Office Box", "Postfach 10 01", "Boîte postale", "Apartado de correos"
_PO_BOX = re.compile(
    r"\b(p\.?\s*o\.?\s*box|post\s+office\s+box|postfach|bo[iî]te\s+postale|apartado\s+de\s+correos)\b",
    re.IGNORECASE,
)


def is_po_box(address: Address) -> bool:
    return _PO_BOX.search(address.line1) is not None


class CarrierDirectory:
    """Country code -> route. A country that is not listed has no carrier."""

    def __init__(self, routes: Mapping[str, CarrierRoute]) -> None:
        self._routes = dict(routes)

    def route(self, country: str) -> CarrierRoute | None:
        return self._routes.get(country)

    def countries(self) -> tuple[str, ...]:
        return tuple(sorted(self._routes))


DEFAULT_CARRIERS = CarrierDirectory(
    {
        "DE": CarrierRoute("DHL", transit_days=2),
        "FR": CarrierRoute("Colissimo", transit_days=3),
        "GB": CarrierRoute("Royal Mail", transit_days=2),
        "NL": CarrierRoute("PostNL", transit_days=2),
        "ES": CarrierRoute("Correos", transit_days=4),
        "IT": CarrierRoute("BRT", transit_days=4, serves_po_boxes=False),
        "US": CarrierRoute("UPS", transit_days=4, serves_po_boxes=False),
        "CA": CarrierRoute("Canada Post", transit_days=5),
        # Remote destinations: the carrier confirms each booking by hand, within the step's 24h SLA.
        "GL": CarrierRoute("Tusass", transit_days=10, booking=Booking.MANUAL),
        "IS": CarrierRoute("Iceland Post", transit_days=7, booking=Booking.MANUAL),
    }
)
