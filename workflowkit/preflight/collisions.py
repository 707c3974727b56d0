"""Explicitly named resources that already exist in the account but not in this stack.

CloudFormation creates a named resource with its name and fails with "already exists" when something
has it: typically what an earlier stack of the same name retained when it was deleted
(``DeletionPolicy: Retain``), or a resource created by hand or by another stack. A resource of the
deployed stack, under the same logical id, is the stack's own and is updated in place; the same name
under another logical id is created anew before the old one is deleted, and collides too.
"""

from __future__ import annotations

import boto3

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.deployed import DeployedStack, describe_deployed
from workflowkit.preflight.identity import who_am_i
from workflowkit.preflight.names import NamedResource, named_resources

_RETAINED_FIX = (
    "retained: import it into the stack (npx cdk import), delete it after saving what it holds, "
    "or give it another name in the stack"
)
_OTHER_FIX = "not the stack's: delete it if nothing uses it, or give it another name in the stack"
_MOVED_FIX = "moved to another logical id: keep the old logical id, or give it another name"


class NameCollisionCheck(Check):
    name = "name-collisions"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        caller = who_am_i(session)
        named = named_resources(template, caller)
        if not named:
            return self.ok("the template names no resource explicitly")
        deployed = describe_deployed(session, template.stack_name)
        collisions = []
        for resource in named:
            verdict = _verdict(resource, deployed)
            if verdict is None:
                continue
            if resource.kind.probe(session, caller, resource.name, resource.scope):
                collisions.append((resource, verdict))
        retained = sum(1 for r in named if r.retained)
        if not collisions:
            return self.ok(
                f"{len(named)} named resources ({retained} retained on delete), none taken outside "
                f"{template.stack_name}"
            )
        details = [f"{r.label()} exists outside {template.stack_name}" for r, _ in collisions]
        fixes = [f"{r.label()}: {fix}" for r, fix in collisions]
        count = (
            "1 named resource already exists"
            if len(collisions) == 1
            else f"{len(collisions)} named resources already exist"
        )
        return self.failed(
            f"{count}:\n" + "\n".join(details),
            "\n".join(fixes),
        )


def _verdict(resource: NamedResource, deployed: DeployedStack | None) -> str | None:
    """None when the deployed stack owns the name under this logical id; else the fix if it is taken."""
    owned = deployed.owned() if deployed else []
    same = next((r for r in owned if r.logical_id == resource.logical_id), None)
    if same is not None and same.type == resource.type and same.holds(resource.name):
        return None
    if any(r.type == resource.type and r.holds(resource.name) for r in owned):
        return _MOVED_FIX
    return _RETAINED_FIX if resource.retained else _OTHER_FIX
