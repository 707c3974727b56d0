"""One Lambda function of the kit: shared code asset and layer, its own role and encrypted log group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from aws_cdk import CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults, findings


@dataclass(frozen=True)
class FunctionRuntime:
    """What every function of a stage shares: the one code asset, the Powertools layer, the key."""

    code: lambda_.Code
    layers: tuple[lambda_.ILayerVersion, ...]
    key: kms.IKey
    removal_policy: RemovalPolicy  # for what a function owns that holds data: its log group and queues
    log_level: str = defaults.LOG_LEVEL


class ServiceFunction(Construct):
    """A Python Lambda (``defaults.RUNTIME`` on ``defaults.ARCHITECTURE``) with X-Ray tracing, Powertools
    settings, and a least-privilege role.

    The role starts empty (no managed policies): it may write to its own log group and X-Ray, and
    whatever the composing stack grants it on top. The function acknowledges the cdk-nag findings every
    function of the kit has, for the reasons in ``findings``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        service: str,
        handler: str,
        environment: Mapping[str, str] | None = None,
        timeout: Duration = defaults.FUNCTION_TIMEOUT,
        memory_size: int = defaults.MEMORY_MB,
        description: str | None = None,
        # Reserved concurrent executions (compliance=strict; infra.compliance): none by default.
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.timeout = timeout
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=defaults.LOG_RETENTION,
            encryption_key=runtime.key,
            removal_policy=runtime.removal_policy,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"WorkflowKit {service} function",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=defaults.RUNTIME,
            architecture=defaults.ARCHITECTURE,
            code=runtime.code,
            handler=handler,
            layers=list(runtime.layers),
            role=self.role,
            log_group=self.log_group,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            description=description or f"WorkflowKit {service}",
            environment={
                # The retry mode the handlers' botocore clients use, pinned: the runtime's botocore, not
                # ours, runs in Lambda, and older ones default to legacy mode (other attempts, other
                # back-off). Standard is what the local cloud's retry loop runs (workflowkit/retries.py).
                "AWS_RETRY_MODE": "standard",
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": defaults.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": runtime.log_level,
                **(environment or {}),
            },
        )
        defaults.allow_redundant_depends_on(cast(CfnResource, self.function.node.default_child))
        # Tracing put the X-Ray statement into the role's default policy.
        findings.acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            findings.XRAY_AND_LOG_DELIVERY,
        )
        findings.acknowledge(self.function, "AwsSolutions::AwsSolutions-L1", findings.RUNTIME_PINNED)
        findings.acknowledge(
            self.function, "Serverless::Serverless-LambdaLatestVersion", findings.RUNTIME_PINNED
        )
        for rule in (
            "Serverless::Serverless-LambdaDLQ",
            "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
            "HIPAA.Security::HIPAA.Security-LambdaDLQ",
        ):
            findings.acknowledge(self.function, rule, findings.SYNC_ONLY)
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
            "PCI.DSS.321::PCI.DSS.321-LambdaInsideVPC",
            "HIPAA.Security::HIPAA.Security-LambdaInsideVPC",
        ):
            findings.acknowledge(self.function, rule, findings.NO_VPC)
