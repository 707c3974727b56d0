"""Whether the stack of that name is in a state ``cdk deploy`` can update (or will re-create)."""

from __future__ import annotations

import boto3

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.deployed import USABLE, describe_deployed


class StackStateCheck(Check):
    name = "stack-state"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        name = template.stack_name
        stack = describe_deployed(session, name)
        if stack is None:
            return self.ok(f"no stack {name} yet: cdk deploy creates it")
        if stack.status in USABLE:
            return self.ok(f"{name} is {stack.status}: cdk deploy updates it")
        if stack.will_be_recreated:
            return self.warning(
                f"{name} is {stack.status} (its first create failed): cdk deploy deletes it and creates it "
                "again, so what it retained must not collide (see name-collisions)",
                "nothing to do if name-collisions is ok; else clear those first",
            )
        if stack.status.endswith("_IN_PROGRESS"):
            return self.failed(
                f"{name} is {stack.status}: another operation is running",
                "wait for it to finish (the console or describe-stacks shows when), then re-run",
            )
        if stack.status == "UPDATE_ROLLBACK_FAILED":
            return self.failed(
                f"{name} is {stack.status}: CloudFormation accepts no update until the rollback completes",
                f"fix what the stack events name, then aws cloudformation continue-update-rollback "
                f"--stack-name {name}",
            )
        return self.failed(
            f"{name} is {stack.status}",
            f"read its events (aws cloudformation describe-stack-events --stack-name {name}); "
            "delete it if it cannot recover, after checking what it retains",
        )
