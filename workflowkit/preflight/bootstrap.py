"""The CDK bootstrap: its version parameter, its CloudFormation stack and its asset bucket.

``cdk deploy`` reads ``/cdk-bootstrap/<qualifier>/version`` (the stack's ``BootstrapVersion`` parameter,
checked by its ``CheckBootstrapVersion`` rule), uploads the template and assets to the bootstrap
bucket, and deploys through the bootstrap roles of the ``CDKToolkit`` stack.
"""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError

from workflowkit.preflight.assembly import DEFAULT_QUALIFIER, StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.deployed import USABLE, describe_deployed
from workflowkit.preflight.errors import error_code
from workflowkit.preflight.identity import Caller, who_am_i
from workflowkit.preflight.probes import NAMED_TYPES


def bootstrap_command(template: StackTemplate, caller: Caller) -> str:
    qualifier = "" if template.qualifier == DEFAULT_QUALIFIER else f" --qualifier {template.qualifier}"
    return f"npx cdk bootstrap {caller.environment()}{qualifier}"


class BootstrapVersionCheck(Check):
    name = "cdk-bootstrap"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        required, parameter = template.required_bootstrap_version, template.bootstrap_parameter
        if required is None or parameter is None:
            return self.ok(f"{template.stack_name} requires no bootstrap version")
        caller = who_am_i(session)
        try:
            value = session.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        except ClientError as error:
            if error_code(error) != "ParameterNotFound":
                raise
            return self.failed(
                f"not bootstrapped: {parameter} does not exist in {caller.region}",
                bootstrap_command(template, caller),
            )
        if not str(value).isdigit():
            return self.failed(
                f"{parameter} is {value!r}, not a version", bootstrap_command(template, caller)
            )
        if int(value) < required:
            return self.failed(
                f"bootstrap version {value} ({parameter}); {template.stack_name} requires {required}",
                f"{bootstrap_command(template, caller)} (upgrades the bootstrap stack in place)",
            )
        return self.ok(f"version {value} >= {required} required ({parameter})")


class ToolkitStackCheck(Check):
    name = "cdk-toolkit-stack"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        caller = who_am_i(session)
        stack_name = template.toolkit_stack_name
        stack = describe_deployed(session, stack_name)
        if stack is None:
            return self.failed(
                f"no {stack_name} stack in {caller.region}",
                f"{bootstrap_command(template, caller)} (or set toolkitStackName in cdk.json "
                "if it was bootstrapped under another name)",
            )
        if stack.status.endswith("_IN_PROGRESS"):
            return self.warning(
                f"{stack_name} is {stack.status}", "wait for the bootstrap update to finish, then re-run"
            )
        if stack.status not in USABLE:
            fix = (
                f"aws cloudformation continue-update-rollback --stack-name {stack_name}, "
                f"then {bootstrap_command(template, caller)}"
                if stack.status == "UPDATE_ROLLBACK_FAILED"
                else f"delete the {stack_name} stack (keep its bucket if asked), then "
                f"{bootstrap_command(template, caller)}"
            )
            return self.failed(f"{stack_name} is {stack.status}", fix)
        missing = [
            bucket
            for bucket in (_substitute(b, caller) for b in template.asset_buckets)
            if not NAMED_TYPES["AWS::S3::Bucket"].probe(session, caller, bucket, None)
        ]
        if missing:
            # The stack still lists the bucket, so bootstrapping again changes nothing (aws-cdk#18261).
            return self.failed(
                f"{stack_name} is {stack.status} but its asset bucket {', '.join(missing)} is gone",
                f"delete the {stack_name} stack, then {bootstrap_command(template, caller)}",
            )
        count = len(template.asset_buckets)
        buckets = f", {count} asset bucket{'s' if count > 1 else ''} present" if count else ""
        return self.ok(f"{stack_name} {stack.status}{buckets}")


def _substitute(text: str, caller: Caller) -> str:
    return (
        text.replace("${AWS::AccountId}", caller.account)
        .replace("${AWS::Region}", caller.region)
        .replace("${AWS::Partition}", caller.partition)
    )
