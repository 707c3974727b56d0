"""The IAM-authorised HTTP API before the front-door Lambda: start workflows, read status, send commands.

One IAM authorizer serves every route, so who may call what is the caller's IAM policy: the stack offers
two managed policies, ``ClientPolicy`` (start a deployed workflow, read status) and
``WorkflowOperatorPolicy`` (also the operator commands), each ``execute-api:Invoke`` on exactly its routes
of the ``$default`` stage. ``POST /start/{workflowType}`` is granted per deployed workflow type
(``POST/start/<name>``), so a policy never admits a type the stage does not run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults, findings
from infra.constructs.naming import physical

PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
WORKFLOW_TYPE = "workflowType"  # the path parameter naming a deployed workflow


@dataclass(frozen=True)
class Route:
    path: str
    method: apigwv2.HttpMethod
    operator_only: bool = False  # operator commands: not for clients

    def arn_paths(self, workflow_types: Sequence[str]) -> tuple[str, ...]:
        """The path as it appears in execute-api ARNs: ``{workflowType}`` once per deployed workflow type,
        any other ``{parameter}`` any value (``*``)."""
        if f"{{{WORKFLOW_TYPE}}}" not in self.path:
            return (PATH_PARAMETER.sub("*", self.path),)
        return tuple(_filled(self.path, workflow_type) for workflow_type in workflow_types)


def _filled(path: str, workflow_type: str) -> str:
    return PATH_PARAMETER.sub(lambda m: workflow_type if m.group(1) == WORKFLOW_TYPE else "*", path)


ROUTES: tuple[Route, ...] = (
    Route(f"/start/{{{WORKFLOW_TYPE}}}", apigwv2.HttpMethod.POST),
    Route("/workflows/{workflowId}", apigwv2.HttpMethod.GET),
    Route("/workflows/{workflowId}/commands", apigwv2.HttpMethod.POST, operator_only=True),
)


class StatusApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        handler: lambda_.IFunction,
        workflow_types: Sequence[str],
        key: kms.IKey,
        log_removal_policy: RemovalPolicy,
        rate_limit: int = defaults.API_RATE_LIMIT,
        burst_limit: int = defaults.API_BURST_LIMIT,
    ) -> None:
        super().__init__(scope, construct_id)
        if not workflow_types:
            raise ValueError("the API starts deployed workflows: at least one workflow type is needed")
        self.workflow_types = tuple(workflow_types)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=physical(stage),
            description="WorkflowKit: start workflows, workflow status and operator commands (SigV4)",
            create_default_stage=False,
            default_authorizer=authorizers.HttpIamAuthorizer(),
        )
        integration = integrations.HttpLambdaIntegration("FrontDoor", handler)
        for route in ROUTES:
            self.api.add_routes(path=route.path, methods=[route.method], integration=integration)

        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            retention=defaults.LOG_RETENTION,
            encryption_key=key,
            removal_policy=log_removal_policy,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=_AccessLogs(self.access_log_group),
        )
        self.client_policy = iam.ManagedPolicy(
            self,
            "ClientPolicy",
            description=f"WorkflowKit {stage}: start workflows and read their status over the API",
            statements=[self._invoke([r for r in ROUTES if not r.operator_only])],
        )
        self.operator_policy = iam.ManagedPolicy(
            self,
            "WorkflowOperatorPolicy",
            description=f"WorkflowKit {stage}: start workflows, read status, operator commands over the API",
            statements=[self._invoke(list(ROUTES))],
        )
        for policy, routes in (
            (self.client_policy, [r for r in ROUTES if not r.operator_only]),
            (self.operator_policy, list(ROUTES)),
        ):
            for route in routes:
                for arn in self.route_arns(route):
                    rendered = findings.as_rendered(self, arn)
                    if "*" in rendered:
                        findings.acknowledge(
                            policy,
                            f"AwsSolutions::AwsSolutions-IAM5[Resource::{rendered}]",
                            findings.ROUTE_PARAMETER,
                        )

    def route_arns(self, route: Route) -> tuple[str, ...]:
        """The execute-api ARNs of ``route`` on the ``$default`` stage (one per workflow type it takes)."""
        return tuple(
            self.api.arn_for_execute_api(route.method.value, path, self.stage.stage_name)
            for path in route.arn_paths(self.workflow_types)
        )

    def _invoke(self, routes: list[Route]) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["execute-api:Invoke"],
            resources=[arn for route in routes for arn in self.route_arns(route)],
        )

    @property
    def url(self) -> str:
        return self.stage.url


# HTTP API context variables (REST-only ones such as resourcePath fail deployment of an HTTP API stage).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """JSON access logs (one object per request) into an encrypted log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))
