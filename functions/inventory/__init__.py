"""The inventory service: reserves an order's stock when payment is processed, releases it on request."""

from inventory.reservations import InventoryService
from inventory.stock import seed_stock

__all__ = ["InventoryService", "seed_stock"]
