"""The order workflow: its declaration and its event contracts."""

from order_workflow.declaration import INVENTORY, ORDER_WORKFLOW, PAYMENT, SHIPPING

__all__ = ["INVENTORY", "ORDER_WORKFLOW", "PAYMENT", "SHIPPING"]
