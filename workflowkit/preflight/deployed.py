"""The stack of that name as CloudFormation holds it now, if any: status and resources."""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
from botocore.exceptions import ClientError

from workflowkit.preflight.errors import error_code

# Stable states a stack can be updated from.
USABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
# The CDK CLI deletes a stack in this state and creates it again (a failed first create).
CREATION_FAILED = frozenset({"ROLLBACK_COMPLETE"})
_GONE = ("DELETE_COMPLETE", "DELETE_SKIPPED")


@dataclass(frozen=True)
class DeployedResource:
    logical_id: str
    type: str
    physical_id: str
    status: str

    def holds(self, name: str) -> bool:
        """Whether this resource is the one named ``name`` (ids are names, ARNs, URLs or ``bus|rule``)."""
        if self.status in _GONE:
            return False
        physical = self.physical_id
        return physical == name or physical.endswith((f"/{name}", f":{name}", f"|{name}"))


@dataclass(frozen=True)
class DeployedStack:
    name: str
    status: str
    resources: dict[str, DeployedResource] = field(default_factory=dict)

    @property
    def will_be_recreated(self) -> bool:
        return self.status in CREATION_FAILED

    def owned(self) -> list[DeployedResource]:
        """What ``cdk deploy`` will update in place (nothing, when it deletes and re-creates the stack)."""
        if self.will_be_recreated:
            return []
        return [r for r in self.resources.values() if r.status not in _GONE]

    def count(self, resource_type: str) -> int:
        return sum(1 for r in self.owned() if r.type == resource_type)


def describe_deployed(session: boto3.Session, stack_name: str) -> DeployedStack | None:
    """None when no live stack has that name. Lists every resource (DescribeStackResources stops at 100)."""
    cloudformation = session.client("cloudformation")
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            return None
        raise
    resources = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            resources[summary["LogicalResourceId"]] = DeployedResource(
                logical_id=summary["LogicalResourceId"],
                type=summary["ResourceType"],
                physical_id=summary.get("PhysicalResourceId", ""),
                status=summary["ResourceStatus"],
            )
    return DeployedStack(name=stack_name, status=stack["StackStatus"], resources=resources)
