"""What the identity service needs deployed (read by the stack: workflow_core.deployment).

Its flows (statemachines/identity-verification.asl.json, review.asl.json) call one task function, the
verification provider, which keeps its checks in the verifications table. The review flow waits for a
decision (its task token goes into the kit's callbacks table, which the stack gives every flow of a
step with a callback) and files it with the customer's check in the verifications table.
"""

from workflow_core.deployment import ServiceNeeds, TableNeed, TaskFunction

VERIFICATIONS_TABLE_NAME = "VERIFICATIONS_TABLE_NAME"
IDENTITY_PROVIDER = "IDENTITY_PROVIDER"

NEEDS = ServiceNeeds(
    description="identity verification and the compliance review (Step Functions Standard)",
    tables=(TableNeed("Verifications", env=VERIFICATIONS_TABLE_NAME),),
    task_functions=(
        TaskFunction(
            placeholder="ProviderFunctionArn",
            handler="identity.verification.lambda_handler",
            description="identity verification provider (Step Functions task)",
            environment={IDENTITY_PROVIDER: "sandbox"},
            tables=("Verifications",),
        ),
    ),
    # The review flow files each decision with the customer's check (its KYC file).
    table_substitutions={"VerificationsTableName": "Verifications"},
)
