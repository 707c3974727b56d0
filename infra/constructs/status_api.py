"""The IAM-authorised HTTP API before the front-door Lambda: start workflows, read status, send commands,
decide callback steps.

One IAM authorizer serves every route, so who may call what is the caller's IAM policy: the stack offers
managed policies, each ``execute-api:Invoke`` on exactly its routes of the ``$default`` stage:
``ClientPolicy`` (start a deployed workflow, read status), ``WorkflowOperatorPolicy`` (also the operator
commands) and, per approvers group a deployed declaration names (``Callback.approvers``), an approver
policy granting only the callback routes of the steps that group decides (``POST
/workflows/*/steps/<step>/complete`` and ``/reject``). ``POST /start/{workflowType}`` is granted per deployed
workflow type (``POST/start/<name>``), so a policy never admits a type the stage does not run; the
callback routes per step the same way, and to approvers only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

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
from infra.constructs.naming import camel, physical

PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
WORKFLOW_TYPE = "workflowType"  # the path parameter naming a deployed workflow
STEP = "step"  # the path parameter naming a callback step

# Who a route is for: clients (and operators), operators only, or the approvers of the step it names.
Audience = Literal["client", "operator", "approver"]


@dataclass(frozen=True)
class Route:
    path: str
    method: apigwv2.HttpMethod
    audience: Audience = "client"

    def arn_paths(self, values: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
        """The path as it appears in execute-api ARNs: each parameter ``values`` names once per value
        (``{workflowType}`` per deployed workflow type, ``{step}`` per step granted), any other any
        value (``*``)."""
        paths = [self.path]
        for parameter, choices in values.items():
            if f"{{{parameter}}}" in self.path:
                paths = [path.replace(f"{{{parameter}}}", choice) for path in paths for choice in choices]
        return tuple(PATH_PARAMETER.sub("*", path) for path in paths)


ROUTES: tuple[Route, ...] = (
    Route(f"/start/{{{WORKFLOW_TYPE}}}", apigwv2.HttpMethod.POST),
    Route("/workflows/{workflowId}", apigwv2.HttpMethod.GET),
    Route("/workflows/{workflowId}/commands", apigwv2.HttpMethod.POST, audience="operator"),
    Route("/workflows/{workflowId}/steps/{step}/complete", apigwv2.HttpMethod.POST, audience="approver"),
    Route("/workflows/{workflowId}/steps/{step}/reject", apigwv2.HttpMethod.POST, audience="approver"),
)
CLIENT_ROUTES = tuple(r for r in ROUTES if r.audience == "client")
OPERATOR_ROUTES = tuple(r for r in ROUTES if r.audience in ("client", "operator"))
APPROVER_ROUTES = tuple(r for r in ROUTES if r.audience == "approver")


class StatusApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        handler: lambda_.IFunction,
        workflow_types: Sequence[str],
        # approvers group -> the callback steps it decides (``infra.callback_plan``): one policy each.
        approvers: Mapping[str, Sequence[str]],
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
            description="WorkflowKit: start workflows, workflow status, operator commands, decisions (SigV4)",
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
        self.client_policy = self._policy(
            "ClientPolicy",
            f"WorkflowKit {stage}: start workflows and read their status over the API",
            CLIENT_ROUTES,
        )
        self.operator_policy = self._policy(
            "WorkflowOperatorPolicy",
            f"WorkflowKit {stage}: start workflows, read status, operator commands over the API",
            OPERATOR_ROUTES,
        )
        # approvers group -> its policy: the callback routes of the steps it decides, nothing else.
        self.approver_policies: dict[str, iam.ManagedPolicy] = {
            group: self._policy(
                f"{camel(group)}ApproverPolicy",
                f"WorkflowKit {stage}: decide {', '.join(steps)} (callback routes) as {group}",
                APPROVER_ROUTES,
                steps=steps,
            )
            for group, steps in sorted(approvers.items())
        }

    def route_arns(self, route: Route, *, steps: Sequence[str] = ()) -> tuple[str, ...]:
        """The execute-api ARNs of ``route`` on the ``$default`` stage: one per workflow type, or per step,
        it takes."""
        values = {WORKFLOW_TYPE: self.workflow_types, STEP: tuple(steps)}
        return tuple(
            self.api.arn_for_execute_api(route.method.value, path, self.stage.stage_name)
            for path in route.arn_paths(values)
        )

    def _policy(
        self, construct_id: str, description: str, routes: Sequence[Route], *, steps: Sequence[str] = ()
    ) -> iam.ManagedPolicy:
        arns = [arn for route in routes for arn in self.route_arns(route, steps=steps)]
        policy = iam.ManagedPolicy(
            self,
            construct_id,
            description=description,
            statements=[iam.PolicyStatement(actions=["execute-api:Invoke"], resources=arns)],
        )
        for arn in arns:
            rendered = findings.as_rendered(self, arn)
            if "*" in rendered:
                findings.acknowledge(
                    policy, f"AwsSolutions::AwsSolutions-IAM5[Resource::{rendered}]", findings.ROUTE_PARAMETER
                )
        return policy

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
