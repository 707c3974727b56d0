"""Stock items (``pk=SKU#<sku>``): seeding by tests, the demo and operators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SKU_PREFIX = "SKU#"


def sku_pk(sku: str) -> str:
    return f"{SKU_PREFIX}{sku}"


def seed_stock(table: Any, stock: Mapping[str, int]) -> None:
    """Set the available quantity of each SKU, creating it if needed; reserved units are kept.

    The write is conditional: it creates a stock item or updates one, never overwrites another kind of
    item that happens to share the key. ``table`` is a boto3 DynamoDB ``Table`` resource.
    """
    for sku, quantity in stock.items():
        if not sku or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError(f"stock of {sku!r} must be a non-negative integer, not {quantity!r}")
    for sku, quantity in sorted(stock.items()):
        table.update_item(
            Key={"pk": sku_pk(sku)},
            UpdateExpression="SET sku = :sku, available = :q, reserved = if_not_exists(reserved, :zero)",
            ConditionExpression="attribute_not_exists(pk) OR attribute_exists(available)",
            ExpressionAttributeValues={":sku": sku, ":q": quantity, ":zero": 0},
        )


def read_stock(table: Any, sku: str) -> dict[str, int] | None:
    """``{"available": n, "reserved": m}`` of one SKU (strongly consistent), or None if unknown."""
    item = table.get_item(Key={"pk": sku_pk(sku)}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {"available": int(item["available"]), "reserved": int(item["reserved"])}
