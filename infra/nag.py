"""Every cdk-nag acknowledgement of the kit, each scoped to the narrowest construct and carrying its reason.

Ids are ``<Pack>::<Rule>[<finding>]`` as cdk-nag 3 reports them in ``cdk.out/validation-report.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from infra.constructs.status_api import ROUTES

if TYPE_CHECKING:
    from infra.constructs.service_function import ServiceFunction
    from infra.stacks.workflow_stack import WorkflowStack

XRAY_AND_LOG_DELIVERY = (
    "X-Ray (PutTraceSegments, PutTelemetryRecords, sampling) and CloudWatch Logs vended-log delivery "
    "(CreateLogDelivery & co.) support no resource-level permissions: AWS requires Resource '*'. The actions "
    "are listed explicitly and nothing else in this policy uses a wildcard resource."
)
RUNTIME_PINNED = (
    "Python 3.13 is pinned on purpose: the Lambda runtime is the interpreter the tests and the local cloud "
    "run on (pyproject's requires-python, the toolchain's Python 3.13) and the AWS-managed Powertools layer "
    "build it resolves (python3.13, arm64); a newer runtime is adopted with the toolchain, not ahead of it "
    "(docs/decisions/0015-python-3-13-on-arm64.md)."
)
SYNC_ONLY = (
    "Invoked synchronously only (SQS event source mapping, Step Functions task, or API Gateway), never "
    "asynchronously: a Lambda DLQ would never receive anything. Failures go to the SQS queue's DLQ, "
    "the state machine's Catch, or the HTTP caller."
)
ESM_DESTINATION = (
    "SQS event source mappings do not support on-failure destinations (only stream and Kafka sources do); "
    "a message failing maxReceiveCount times moves to the queue's redrive DLQ, which is alarmed."
)
DLQ_IS_TERMINAL = (
    "This queue is itself a dead-letter queue (the end of the line): it has no DLQ of its own; it retains "
    "messages 14 days, is alarmed on depth > 0 and is redriven by an operator."
)
ROUTE_PARAMETER = (
    "The wildcard stands for the route's {workflowId} path parameter, a run-time value: the statement allows "
    "execute-api:Invoke on that one method and route of this API's $default stage, for any workflow id."
)
TARGET_DLQ = (
    "EventBridge target dead-letter queue (DeadLetterConfig of the rule target), not a redrive DLQ of "
    "another queue, so cdk-nag cannot see its role; it is alarmed on depth > 0."
)
SUBSCRIBER_REDRIVE = (
    "Subscribers come from configuration and are people or an operator webhook (email, email-json, SMS, "
    "HTTPS), not services that could consume a redrive queue; SNS retries each delivery per its delivery "
    "policy, failed notifications of the escalation and customer topics are alarmed "
    "(NumberOfNotificationsFailed), and an alarm whose notification failed stays visible in its history."
)
SCHEDULE_DLQ = (
    "EventBridge Scheduler dead-letter queue (DeadLetterConfig of every deadline schedule the controller "
    "creates at run time), not a redrive DLQ of another queue, so cdk-nag cannot see its role; it is alarmed "
    "on depth > 0."
)


def acknowledge(stack: WorkflowStack) -> None:
    functions: list[ServiceFunction] = [
        stack.controller.handler,
        *(consumer.handler for consumer in stack.consumers.values()),
        stack.payment_checks,
        stack.payment_gateway,
        stack.front_door,
    ]
    for service_function in functions:
        _ack(
            service_function.role.node.find_child("DefaultPolicy"),
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            XRAY_AND_LOG_DELIVERY,
        )
        _ack(service_function.function, "AwsSolutions::AwsSolutions-L1", RUNTIME_PINNED)
        _ack(service_function.function, "Serverless::Serverless-LambdaLatestVersion", RUNTIME_PINNED)
        _ack(service_function.function, "Serverless::Serverless-LambdaDLQ", SYNC_ONLY)

    for flow in stack.flows.values():
        _ack(
            flow.role.node.find_child("DefaultPolicy"),
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            XRAY_AND_LOG_DELIVERY,
        )
        if flow.target_dead_letter_queue is not None:
            _ack(flow.target_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", TARGET_DLQ)
            _ack(flow.target_dead_letter_queue, "Serverless::Serverless-SQSRedrivePolicy", DLQ_IS_TERMINAL)

    for shape in (stack.controller, *stack.consumers.values()):
        for child in shape.function.node.children:
            if child.node.id.startswith("SqsEventSource"):
                _ack(child, "Serverless::Serverless-LambdaEventSourceMappingDestination", ESM_DESTINATION)
        _ack(shape.target_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", TARGET_DLQ)
        for dlq in shape.dead_letter_queues:
            _ack(dlq, "Serverless::Serverless-SQSRedrivePolicy", DLQ_IS_TERMINAL)

    for subscription in stack.topics.subscriptions:
        _ack(subscription, "Serverless::Serverless-SNSRedrivePolicy", SUBSCRIBER_REDRIVE)

    controller = stack.controller
    _ack(controller.schedule_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", SCHEDULE_DLQ)
    _ack(controller.schedule_dead_letter_queue, "Serverless::Serverless-SQSRedrivePolicy", DLQ_IS_TERMINAL)
    _ack(
        controller.handler.role.node.find_child("DefaultPolicy"),
        f"AwsSolutions::AwsSolutions-IAM5[Resource::{_as_nag_renders(stack, controller.schedule_arns)}]",
        "The controller creates and deletes one schedule per running workflow step, named at run time; the "
        "wildcard is confined to the stage's own schedule group.",
    )
    executions = _as_nag_renders(stack, controller.payment_execution_arns)
    _ack(
        controller.handler.role.node.find_child("DefaultPolicy"),
        f"AwsSolutions::AwsSolutions-IAM5[Resource::{executions}]",
        "The controller stops a running payment attempt (states:StopExecution only) before compensating or "
        "superseding it; executions are named at run time, so the wildcard is the execution name under the "
        "payment state machine's own name.",
    )

    api = stack.api
    for policy, routes in (
        (api.order_client_policy, [r for r in ROUTES if not r.operator_only]),
        (api.operator_policy, list(ROUTES)),
    ):
        for route in routes:
            arn = _as_nag_renders(stack, api.route_arn(route))
            if "*" in arn:
                _ack(policy, f"AwsSolutions::AwsSolutions-IAM5[Resource::{arn}]", ROUTE_PARAMETER)


def _as_nag_renders(stack: Stack, value: str) -> str:
    """``value`` as cdk-nag prints it in finding ids: pseudo-parameter references become ``<AWS::Name>``."""
    resolved = stack.resolve(value)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in parts)


def _ack(scope: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
