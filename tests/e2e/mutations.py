"""Mutated copies of the synthesized app: the shipped template with one grant taken away (or one added).

The copy links every asset of the real ``cdk.out`` and rewrites only the stack template, so a test runs
the real handlers against exactly the permissions it wants to check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Template = dict[str, Any]


def mutated(cdk_out: Path, into: Path, change: Callable[[Template], None]) -> Path:
    """A copy of ``cdk_out`` at ``into`` whose stack template went through ``change``."""
    into.mkdir(parents=True)
    changed = 0
    for entry in cdk_out.iterdir():
        if entry.name.endswith(".template.json"):
            template = json.loads(entry.read_text())
            before = json.dumps(template, sort_keys=True)
            change(template)
            changed += json.dumps(template, sort_keys=True) != before
            (into / entry.name).write_text(json.dumps(template))
        else:
            os.symlink(entry.resolve(), into / entry.name)
    assert changed, "the mutation changed nothing: its selector no longer matches the template"
    return into


def resources(template: Template, cfn_type: str, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == cfn_type and logical_id.startswith(prefix):
            yield logical_id, resource


def document(resource: dict[str, Any]) -> dict[str, Any]:
    """The policy document of a policy resource, queue/topic policy or KMS key."""
    props = resource["Properties"]
    return props["KeyPolicy"] if "KeyPolicy" in props else props["PolicyDocument"]


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = document(resource)["Statement"]
    return found if isinstance(found, list) else [found]


def drop_statements(resource: dict[str, Any], unwanted: Callable[[dict[str, Any]], bool]) -> int:
    """Remove the statements ``unwanted`` selects; returns how many went."""
    kept = [s for s in statements(resource) if not unwanted(s)]
    removed = len(statements(resource)) - len(kept)
    document(resource)["Statement"] = kept
    return removed


def actions(statement: dict[str, Any]) -> list[str]:
    found = statement.get("Action", [])
    return found if isinstance(found, list) else [found]


def service_principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return services if isinstance(services, list) else [services]


def without_action(action: str) -> Callable[[dict[str, Any]], bool]:
    return lambda statement: statement.get("Effect") == "Allow" and action in actions(statement)


def allows_service(service: str) -> Callable[[dict[str, Any]], bool]:
    """Allow statements naming ``service`` (also as one element of a join, as CDK writes regional ones)."""

    def selects(statement: dict[str, Any]) -> bool:
        named = json.dumps(service_principals(statement))
        return statement.get("Effect") == "Allow" and service in named

    return selects
