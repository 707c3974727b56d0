"""Physical names the template sets explicitly, resolved as CloudFormation will resolve them.

Only what can be known before the deploy resolves: literals, pseudo parameters, parameter defaults and
the explicit names of other resources. A name built from a generated one (``Fn::GetAtt`` of an unnamed
resource) is left out: CloudFormation makes it unique, so it cannot collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.identity import Caller
from workflowkit.preflight.probes import NAMED_TYPES, NamedType

# DeletionPolicy / UpdateReplacePolicy values that leave the resource behind when the stack lets go.
RETAIN = frozenset({"Retain", "RetainExceptOnCreate"})
_NAME_ATTRIBUTES = frozenset({"Name", "TableName", "QueueName", "TopicName", "LogGroupName"})


@dataclass(frozen=True)
class NamedResource:
    logical_id: str
    type: str
    name: str
    scope: str | None
    retained: bool
    kind: NamedType

    def label(self) -> str:
        where = f" on {self.scope}" if self.scope else ""
        return f"{self.kind.noun} {self.name!r}{where} ({self.logical_id})"


def named_resources(template: StackTemplate, caller: Caller) -> list[NamedResource]:
    """Every resource of a uniquely-named type whose name the template sets and that resolves."""
    found = []
    for logical_id, resource in template.resources.items():
        kind = NAMED_TYPES.get(str(resource.get("Type")))
        properties = resource.get("Properties", {})
        if kind is None or kind.name_property not in properties:
            continue
        name = resolve(template, properties[kind.name_property], caller)
        scope = None
        if kind.scope_property and kind.scope_property in properties:
            scope = resolve(template, properties[kind.scope_property], caller)
            if scope is None:
                continue  # scoped to a resource with a generated name: new, so nothing can collide
            scope = _name_of_arn(scope)
        if name is None:
            continue
        retained = resource.get("DeletionPolicy") in RETAIN or resource.get("UpdateReplacePolicy") in RETAIN
        found.append(NamedResource(logical_id, str(resource["Type"]), name, scope, retained, kind))
    return found


def explicit_name(template: StackTemplate, logical_id: str, caller: Caller) -> str | None:
    """The resource's name when the template sets it (and it resolves), else None."""
    resource = template.resources.get(logical_id, {})
    kind = NAMED_TYPES.get(str(resource.get("Type")))
    value = resource.get("Properties", {}).get(kind.name_property) if kind else None
    return resolve(template, value, caller) if value is not None else None


def resolve(template: StackTemplate, value: Any, caller: Caller) -> str | None:
    """A string CloudFormation will produce from ``value``, or None when it depends on the deploy."""
    if isinstance(value, str | int):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref":
        return _ref(template, str(argument), caller)
    if function == "Fn::GetAtt":
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return explicit_name(template, logical_id, caller) if attribute in _NAME_ATTRIBUTES else None
    if function == "Fn::Join":
        delimiter, parts = argument
        resolved = [resolve(template, part, caller) for part in parts]
        return None if None in resolved else str(delimiter).join(str(p) for p in resolved)
    if function == "Fn::Sub":
        return _sub(template, argument, caller)
    return None


def _ref(template: StackTemplate, name: str, caller: Caller) -> str | None:
    pseudo = {
        "AWS::AccountId": caller.account,
        "AWS::Region": caller.region,
        "AWS::Partition": caller.partition,
        "AWS::StackName": template.stack_name,
        "AWS::URLSuffix": "amazonaws.com.cn" if caller.partition == "aws-cn" else "amazonaws.com",
    }
    if name in pseudo:
        return pseudo[name]
    parameter = template.body.get("Parameters", {}).get(name)
    if parameter is not None:
        plain = not str(parameter.get("Type", "")).startswith("AWS::SSM::")
        return str(parameter["Default"]) if plain and "Default" in parameter else None
    return explicit_name(template, name, caller)


def _sub(template: StackTemplate, argument: Any, caller: Caller) -> str | None:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        key = match.group(1)
        if key.startswith("!"):
            return "${" + key[1:] + "}"
        value = (
            resolve(template, variables[key], caller)
            if key in variables
            else resolve(template, {"Fn::GetAtt": key.split(".", 1)} if "." in key else {"Ref": key}, caller)
        )
        unresolved = unresolved or value is None
        return value or ""

    result = re.sub(r"\$\{([^}]+)\}", replace, str(text))
    return None if unresolved else result


def _name_of_arn(value: str) -> str:
    """Event bus and schedule group properties take a name or an ARN; the name is what counts."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value
