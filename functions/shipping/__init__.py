"""The shipping service: books a carrier once stock is reserved, cancels the booking on request."""

from shipping.carriers import DEFAULT_CARRIERS, Booking, CarrierDirectory, CarrierRoute
from shipping.shipments import ShippingService

__all__ = ["DEFAULT_CARRIERS", "Booking", "CarrierDirectory", "CarrierRoute", "ShippingService"]
