"""What the shipping service needs deployed (read by the stack: workflow_core.deployment)."""

from workflow_core.deployment import ServiceNeeds, TableNeed

SHIPMENTS_TABLE_NAME = "SHIPMENTS_TABLE_NAME"

NEEDS = ServiceNeeds(
    handler="shipping.handler.lambda_handler",
    description="carrier bookings and their cancellation",
    tables=(TableNeed("Shipments", env=SHIPMENTS_TABLE_NAME),),
)
