"""What the preferences service needs deployed (read by the stack: workflow_core.deployment)."""

from workflow_core.deployment import ServiceNeeds, TableNeed

PROFILES_TABLE_NAME = "PROFILES_TABLE_NAME"

NEEDS = ServiceNeeds(
    handler="preferences.handler.lambda_handler",
    description="customer profiles and communication preferences",
    tables=(TableNeed("Profiles", env=PROFILES_TABLE_NAME),),
)
