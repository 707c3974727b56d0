"""Account quotas on how many of a resource type may exist, against what is there plus what the stack adds.

Each quota is one ``ResourceCountCheck``; its count and limit come from the service where it reports
both (IAM's account summary), else from a listing and Service Quotas with the documented default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import boto3

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.deployed import describe_deployed
from workflowkit.preflight.quotas import WARN_AT, Quota, QuotaSpec, quota_value, usage

# session -> (how many exist now, the quota)
Measure = Callable[[boto3.Session], tuple[int, Quota]]


@dataclass(frozen=True)
class ResourceCountCheck(Check):
    name: str
    resource_type: str
    noun: str
    measure: Measure
    quota_code: str | None = None

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        wanted = sum(1 for _ in template.of_type(self.resource_type))
        if not wanted:
            return self.ok(f"the template declares no {self.noun}")
        deployed = describe_deployed(session, template.stack_name)
        added = max(wanted - (deployed.count(self.resource_type) if deployed else 0), 0)
        existing, quota = self.measure(session)
        total = existing + added
        detail = f"{existing} exist + {added} new = {usage(total, quota.value)} (quota: {quota.source})"
        where = f"Service Quotas ({self.quota_code})" if self.quota_code else "Service Quotas / AWS Support"
        fix = f"delete unused {self.noun}s, or request a higher quota in {where}"
        if total > quota.value:
            return self.failed(detail, fix)
        if total > WARN_AT * quota.value:
            return self.warning(detail, fix)
        return self.ok(detail)


def _iam_summary(count_key: str, quota_key: str) -> Measure:
    def measure(session: boto3.Session) -> tuple[int, Quota]:
        summary = session.client("iam").get_account_summary()["SummaryMap"]
        return int(summary[count_key]), Quota(int(summary[quota_key]), f"IAM GetAccountSummary {quota_key}")

    return measure


def _listed(service: str, operation: str, key: str, spec: QuotaSpec) -> Measure:
    def measure(session: boto3.Session) -> tuple[int, Quota]:
        pages = session.client(service).get_paginator(operation).paginate()
        return sum(len(page[key]) for page in pages), quota_value(session, spec)

    return measure


DYNAMODB_TABLES = QuotaSpec(
    title="DynamoDB tables per region",
    service_code="dynamodb",
    quota_code="L-F98FE922",
    default=2500,
    documented_at="docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
)
STATE_MACHINES = QuotaSpec(
    title="Step Functions registered state machines",
    service_code=None,
    quota_code=None,
    default=100_000,
    documented_at="docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html",
)
SCHEDULE_GROUPS = QuotaSpec(
    title="EventBridge Scheduler schedule groups",
    service_code=None,
    quota_code=None,
    default=500,
    documented_at="docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-group.html",
)


def resource_count_checks() -> list[ResourceCountCheck]:
    return [
        ResourceCountCheck(
            name="iam-roles",
            resource_type="AWS::IAM::Role",
            noun="IAM role",
            measure=_iam_summary("Roles", "RolesQuota"),
            quota_code="L-FE177D64",
        ),
        ResourceCountCheck(
            name="iam-managed-policies",
            resource_type="AWS::IAM::ManagedPolicy",
            noun="customer managed policy",
            measure=_iam_summary("Policies", "PoliciesQuota"),
        ),
        ResourceCountCheck(
            name="dynamodb-tables",
            resource_type="AWS::DynamoDB::Table",
            noun="DynamoDB table",
            measure=_listed("dynamodb", "list_tables", "TableNames", DYNAMODB_TABLES),
            quota_code=DYNAMODB_TABLES.quota_code,
        ),
        ResourceCountCheck(
            name="state-machines",
            resource_type="AWS::StepFunctions::StateMachine",
            noun="state machine",
            measure=_listed("stepfunctions", "list_state_machines", "stateMachines", STATE_MACHINES),
        ),
        ResourceCountCheck(
            name="schedule-groups",
            resource_type="AWS::Scheduler::ScheduleGroup",
            noun="schedule group",
            measure=_listed("scheduler", "list_schedule_groups", "ScheduleGroups", SCHEDULE_GROUPS),
        ),
    ]
