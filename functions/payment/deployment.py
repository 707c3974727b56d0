"""What the payment service needs deployed (read by the stack: workflow_core.deployment).

Its flows (statemachines/payment.asl.json, refund.asl.json) call two task functions and write the
payments table directly; the ASL names them by placeholder.
"""

from workflow_core.deployment import ServiceNeeds, TableNeed, TaskFunction

PAYMENTS_TABLE_NAME = "PAYMENTS_TABLE_NAME"

NEEDS = ServiceNeeds(
    description="card payments and refunds (Step Functions Standard)",
    tables=(TableNeed("Payments", env=PAYMENTS_TABLE_NAME, sort_key="sk"),),
    task_functions=(
        TaskFunction(
            placeholder="ChecksFunctionArn",
            handler="payment.checks.lambda_handler",
            description="validation and fraud checks (Step Functions task)",
        ),
        TaskFunction(
            placeholder="GatewayFunctionArn",
            handler="payment.gateway.lambda_handler",
            description="card processor operations (Step Functions task)",
            environment={"PAYMENT_GATEWAY": "sandbox"},
            tables=("Payments",),
        ),
    ),
    table_substitutions={"PaymentsTableName": "Payments"},
)
