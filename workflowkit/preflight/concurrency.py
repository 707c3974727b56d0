"""Lambda concurrency: what the stack reserves, and what its queue consumers start with.

Lambda keeps at least 100 of the account's concurrency unreserved, so a function's
``ReservedConcurrentExecutions`` fails to deploy when it would leave less. New accounts start far below
the 1,000 default (AWS: "New AWS accounts have reduced concurrency and memory quotas"), often at 10: the
deploy succeeds, then every SQS event-source mapping, which starts with five concurrent invocations
(or its ``ScalingConfig.MaximumConcurrency``), is throttled and messages drift towards their DLQs.
``GetAccountSettings`` is the limit Lambda enforces; the quota to raise is "Concurrent executions".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.deployed import describe_deployed

UNRESERVED_MINIMUM = 100  # docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
SQS_STARTING_CONCURRENCY = 5  # docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
QUOTA = "Service Quotas: AWS Lambda 'Concurrent executions' (L-B99A9384)"


class LambdaConcurrencyCheck(Check):
    name = "lambda-concurrency"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        limits = session.client("lambda").get_account_settings()["AccountLimit"]
        limit, unreserved = int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"])
        reserved = _reserved(template)
        asked = sum(reserved.values())
        held = _held_by_stack(session, template, reserved) if asked else 0
        reservable = unreserved + held - UNRESERVED_MINIMUM
        account = f"account limit {limit}, {unreserved} unreserved"
        if asked and asked > reservable:
            return self.failed(
                f"the stack reserves {asked} ({_listing(reserved)}); {account}, of which Lambda keeps "
                f"{UNRESERVED_MINIMUM} unreserved: at most {max(reservable, 0)} can be reserved",
                f"request at least {limit + asked - reservable} in {QUOTA}, or reserve less",
            )
        demand = _queue_demand(template, reserved)
        pool = unreserved + held - asked
        if pool < sum(demand.values()):
            return self.warning(
                f"{account}; the stack's {len(demand)} SQS consumers start at {sum(demand.values())} "
                f"concurrent invocations ({'+'.join(str(v) for v in demand.values())}) "
                f"and share {pool}: they will be throttled",
                f"request more in {QUOTA} (new accounts start low; AWS raises it with use), "
                "or set MaximumConcurrency on the event-source mappings",
            )
        needs = f"; the stack reserves {asked}" if asked else ""
        consumers = f", its SQS consumers start at {sum(demand.values())}" if demand else ""
        return self.ok(f"{account}{needs}{consumers}")


def _reserved(template: StackTemplate) -> dict[str, int]:
    return {
        logical_id: int(props["ReservedConcurrentExecutions"])
        for logical_id, props in template.of_type("AWS::Lambda::Function")
        if isinstance(props.get("ReservedConcurrentExecutions"), int)
    }


def _held_by_stack(session: boto3.Session, template: StackTemplate, reserved: Mapping[str, int]) -> int:
    """What the deployed stack's functions already reserve: the update moves it, it is not added."""
    deployed = describe_deployed(session, template.stack_name)
    if deployed is None:
        return 0
    client = session.client("lambda")
    held = 0
    for resource in deployed.owned():
        if resource.type == "AWS::Lambda::Function" and resource.logical_id in reserved:
            answer = client.get_function_concurrency(FunctionName=resource.physical_id)
            held += int(answer.get("ReservedConcurrentExecutions") or 0)
    return held


def _queue_demand(template: StackTemplate, reserved: Mapping[str, int]) -> dict[str, int]:
    """Starting concurrency of each SQS event-source mapping whose function draws on the shared pool."""
    demand = {}
    for logical_id, props in template.of_type("AWS::Lambda::EventSourceMapping"):
        if not _is_queue(template, props.get("EventSourceArn")) or _target(props) in reserved:
            continue
        maximum = props.get("ScalingConfig", {}).get("MaximumConcurrency")
        demand[logical_id] = int(maximum) if isinstance(maximum, int) else SQS_STARTING_CONCURRENCY
    return demand


def _is_queue(template: StackTemplate, source: Any) -> bool:
    if isinstance(source, str):
        return ":sqs:" in source
    if isinstance(source, dict) and "Fn::GetAtt" in source:
        target = source["Fn::GetAtt"]
        logical_id = target.split(".")[0] if isinstance(target, str) else target[0]
        return template.resources.get(logical_id, {}).get("Type") == "AWS::SQS::Queue"
    return False


def _target(props: Mapping[str, Any]) -> str | None:
    function = props.get("FunctionName")
    if isinstance(function, dict):
        if "Ref" in function:
            return str(function["Ref"])
        if "Fn::GetAtt" in function:
            return str(function["Fn::GetAtt"][0])
    return None


def _listing(values: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in sorted(values.items()))
