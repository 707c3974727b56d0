"""Defaults shared by every construct, in one place (merged under any props a caller passes)."""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

# Lambda: one runtime, one architecture, matching the Powertools layer and pyproject's requires-python.
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
MEMORY_MB = 512
FUNCTION_TIMEOUT = Duration.seconds(30)

# All functions share one code asset: the functions/ folder (docs/decisions/0002-one-code-asset.md).
CODE_DIRECTORY = "functions"
CODE_EXCLUDES = ("**/__pycache__", "**/*.pyc", "**/tests")

# The AWS-managed Powertools layer is resolved from its public SSM parameter for the exact pinned version
# (docs/decisions/0003-powertools-layer-from-ssm.md).
POWERTOOLS_SSM_PARAMETER = "/aws/service/powertools/python/x86_64/python3.11/{version}"
METRICS_NAMESPACE = "WorkflowKit"
LOG_LEVEL = "INFO"

# SQS: a message is retried this many times before it moves to the queue's DLQ.
MAX_RECEIVE_COUNT = 3
# AWS guidance: a queue feeding Lambda gets a visibility timeout of at least 6x the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
DLQ_RETENTION = Duration.days(14)
BATCH_SIZE = 10
MAX_BATCHING_WINDOW = Duration.seconds(1)

# EventBridge targets: how long and how often EventBridge retries delivery before the target DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(2)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
ARCHIVE_RETENTION = Duration.days(30)

# HTTP API stage throttling.
API_RATE_LIMIT = 50
API_BURST_LIMIT = 100


def removal_policy(*, retain: bool) -> RemovalPolicy:
    """Stateful data survives stack deletion except in throwaway stages."""
    return RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY


def powertools_layer_arn(version: str) -> str:
    """A CloudFormation dynamic reference to the public SSM parameter naming the layer of ``version``."""
    return "{{resolve:ssm:" + POWERTOOLS_SSM_PARAMETER.format(version=version) + "}}"


def allow_redundant_depends_on(resource: CfnResource) -> None:
    """Silence cfn-lint W3005 on ``resource``.

    CDK makes a function/state machine depend on its role *construct*, i.e. on the role and its default
    policy, so the policy exists before the first invocation; the role half of that DependsOn duplicates
    the GetAtt.
    """
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
