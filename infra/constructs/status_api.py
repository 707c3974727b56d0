"""The IAM-authorised HTTP API before the front-door Lambda: submit orders, read status, send commands."""

from __future__ import annotations

import json

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults

ROUTES: tuple[tuple[str, apigwv2.HttpMethod], ...] = (
    ("/orders", apigwv2.HttpMethod.POST),
    ("/workflows/{workflowId}", apigwv2.HttpMethod.GET),
    ("/workflows/{workflowId}/commands", apigwv2.HttpMethod.POST),
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
        for path, method in ROUTES:
            self.api.add_routes(path=path, methods=[method], integration=integration)

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
