"""Reading a synthesized CDK app (``cdk.out``) and resolving CloudFormation intrinsics.

The local cloud builds what the template declares, so it needs the values CloudFormation would have
computed: physical names, ARNs, URLs. :class:`ResolvedTemplate` assigns each resource a deterministic
physical id (as CloudFormation does, ``<stack>-<LogicalId>-<suffix>``) unless the template names it,
and resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split`` and
``Fn::If`` over them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"


class TemplateError(Exception):
    """The cloud assembly or template cannot be read or resolved."""


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    metadata: Mapping[str, Any]


def find_stack_templates(cdk_out: Path) -> list[tuple[str, Path]]:
    """(stack name, template path) for every CloudFormation stack in the cloud assembly manifest."""
    manifest_path = cdk_out / "manifest.json"
    if not manifest_path.exists():
        raise TemplateError(f"{cdk_out} has no manifest.json: run 'make synth' (npx cdk synth) first")
    manifest = json.loads(manifest_path.read_text())
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_file = artifact["properties"]["templateFile"]
        stack_name = (
            artifact.get("properties", {}).get("stackName") or artifact.get("displayName") or artifact_id
        )
        stacks.append((stack_name, cdk_out / template_file))
    if not stacks:
        raise TemplateError(f"{manifest_path} lists no CloudFormation stack")
    return stacks


# What Ref returns per resource type: the physical id unless listed as an ARN.
_REF_IS_ARN = {
    "AWS::SNS::Topic",
    "AWS::StepFunctions::StateMachine",
    "AWS::IAM::ManagedPolicy",
}
_SERVICE_OF = {
    "AWS::DynamoDB::Table": ("dynamodb", "table/{name}"),
    "AWS::DynamoDB::GlobalTable": ("dynamodb", "table/{name}"),
    "AWS::SQS::Queue": ("sqs", "{name}"),
    "AWS::SNS::Topic": ("sns", "{name}"),
    "AWS::Events::EventBus": ("events", "event-bus/{name}"),
    "AWS::Events::Rule": ("events", "rule/{name}"),
    "AWS::Events::Archive": ("events", "archive/{name}"),
    "AWS::Lambda::Function": ("lambda", "function:{name}"),
    "AWS::StepFunctions::StateMachine": ("states", "stateMachine:{name}"),
    "AWS::IAM::Role": ("iam", "role/{name}"),
    "AWS::KMS::Key": ("kms", "key/{name}"),
    "AWS::Logs::LogGroup": ("logs", "log-group:{name}:*"),
    "AWS::Scheduler::ScheduleGroup": ("scheduler", "schedule-group/{name}"),
    "AWS::SQS::QueuePolicy": ("sqs", "{name}"),
}
# Properties that name a resource explicitly, per type.
_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::Archive": "ArchiveName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Scheduler::ScheduleGroup": "Name",
}


class ResolvedTemplate:
    """One stack's template with every intrinsic resolvable to a concrete value."""

    def __init__(
        self,
        *,
        stack_name: str,
        template: Mapping[str, Any],
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> None:
        self.stack_name = stack_name
        self.account = account
        self.region = region
        self.template = template
        self.resources: dict[str, Resource] = {
            logical_id: Resource(
                logical_id=logical_id,
                type=body["Type"],
                properties=body.get("Properties", {}),
                metadata=body.get("Metadata", {}),
            )
            for logical_id, body in template.get("Resources", {}).items()
        }
        self._conditions = template.get("Conditions", {})
        self._parameters = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self._physical: dict[str, str] = {}
        self._resolving: set[str] = set()

    @classmethod
    def load(cls, cdk_out: Path, *, account: str = ACCOUNT, region: str = REGION) -> list[ResolvedTemplate]:
        return [
            cls(stack_name=name, template=json.loads(path.read_text()), account=account, region=region)
            for name, path in find_stack_templates(cdk_out)
        ]

    # --- resources by type ------------------------------------------------------------------------
    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]

    def props(self, resource: Resource) -> dict[str, Any]:
        """The resource's properties with every intrinsic resolved."""
        resolved = self.resolve(dict(resource.properties))
        assert isinstance(resolved, dict)
        return resolved

    # --- identities -------------------------------------------------------------------------------
    def physical_id(self, logical_id: str) -> str:
        if logical_id in self._physical:
            return self._physical[logical_id]
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{self.stack_name}: no resource {logical_id!r}")
        name_prop = _NAME_PROPERTY.get(resource.type)
        if logical_id in self._resolving:
            raise TemplateError(f"{self.stack_name}: circular reference through {logical_id}")
        self._resolving.add(logical_id)
        try:
            explicit = resource.properties.get(name_prop) if name_prop else None
            name = str(self.resolve(explicit)) if explicit is not None else self._generated_name(resource)
        finally:
            self._resolving.discard(logical_id)
        self._physical[logical_id] = name
        return name

    def _generated_name(self, resource: Resource) -> str:
        digest = hashlib.sha256(f"{self.stack_name}/{resource.logical_id}".encode()).hexdigest()[:12].upper()
        stem = f"{self.stack_name}-{resource.logical_id}"
        limit = 64 if resource.type != "AWS::SQS::Queue" else 80
        name = f"{stem[: limit - 14]}-{digest}"
        fifo = resource.properties.get("FifoQueue") if resource.type == "AWS::SQS::Queue" else False
        if resource.type in (
            "AWS::DynamoDB::Table",
            "AWS::Lambda::Function",
            "AWS::StepFunctions::StateMachine",
        ):
            name = re.sub(r"[^A-Za-z0-9_-]", "-", name)
        return f"{name[:75]}.fifo" if fifo else name

    def arn(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        name = self.physical_id(logical_id)
        bus = resource.properties.get("EventBusName") if resource.type == "AWS::Events::Rule" else None
        if bus is not None:
            # A rule on a custom bus has the bus in its ARN (rule/<bus>/<rule>); queue policies match it.
            bus_name = str(self.resolve(bus)).rsplit("/", 1)[-1]
            if bus_name != "default":
                name = f"{bus_name}/{name}"
        service, pattern = _SERVICE_OF.get(resource.type, ("cloudformation", "{name}"))
        region = "" if service == "iam" else self.region  # IAM is global: no region in its ARNs
        return f"arn:{PARTITION}:{service}:{region}:{self.account}:{pattern.format(name=name)}"

    def queue_url(self, logical_id: str) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.physical_id(logical_id)}"

    def ref(self, logical_id: str) -> str:
        pseudo = self._pseudo(logical_id)
        if pseudo is not None:
            return pseudo
        if logical_id in self._parameters:
            return str(self._parameters[logical_id])
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{self.stack_name}: Ref to unknown {logical_id!r}")
        if resource.type in _REF_IS_ARN:
            return self.arn(logical_id)
        if resource.type == "AWS::SQS::Queue":
            return self.queue_url(logical_id)
        if resource.type == "AWS::Events::Rule":
            bus = resource.properties.get("EventBusName")
            name = self.physical_id(logical_id)
            return f"{self.resolve(bus)}|{name}" if bus else name
        return self.physical_id(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{self.stack_name}: GetAtt on unknown {logical_id!r}")
        if attribute in ("Arn", "TopicArn", "EventBusArn"):
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName", "TopicName", "TableName"):
            return self.physical_id(logical_id)
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        if attribute == "StreamArn":
            return f"{self.arn(logical_id)}/stream/2026-01-01T00:00:00.000"
        if attribute in ("RoleId", "KeyId"):
            return self.physical_id(logical_id)
        if attribute == "ApiEndpoint":
            return (
                f"https://{self.physical_id(logical_id).lower()[:10]}.execute-api.{self.region}.amazonaws.com"
            )
        return f"{self.physical_id(logical_id)}.{attribute}"

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local"
            ),
            "AWS::NoValue": "",
        }.get(name)

    # --- intrinsics --------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value if not _is_no_value(v)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        return {k: self.resolve(v) for k, v in value.items() if not _is_no_value(v)}

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition(self, name: str) -> bool:
        return bool(self._evaluate_condition(self._conditions[name]))

    def _evaluate_condition(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((key, arg),) = expression.items()
            if key == "Fn::Equals":
                left, right = (self._evaluate_condition(a) for a in arg)
                return left == right
            if key == "Fn::Not":
                return not self._evaluate_condition(arg[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(a) for a in arg)
            if key == "Fn::Or":
                return any(self._evaluate_condition(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(expression)


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}


def _get_att(template: ResolvedTemplate, arg: Any) -> str:
    if isinstance(arg, str):
        logical_id, attribute = arg.split(".", 1)
    else:
        logical_id, attribute = arg[0], template.resolve(arg[1])
    return template.get_att(logical_id, attribute)


def _join(template: ResolvedTemplate, arg: Any) -> str:
    delimiter, parts = arg
    return str(delimiter).join(str(p) for p in template.resolve(parts))


def _select(template: ResolvedTemplate, arg: Any) -> Any:
    index, values = arg
    return template.resolve(values)[int(template.resolve(index))]


def _split(template: ResolvedTemplate, arg: Any) -> list[str]:
    delimiter, text = arg
    return str(template.resolve(text)).split(delimiter)


def _if(template: ResolvedTemplate, arg: Any) -> Any:
    name, if_true, if_false = arg
    return template.resolve(if_true if template.condition(name) else if_false)


def _to_json_string(template: ResolvedTemplate, arg: Any) -> str:
    return json.dumps(template.resolve(arg), separators=(",", ":"))


_INTRINSICS: dict[str, Callable[[ResolvedTemplate, Any], Any]] = {
    "Ref": lambda t, arg: t.ref(arg),
    "Fn::GetAtt": _get_att,
    "Fn::Join": _join,
    "Fn::Sub": lambda t, arg: t._sub(arg),
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::ToJsonString": _to_json_string,
    "Fn::GetAZs": lambda t, arg: [f"{t.region}a", f"{t.region}b", f"{t.region}c"],
    "Fn::Base64": lambda t, arg: t.resolve(arg),
}
