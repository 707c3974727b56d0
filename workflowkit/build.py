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
from collections.abc import Callable, Iterable
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


# Creation sequence: what a resource names must exist first (roles before functions, queues before rules).
CREATION_SEQUENCE = (
    "AWS::IAM::Role",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::Lambda::Function",
    "AWS::StepFunctions::StateMachine",
    "AWS::Events::Rule",
    "AWS::Events::Archive",
)


def in_creation_sequence(resources: Iterable[Resource]) -> list[Resource]:
    """The resources the local cloud creates in moto, in a sequence that creates each after what it names.

    Dead-letter queues come before the queues whose redrive policy names them.
    """
    rank = {kind: i for i, kind in enumerate(CREATION_SEQUENCE)}
    created = [r for r in resources if r.type in rank]
    return sorted(created, key=lambda r: (rank[r.type], "RedrivePolicy" in r.properties))


class AppBuilder:
    """Creates resources in moto (``create``) and reads what the local cloud runs them with (``describe``)."""

    def __init__(self, *, cdk_out: Path, clients: dict[str, Any]) -> None:
        self._cdk_out = cdk_out
        self._c = clients
        self._creators: dict[str, Callable[[ResolvedTemplate, Resource], None]] = {
            "AWS::IAM::Role": self._role,
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::Events::EventBus": self._bus,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::Lambda::Function": self._function,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Events::Rule": self._rule,
            "AWS::Events::Archive": self._archive,
        }

    def build(self, templates: list[ResolvedTemplate]) -> BuiltApp:
        for t in templates:
            for r in in_creation_sequence(t.resources.values()):
                self.create(t, r)
        return self.describe(templates)

    def create(self, t: ResolvedTemplate, r: Resource) -> None:
        """Create one resource in moto (types without local behaviour are skipped)."""
        creator = self._creators.get(r.type)
        if creator is not None:
            creator(t, r)

    def describe(self, templates: list[ResolvedTemplate]) -> BuiltApp:
        """What the local cloud runs the templates' resources with, beyond moto's own state."""
        app = BuiltApp(templates=templates)
        for t in templates:
            app.functions += [self.function_spec(t, r) for r in t.of_type("AWS::Lambda::Function")]
            app.mappings += self._mappings(t)
            app.routes += self._routes(t)
            app.outputs.update(self._outputs(t))
        return app

    # --- identity ----------------------------------------------------------------------------------
    def _role(self, t: ResolvedTemplate, r: Resource) -> None:
        props = t.props(r)
        self._c["iam"].create_role(
            RoleName=t.physical_id(r.logical_id),
            AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
        )

    # --- data ---------------------------------------------------------------------------------------
    def _table(self, t: ResolvedTemplate, r: Resource) -> None:
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

    def _queue(self, t: ResolvedTemplate, r: Resource) -> None:
        attributes = queue_attributes(t, r)
        props = t.props(r)
        if props.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(
                bool(props.get("ContentBasedDeduplication"))
            ).lower()
        self._c["sqs"].create_queue(QueueName=t.physical_id(r.logical_id), Attributes=attributes)

    def _topic(self, t: ResolvedTemplate, r: Resource) -> None:
        self._c["sns"].create_topic(Name=t.physical_id(r.logical_id))

    # --- events ---------------------------------------------------------------------------------------
    def _bus(self, t: ResolvedTemplate, r: Resource) -> None:
        self._c["events"].create_event_bus(Name=t.physical_id(r.logical_id))

    def _rule(self, t: ResolvedTemplate, r: Resource) -> None:
        self.put_rule(t, r)

    def put_rule(self, t: ResolvedTemplate, r: Resource) -> list[str]:
        """PutRule and PutTargets (create or update, as CloudFormation does); returns the target ids."""
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
        return [str(target["Id"]) for target in targets]

    def _archive(self, t: ResolvedTemplate, r: Resource) -> None:
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

    def _schedule_group(self, t: ResolvedTemplate, r: Resource) -> None:
        self._c["scheduler"].create_schedule_group(Name=t.physical_id(r.logical_id))

    # --- compute --------------------------------------------------------------------------------------
    def _function(self, t: ResolvedTemplate, r: Resource) -> None:
        props = t.props(r)
        spec = self.function_spec(t, r)
        self._c["lambda"].create_function(
            FunctionName=spec.name,
            Runtime=props.get("Runtime", "python3.11"),
            Role=props["Role"],
            Handler=spec.handler,
            Code={"ZipFile": _EMPTY_ZIP},
            Timeout=int(spec.timeout_seconds),
            MemorySize=spec.memory_mb,
            Environment={"Variables": spec.environment},
        )

    def function_spec(self, t: ResolvedTemplate, r: Resource) -> FunctionSpec:
        """How the in-process runtime runs the function: handler, code asset folder, environment, limits."""
        props = t.props(r)
        return FunctionSpec(
            name=t.physical_id(r.logical_id),
            arn=t.arn(r.logical_id),
            handler=props["Handler"],
            code_dir=self._asset_dir(t, r),
            environment={k: str(v) for k, v in (props.get("Environment", {}).get("Variables") or {}).items()},
            timeout_seconds=float(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )

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

    def _state_machine(self, t: ResolvedTemplate, r: Resource) -> None:
        props = t.props(r)
        self._c["stepfunctions"].create_state_machine(
            name=t.physical_id(r.logical_id),
            definition=self.definition(t, r),
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )

    def definition(self, t: ResolvedTemplate, r: Resource) -> str:
        """A state machine's ASL as deployed: inline or from its file asset, substitutions applied."""
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
        return str(definition)

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


def queue_attributes(t: ResolvedTemplate, r: Resource) -> dict[str, str]:
    """A queue's attributes as SetQueueAttributes takes them (FIFO settings are fixed at creation)."""
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
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    return attributes


def _target(target: dict[str, Any]) -> dict[str, Any]:
    """A template rule target as PutTargets takes it (same field names; drop what moto rejects)."""
    return {k: v for k, v in target.items() if v not in (None, "")}
