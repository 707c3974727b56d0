"""What the inventory service needs deployed (read by the stack: workflow_core.deployment)."""

from workflow_core.deployment import ServiceNeeds, TableNeed

INVENTORY_TABLE_NAME = "INVENTORY_TABLE_NAME"

NEEDS = ServiceNeeds(
    handler="inventory.handler.lambda_handler",
    description="stock reservations and their release",
    tables=(TableNeed("Inventory", env=INVENTORY_TABLE_NAME),),
)
