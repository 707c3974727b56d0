"""Creating the synthesized template's resources in moto.

Everything comes from the template: names, keys, queue attributes and redrive policies, rules and
their targets, state machine definitions with their substitutions, functions with their handler,
environment and timeout, event source mappings. Resource types that have no local behaviour
(alarms, dashboards, KMS keys, log groups, API Gateway stages) are skipped; encryption settings are
not reproduced locally.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflowkit.lambdas import FunctionSpec
from workflowkit.template import ResolvedTemplate, Resource, TemplateError

_EMPTY_ZIP: bytes


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# code runs in-process from the cdk.out asset folder\n")
    return buffer.getvalue()


_EMPTY_ZIP = _empty_zip()


@dataclass(frozen=True)
class EventSourceMapping:
    queue_arn: str
    function_name: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    enabled: bool
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # "/workflows/{workflowId}"
    function_name: str
    authorization: str
    api_id: str = ""


@dataclass
class BuiltApp:
    """What the local cloud needs beyond moto's own state."""

    functions: list[FunctionSpec] = field(default_factory=list)
    mappings: list[EventSourceMapping] = field(default_factory=list)
    routes: list[HttpRoute] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    templates: list[ResolvedTemplate] = field(default_factory=list)


class AppBuilder:
    def __init__(self, *, cdk_out: Path, clients: dict[str, Any]) -> None:
        self._cdk_out = cdk_out
        self._c = clients

    def build(self, templates: list[ResolvedTemplate]) -> BuiltApp:
        app = BuiltApp(templates=templates)
        for t in templates:
            self._roles(t)
            self._tables(t)
            self._queues(t)
            self._topics(t)
            self._buses(t)
            self._schedule_groups(t)
            app.functions += self._functions(t)
            self._state_machines(t)
            self._rules(t)
            self._archives(t)
            app.mappings += self._mappings(t)
            app.routes += self._routes(t)
            app.outputs.update(self._outputs(t))
        return app

    # --- identity ----------------------------------------------------------------------------------
    def _roles(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::IAM::Role"):
            props = t.props(r)
            self._c["iam"].create_role(
                RoleName=t.physical_id(r.logical_id),
                AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
            )

    # --- data ---------------------------------------------------------------------------------------
    def _tables(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            props = t.props(r)
            kwargs: dict[str, Any] = {
                "TableName": t.physical_id(r.logical_id),
                "KeySchema": props["KeySchema"],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            indexes = props.get("GlobalSecondaryIndexes")
            if indexes:
                kwargs["GlobalSecondaryIndexes"] = [
                    {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                    for index in indexes
                ]
            if props.get("StreamSpecification"):
                kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
            self._c["dynamodb"].create_table(**kwargs)

    def _queues(self, t: ResolvedTemplate) -> None:
        # Dead-letter queues first: a redrive policy must name a queue that exists.
        queues = t.of_type("AWS::SQS::Queue")
        queues.sort(key=lambda r: "RedrivePolicy" in r.properties)
        for r in queues:
            props = t.props(r)
            attributes: dict[str, str] = {}
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "ReceiveMessageWaitTimeSeconds",
            ):
                if key in props:
                    attributes[key] = str(props[key])
            if props.get("FifoQueue"):
                attributes["FifoQueue"] = "true"
                attributes["ContentBasedDeduplication"] = str(
                    bool(props.get("ContentBasedDeduplication"))
                ).lower()
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            self._c["sqs"].create_queue(QueueName=t.physical_id(r.logical_id), Attributes=attributes)

    def _topics(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::SNS::Topic"):
            self._c["sns"].create_topic(Name=t.physical_id(r.logical_id))

    # --- events ---------------------------------------------------------------------------------------
    def _buses(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::Events::EventBus"):
            self._c["events"].create_event_bus(Name=t.physical_id(r.logical_id))

    def _rules(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::Events::Rule"):
            props = t.props(r)
            bus = props.get("EventBusName", "default")
            name = t.physical_id(r.logical_id)
            kwargs: dict[str, Any] = {
                "Name": name,
                "EventBusName": bus,
                "State": props.get("State", "ENABLED"),
            }
            if "EventPattern" in props:
                kwargs["EventPattern"] = json.dumps(props["EventPattern"])
            if "ScheduleExpression" in props:
                kwargs["ScheduleExpression"] = props["ScheduleExpression"]
            self._c["events"].put_rule(**kwargs)
            targets = [_target(target) for target in props.get("Targets", [])]
            if targets:
                self._c["events"].put_targets(Rule=name, EventBusName=bus, Targets=targets)

    def _archives(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::Events::Archive"):
            props = t.props(r)
            kwargs: dict[str, Any] = {
                "ArchiveName": t.physical_id(r.logical_id),
                "EventSourceArn": props["SourceArn"],
            }
            if "EventPattern" in props:
                kwargs["EventPattern"] = json.dumps(props["EventPattern"])
            if "RetentionDays" in props:
                kwargs["RetentionDays"] = int(props["RetentionDays"])
            self._c["events"].create_archive(**kwargs)

    def _schedule_groups(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::Scheduler::ScheduleGroup"):
            self._c["scheduler"].create_schedule_group(Name=t.physical_id(r.logical_id))

    # --- compute --------------------------------------------------------------------------------------
    def _functions(self, t: ResolvedTemplate) -> list[FunctionSpec]:
        specs = []
        for r in t.of_type("AWS::Lambda::Function"):
            props = t.props(r)
            name = t.physical_id(r.logical_id)
            environment = {
                k: str(v) for k, v in (props.get("Environment", {}).get("Variables") or {}).items()
            }
            timeout = float(props.get("Timeout", 3))
            memory = int(props.get("MemorySize", 128))
            self._c["lambda"].create_function(
                FunctionName=name,
                Runtime=props.get("Runtime", "python3.11"),
                Role=props["Role"],
                Handler=props["Handler"],
                Code={"ZipFile": _EMPTY_ZIP},
                Timeout=int(timeout),
                MemorySize=memory,
                Environment={"Variables": environment},
            )
            specs.append(
                FunctionSpec(
                    name=name,
                    arn=t.arn(r.logical_id),
                    handler=props["Handler"],
                    code_dir=self._asset_dir(t, r),
                    environment=environment,
                    timeout_seconds=timeout,
                    memory_mb=memory,
                )
            )
        return specs

    def _asset_dir(self, t: ResolvedTemplate, r: Resource) -> Path:
        asset_path = r.metadata.get("aws:asset:path")
        if not asset_path:
            raise TemplateError(
                f"{t.stack_name}/{r.logical_id}: function has no local code asset (aws:asset:path)"
            )
        path = self._cdk_out / str(asset_path)
        if not path.is_dir():
            raise TemplateError(f"{path} is not a folder: is {self._cdk_out} a complete 'cdk synth' output?")
        return path

    def _state_machines(self, t: ResolvedTemplate) -> None:
        for r in t.of_type("AWS::StepFunctions::StateMachine"):
            props = t.props(r)
            definition = props.get("DefinitionString")
            if definition is None and "Definition" in props:
                definition = json.dumps(props["Definition"])
            if definition is None and "DefinitionS3Location" in props:
                # DefinitionBody.from_file: the ASL is a file asset, copied into cdk.out as asset.<key>.
                key = str(props["DefinitionS3Location"]["Key"])
                asset = self._cdk_out / f"asset.{key}"
                if not asset.is_file():
                    raise TemplateError(f"{t.stack_name}/{r.logical_id}: definition asset {asset} is missing")
                definition = asset.read_text()
            if definition is None:
                raise TemplateError(f"{t.stack_name}/{r.logical_id}: no inline definition")
            for key, value in (props.get("DefinitionSubstitutions") or {}).items():
                definition = definition.replace("${" + key + "}", str(value))
            self._c["stepfunctions"].create_state_machine(
                name=t.physical_id(r.logical_id),
                definition=definition,
                roleArn=props["RoleArn"],
                type=props.get("StateMachineType", "STANDARD"),
            )

    def _mappings(self, t: ResolvedTemplate) -> list[EventSourceMapping]:
        mappings = []
        for r in t.of_type("AWS::Lambda::EventSourceMapping"):
            props = t.props(r)
            source = props.get("EventSourceArn", "")
            if ":sqs:" not in source:
                continue
            function = str(props["FunctionName"]).split(":function:")[-1]
            scaling = props.get("ScalingConfig") or {}
            mappings.append(
                EventSourceMapping(
                    queue_arn=source,
                    function_name=function,
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                    enabled=bool(props.get("Enabled", True)),
                    maximum_concurrency=scaling.get("MaximumConcurrency"),
                )
            )
        return mappings

    def _routes(self, t: ResolvedTemplate) -> list[HttpRoute]:
        integrations = {r.logical_id: t.props(r) for r in t.of_type("AWS::ApiGatewayV2::Integration")}
        routes = []
        for r in t.of_type("AWS::ApiGatewayV2::Route"):
            props = t.props(r)
            method, _, path = str(props["RouteKey"]).partition(" ")
            target = str(props.get("Target", ""))
            integration_id = target.rsplit("/", maxsplit=1)[-1]
            integration = next(
                (i for logical, i in integrations.items() if t.physical_id(logical) == integration_id), None
            )
            if integration is None:
                continue
            function = str(integration.get("IntegrationUri", "")).split(":function:")[-1].split("/")[0]
            routes.append(
                HttpRoute(
                    method,
                    path,
                    function,
                    str(props.get("AuthorizationType", "NONE")),
                    api_id=str(props.get("ApiId", "")),
                )
            )
        return routes

    def _outputs(self, t: ResolvedTemplate) -> dict[str, str]:
        outputs = {}
        for name, output in t.template.get("Outputs", {}).items():
            try:
                outputs[name] = str(t.resolve(output["Value"]))
            except TemplateError:
                continue
        return outputs


def _target(target: dict[str, Any]) -> dict[str, Any]:
    """A template rule target as PutTargets takes it (same field names; drop what moto rejects)."""
    return {k: v for k, v in target.items() if v not in (None, "")}
