"""The order workflow: its declaration (every live version) and its event contracts."""

from order_workflow.declaration import (
    CARRIER_DESK,
    INVENTORY,
    NOTIFY,
    ORDER_WORKFLOW,
    ORDER_WORKFLOW_V2,
    PAYMENT,
    SHIPPING,
    SHIPPING_DECIDED,
)

__all__ = [
    "CARRIER_DESK",
    "INVENTORY",
    "NOTIFY",
    "ORDER_WORKFLOW",
    "ORDER_WORKFLOW_V2",
    "PAYMENT",
    "SHIPPING",
    "SHIPPING_DECIDED",
]
