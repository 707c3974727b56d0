"""Inline IAM policies as customer-managed policies, for stages whose packs forbid inline ones.

NIST 800-53 R5, PCI DSS and HIPAA (cdk-nag's IAMNoInlinePolicy, after AWS Config's iam-no-inline-policy-check)
want permissions in managed policies, which are versioned and can be reviewed and attached on their own.
The kit grants through ``Role.add_to_policy`` and CDK's own grants (an SQS event source, X-Ray tracing, a
rule's role), which all write a role's ``DefaultPolicy``: an ``AWS::IAM::Policy``.

``to_managed_policies`` swaps each such policy for an ``AWS::IAM::ManagedPolicy`` with the same document and
the same roles, created under the policy's own construct. So everything that depended on the inline policy
(a function, an event source mapping created only once its role may read the queue) depends on the managed
one, and every cdk-nag acknowledgement made on the policy applies to it. The document is the same object:
statements added after the swap land in the managed policy too.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

MANAGED_ID = "Managed"


def to_managed_policies(scope: IConstruct) -> list[iam.CfnManagedPolicy]:
    """Replace every inline policy of a role under ``scope`` with a managed one; the created policies.

    Refuses an inline policy of a user or group, and inline policies written into a role itself (its
    ``Policies`` property), which the kit does not create: those would need their own conversion.
    """
    created: list[iam.CfnManagedPolicy] = []
    for node in scope.node.find_all():
        if isinstance(node, iam.CfnRole) and node.policies is not None:
            raise ValueError(
                f"{node.node.path}: a role with inline Policies; attach a managed policy instead"
            )
        if not isinstance(node, iam.Policy):
            continue
        inline = node.node.try_find_child("Resource")
        if not isinstance(inline, iam.CfnPolicy):
            continue
        stack = Stack.of(node)
        if stack.resolve(inline.users) or stack.resolve(inline.groups):
            raise ValueError(f"{node.node.path}: an inline policy of a user or group")
        managed = iam.CfnManagedPolicy(
            node,
            MANAGED_ID,
            policy_document=node.document,
            roles=inline.roles,
            description=f"WorkflowKit: {node.node.path} as a managed policy",
        )
        node.node.try_remove_child("Resource")
        created.append(managed)
    return created
