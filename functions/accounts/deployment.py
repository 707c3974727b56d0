"""What the accounts service needs deployed (read by the stack: workflow_core.deployment)."""

from workflow_core.deployment import ServiceNeeds, TableNeed

ACCOUNTS_TABLE_NAME = "ACCOUNTS_TABLE_NAME"

NEEDS = ServiceNeeds(
    handler="accounts.handler.lambda_handler",
    description="customer accounts: opening and closing",
    tables=(TableNeed("Accounts", env=ACCOUNTS_TABLE_NAME),),
)
