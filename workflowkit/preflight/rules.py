"""EventBridge rules per event bus: the rules already on each bus the stack uses, plus the stack's.

The quota is per bus and per account ("Number of rules", L-244521F2): 300 by default, 100 in af-south-1
and eu-south-1 (docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). A bus the stack names
may already carry rules of other stacks, or be left from an earlier one; the stack's own deployed rules
are replaced, not added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.deployed import describe_deployed
from workflowkit.preflight.errors import NOT_FOUND, error_code
from workflowkit.preflight.identity import Caller, who_am_i
from workflowkit.preflight.names import resolve
from workflowkit.preflight.quotas import WARN_AT, QuotaSpec, quota_value, usage

RULES_PER_BUS = QuotaSpec(
    title="EventBridge rules per event bus",
    service_code="events",
    quota_code="L-244521F2",
    default=300,
    regional_defaults=(("af-south-1", 100), ("eu-south-1", 100)),
    documented_at="docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
)
_NEW_BUS = " (new bus)"


class RulesPerBusCheck(Check):
    name = "eventbridge-rules-per-bus"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        caller = who_am_i(session)
        per_bus = Counter(
            _bus_of(template, props, caller) for _, props in template.of_type("AWS::Events::Rule")
        )
        if not per_bus:
            return self.ok("the template declares no EventBridge rule")
        quota = quota_value(session, RULES_PER_BUS)
        deployed = describe_deployed(session, template.stack_name)
        own = {r.physical_id.rsplit("|", 1)[-1] for r in (deployed.owned() if deployed else [])}
        rows, fullest = [], 0
        for bus, count in sorted(per_bus.items()):
            others = 0 if bus.endswith(_NEW_BUS) else len(set(_rules_on(session, bus)) - own)
            rows.append(f"{bus}: {count} + {others} others = {usage(count + others, quota.value)}")
            fullest = max(fullest, count + others)
        detail = f"{'; '.join(rows)} (quota: {quota.source})"
        fix = f"request more in Service Quotas ({RULES_PER_BUS.quota_code}), or move other rules off the bus"
        if fullest > quota.value:
            return self.failed(detail, fix)
        if fullest > WARN_AT * quota.value:
            return self.warning(detail, fix)
        return self.ok(detail)


def _bus_of(template: StackTemplate, props: Mapping[str, Any], caller: Caller) -> str:
    """The bus's name; a bus whose name CloudFormation generates is new, named by its logical id."""
    if "EventBusName" not in props:
        return "default"
    name = resolve(template, props["EventBusName"], caller)
    if name is None:
        reference = props["EventBusName"]
        logical_id = reference.get("Ref") or reference.get("Fn::GetAtt", ["?"])[0]
        return f"{logical_id}{_NEW_BUS}"
    return name.rsplit("/", 1)[-1]  # a name or an ARN


def _rules_on(session: boto3.Session, bus: str) -> list[str]:
    try:
        pages = session.client("events").get_paginator("list_rules").paginate(EventBusName=bus)
        return [rule["Name"] for page in pages for rule in page["Rules"]]
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return []
        raise
