"""cdk-nag acknowledgements: every reason of the kit in one place, acknowledged by the construct that
creates the resource the finding is about, on that resource (docs/decisions/0023).

Ids are ``<Pack>::<Rule>[<finding>]`` as cdk-nag 3 reports them in ``cdk.out/validation-report.json``.
This module imports no construct of the kit, so a construct can acknowledge its own findings without an
import cycle through a central module that knows every construct.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

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
    "asynchronously: a Lambda DLQ, like an on-failure destination, receives only failed asynchronous "
    "invocations and would never receive anything. Failures go to the SQS queue's DLQ, the state "
    "machine's Catch, or the HTTP caller."
)
NO_VPC = (
    "The function reaches only AWS regional endpoints (DynamoDB, EventBridge, SQS, SNS, Step Functions, "
    "EventBridge Scheduler, CloudWatch, X-Ray) over TLS with SigV4, each call allowed by its own least-"
    "privilege role and the stage key's policy; there is no private resource to reach (no database, cache "
    "or PrivateLink service), and the shipped sandbox integrations make no network call. A VPC would add "
    "no isolation to these calls and cost a NAT gateway or an interface endpoint per service and zone. It "
    "stops holding when a function must reach a private network (e.g. a processor over PrivateLink)."
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
UNROUTED_QUEUE = (
    "The unrouted-events queue is the end of the line, like a DLQ: EventBridge puts there the deployed "
    "workflows' events that carry no workflow context (no workflow's rule matches them); no function "
    "consumes it, so it has no redrive DLQ. It retains messages 14 days, is alarmed on depth > 0, and an "
    "operator replays or drops what it holds (docs/decisions/0023)."
)
SUBSCRIBER_REDRIVE = (
    "Subscribers come from configuration and are people or an operator webhook (email, email-json, SMS, "
    "HTTPS), not services that could consume a redrive queue; SNS retries each delivery per its delivery "
    "policy, failed notifications of the escalation and notices topics are alarmed "
    "(NumberOfNotificationsFailed), and an alarm whose notification failed stays visible in its history."
)
SCHEDULE_DLQ = (
    "EventBridge Scheduler dead-letter queue (DeadLetterConfig of every deadline schedule the controller "
    "creates at run time), not a redrive DLQ of another queue, so cdk-nag cannot see its role; it is alarmed "
    "on depth > 0."
)
SCHEDULES = (
    "The controller creates and deletes one schedule per running workflow step, named at run time; the "
    "wildcard is confined to the stage's own schedule group."
)
EXECUTIONS = (
    "The controller stops a running attempt of a state machine it started (states:StopExecution only) "
    "before compensating or superseding it; executions are named at run time, so the wildcard is the "
    "execution name under that one state machine's own name."
)


BACKUP_WILDCARDS = (
    "AWS Backup's role: DynamoDB names the backups it makes for AWS Backup at run time, under each selected "
    "table (<table>/backup/*), and AWS Backup tags the recovery points it creates, named at run time, in "
    "this account and region (recovery-point:*); tag:GetResources, which resolves the selection, supports "
    "no resource-level permissions. Every action is listed; nothing else in the policy is a wildcard."
)


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge the finding ``rule_id`` on ``scope`` (and only what is under it), with ``reason``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def as_rendered(scope: IConstruct, value: str) -> str:
    """``value`` as cdk-nag prints it in finding ids: a pseudo-parameter reference becomes ``<AWS::Name>``,
    an attribute of a resource ``<LogicalId.Attribute>``."""
    resolved = Stack.of(scope).resolve(value)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1] if "Fn::Join" in resolved else [resolved]
    return "".join(_rendered_part(part) for part in parts)


def _rendered_part(part: str | dict[str, Any]) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    logical_id, attribute = part["Fn::GetAtt"]
    return f"<{logical_id}.{attribute}>"
