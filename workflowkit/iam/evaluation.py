"""AWS's policy evaluation logic across policies: identity-based, resource-based, KMS key policies.

Modelled, from the IAM User Guide (*Policy evaluation logic*, *Cross-account policy evaluation logic*) and
the AWS KMS Developer Guide (*Default key policy*):

1. "An explicit deny in any policy overrides any allows", identity-based or resource-based.
2. Same account: "If an action is allowed by an identity-based policy, a resource-based policy, or both,
   then AWS allows the action." A resource policy grants on its own only when it names the caller (its
   role ARN, its session ARN, its service, or ``"*"``: "For IAM users and role principals within your
   account, no other permissions are required"); naming the account "delegates authority to the account"
   and grants nothing by itself.
3. Cross account: "The request is allowed only if both evaluations return a decision of Allow": the
   caller's identity policies and the resource policy (naming the caller or its account).
4. A service principal has no identity policies; only the resource policy can allow it.
5. ``resource_policy_required`` (KMS keys, role trust policies): "IAM role trust policies and KMS key
   policies are exceptions to this logic, because they must explicitly allow access for principals." A key
   policy statement naming the account root "allows the account to use IAM policies to *delegate* the
   permissions specified in the policy statement"; "Without this permission, IAM policies that allow
   access to the key are ineffective, although IAM policies that deny access to the key are still
   effective."

Not modelled: SCPs, RCPs, permissions boundaries, session policies (none limits a grant here), KMS grants,
the root user's implicit full access, VPC endpoint policies.
"""

from __future__ import annotations

from collections.abc import Sequence

from workflowkit.iam.model import Decision, Outcome, Request, Verdict
from workflowkit.iam.policy import Policy


def authorize(
    request: Request,
    *,
    identity_policies: Sequence[Policy],
    resource_policy: Policy | None,
    resource_policy_required: bool = False,
) -> Verdict:
    """Decide ``request`` the way AWS would, naming the policy and statement that decided it.

    ``request.resource_account`` of ``None`` is taken as the caller's own account. A service principal's
    ``identity_policies`` are ignored: AWS service principals have none.
    """
    principal = request.principal
    identity: Outcome | None = None
    identity_name = ""
    if not principal.is_service:
        for policy in identity_policies:
            outcome = policy.decide(request, resource_based=False, deny_only=identity is not None)
            if outcome.decision is Decision.EXPLICIT_DENY:
                return _explicit_deny(policy, outcome)
            if identity is None and outcome.decision is Decision.ALLOW:
                identity, identity_name = outcome, policy.name
    resource = None
    if resource_policy is not None:
        resource = resource_policy.decide(request, resource_based=True)
        if resource.decision is Decision.EXPLICIT_DENY:
            return _explicit_deny(resource_policy, resource)

    identity_allows = identity is not None
    by_identity = f"identity policy {identity_name!r} statement {identity.statement!r}" if identity else ""
    resource_allows = direct = False
    by_resource = ""
    if resource_policy is not None and resource is not None and resource.decision is Decision.ALLOW:
        resource_allows, direct = True, not resource.via_account
        by_resource = f"resource policy {resource_policy.name!r} statement {resource.statement!r}"
    same_account = request.resource_account is None or principal.account == request.resource_account

    if principal.is_service:
        if direct:
            return _allow(by_resource)
        return _implicit_deny(f"only the resource policy can allow {principal.arn}, and none does")
    if not same_account:
        if identity_allows and resource_allows:
            return _allow(f"{by_identity} and {by_resource} (cross-account)")
        missing = "an identity policy" if not identity_allows else "the resource policy"
        return _implicit_deny(f"cross-account request needs both sides to allow; {missing} does not")
    if resource_policy_required:
        if direct:
            return _allow(by_resource)
        if resource_allows and identity_allows:
            return _allow(f"{by_resource} (the account, enabling IAM policies) and {by_identity}")
        if resource_allows:
            return _implicit_deny(f"{by_resource} delegates to IAM policies, and no identity policy allows")
        if identity_allows:
            return _implicit_deny(f"{by_identity} allows, but no key or trust policy statement enables it")
        return _implicit_deny("no statement allows")
    if direct:
        return _allow(by_resource)
    if identity_allows:
        return _allow(by_identity)
    return _implicit_deny("no statement allows")


def _allow(reason: str) -> Verdict:
    return Verdict(Decision.ALLOW, f"allowed by {reason}")


def _implicit_deny(reason: str) -> Verdict:
    return Verdict(Decision.IMPLICIT_DENY, reason)


def _explicit_deny(policy: Policy, outcome: Outcome) -> Verdict:
    return Verdict(
        Decision.EXPLICIT_DENY, f"explicit deny in {policy.name!r} statement {outcome.statement!r}"
    )
