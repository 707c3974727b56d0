"""Which service integration patterns Step Functions accepts on which Task resources.

"Optimized integrations for Step Functions" lists, per integration, whether it supports Run a Job
(``.sync``) and Wait for Callback (``.waitForTaskToken``): the callback pattern is supported by the AWS
SDK integrations and by the optimised API Gateway, Bedrock, ECS, EKS, EventBridge, Lambda, SNS, SQS and
Step Functions integrations, and not by the others (the optimised DynamoDB integration among them); and
"Express Workflows do not support Run a Job (.sync) or Wait for Callback (.waitForTaskToken)".
CreateStateMachine refuses a definition that asks otherwise (InvalidDefinition, "The resource provided
... is not recognized"), so the parser does too, with :class:`InvalidDefinitionError`.
"""

from __future__ import annotations

from typing import Final

from workflowkit.asl.errors import InvalidDefinitionError

WAIT_FOR_TASK_TOKEN: Final = ".waitForTaskToken"
_PATTERNS: Final = (WAIT_FOR_TASK_TOKEN, ".sync:2", ".sync")
# The services whose optimised integration supports the callback pattern (aws-sdk: every action).
_CALLBACK_SERVICES: Final = frozenset(
    {"aws-sdk", "apigateway", "bedrock", "ecs", "eks", "events", "lambda", "sns", "sqs", "states"}
)


def split_pattern(resource: str) -> tuple[str, str]:
    """(the resource without its pattern suffix, the suffix or "" for request-response)."""
    pattern = next((suffix for suffix in _PATTERNS if resource.endswith(suffix)), "")
    return resource[: len(resource) - len(pattern)], pattern


def check_callback(state: str, resource: str, pattern: str, *, express: bool) -> None:
    """Raise InvalidDefinitionError for a ``.waitForTaskToken`` that Step Functions refuses."""
    if pattern != WAIT_FOR_TASK_TOKEN:
        return
    if express:
        raise InvalidDefinitionError(
            "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken'"
            " service integration",
            state=state,
            field="Resource",
        )
    parts = resource.split(":")
    # arn:<partition>:states:::<service>:<action>: only service integrations have patterns (a Lambda
    # function or an activity ARN with the suffix is no resource Step Functions knows).
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states" or parts[5] not in _CALLBACK_SERVICES:
        raise InvalidDefinitionError(
            f"SCHEMA_VALIDATION_FAILED: The resource provided {resource}{pattern} is not recognized. The"
            " value is not a valid resource ARN, or the resource is not available in this region.",
            state=state,
            field="Resource",
        )
