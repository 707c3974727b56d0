"""The IAM-authorised HTTP API before the front-door Lambda: submit orders, read status, send commands.

One IAM authorizer serves every route, so who may call what is the caller's IAM policy: the stack offers
two managed policies, ``OrderClientPolicy`` (orders and status) and ``WorkflowOperatorPolicy`` (also the
operator commands), each ``execute-api:Invoke`` on exactly its routes of the ``$default`` stage.
"""

from __future__ import annotations

import json
import re
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

from infra.constructs import defaults

PATH_PARAMETER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class Route:
    path: str
    method: apigwv2.HttpMethod
    operator_only: bool = False  # operator commands: not for order clients

    @property
    def arn_path(self) -> str:
        """The path as it appears in an execute-api ARN: each ``{parameter}`` is any value (``*``)."""
        return PATH_PARAMETER.sub("*", self.path)


ROUTES: tuple[Route, ...] = (
    Route("/orders", apigwv2.HttpMethod.POST),
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
        key: kms.IKey,
        log_removal_policy: RemovalPolicy,
        rate_limit: int = defaults.API_RATE_LIMIT,
        burst_limit: int = defaults.API_BURST_LIMIT,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"workflowkit-{stage}",
            description="WorkflowKit: orders, workflow status and operator commands (SigV4)",
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
        self.order_client_policy = iam.ManagedPolicy(
            self,
            "OrderClientPolicy",
            description=f"WorkflowKit {stage}: submit orders and read workflow status over the API",
            statements=[self._invoke([r for r in ROUTES if not r.operator_only])],
        )
        self.operator_policy = iam.ManagedPolicy(
            self,
            "WorkflowOperatorPolicy",
            description=f"WorkflowKit {stage}: orders, workflow status and operator commands over the API",
            statements=[self._invoke(list(ROUTES))],
        )

    def route_arn(self, route: Route) -> str:
        """The execute-api ARN of ``route`` on the ``$default`` stage."""
        return self.api.arn_for_execute_api(route.method.value, route.arn_path, self.stage.stage_name)

    def _invoke(self, routes: list[Route]) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["execute-api:Invoke"], resources=[self.route_arn(route) for route in routes]
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
