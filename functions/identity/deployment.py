"""What the identity service needs deployed (read by the stack: workflow_core.deployment).

Its flows (statemachines/identity-verification.asl.json, review.asl.json) call one task function, the
verification provider, which keeps its checks in the verifications table. The review flow only waits
for a decision: it writes its task token into the kit's callbacks table, which the stack gives every
flow of a step with a callback.
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
)
