"""authorize() against AWS's documented evaluation logic, one documented rule per case.

Sources: IAM User Guide *Policy evaluation logic*, *Cross-account policy evaluation logic*, *Principal*,
*NotPrincipal*; AWS KMS Developer Guide *Default key policy* and *kms:ViaService*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.unit.iam.iam_support import (
    ACCOUNT,
    CLOUDWATCH,
    EVENTS,
    FOREIGN_ROLE,
    FOREIGN_ROLE_ARN,
    KEY_ARN,
    OTHER_ACCOUNT,
    OTHER_ROLE,
    QUEUE_ARN,
    ROLE,
    ROLE_ARN,
    ROOT_ARN,
    RULE_ARN,
    SESSION,
    SESSION_ARN,
    TABLE_ARN,
    allow,
    deny,
    policy,
    request,
)
from workflowkit.iam import Decision, Policy, Principal, Request, authorize

ALLOW, EXPLICIT, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
FOREIGN_TABLE = f"arn:aws:dynamodb:us-east-1:{OTHER_ACCOUNT}:table/Shared"
FOREIGN_KEY = f"arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:key/abcd"


@dataclass(frozen=True)
class Case:
    id: str
    rule: str  # the documented rule the case checks
    request: Request
    identity: list[dict[str, Any]] = field(default_factory=list)  # one policy per statement
    resource: list[dict[str, Any]] | None = None  # the resource policy's statements, if any
    required: bool = False
    expected: Decision = ALLOW


def _decide(case: Case) -> Decision:
    identity = [policy(s, name=f"identity-{i}") for i, s in enumerate(case.identity)]
    resource = policy(*case.resource, name="resource") if case.resource is not None else None
    return authorize(
        case.request,
        identity_policies=identity,
        resource_policy=resource,
        resource_policy_required=case.required,
    ).decision


CASES = [
    # --- explicit and implicit deny -----------------------------------------------------------------
    Case("no-policies", "By default, all requests are implicitly denied", request(), expected=IMPLICIT),
    Case(
        "no-statement-applies",
        "An implicit denial occurs when there is no applicable Deny statement but also no applicable Allow",
        request(),
        identity=[allow("dynamodb:GetItem", TABLE_ARN)],
        expected=IMPLICIT,
    ),
    Case(
        "identity-allow",
        "An explicit allow in an identity-based policy overrides this default",
        request(),
        identity=[allow("dynamodb:PutItem", TABLE_ARN)],
    ),
    Case(
        "deny-beats-allow-same-policy",
        "If policies include an Allow and a Deny statement, the Deny statement trumps the Allow statement",
        request(),
        identity=[allow(), deny("dynamodb:PutItem", TABLE_ARN)],
        expected=EXPLICIT,
    ),
    Case(
        "identity-deny-beats-resource-allow",
        "An explicit deny in any of these policies overrides the allow",
        request("sqs:SendMessage", QUEUE_ARN),
        identity=[deny("sqs:*")],
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROLE_ARN})],
        expected=EXPLICIT,
    ),
    Case(
        "resource-deny-beats-identity-allow",
        "An explicit deny in either of these policies overrides the allow",
        request("sqs:SendMessage", QUEUE_ARN),
        identity=[allow("sqs:SendMessage", QUEUE_ARN)],
        resource=[deny("sqs:*", QUEUE_ARN, Principal={"AWS": "*"})],
        expected=EXPLICIT,
    ),
    Case(
        "resource-deny-by-account-principal",
        "An account principal covers every identity of the account, for a Deny too",
        request("sqs:SendMessage", QUEUE_ARN),
        identity=[allow()],
        resource=[deny("sqs:*", QUEUE_ARN, Principal={"AWS": ACCOUNT})],
        expected=EXPLICIT,
    ),
    # --- same account: resource-based policies ----------------------------------------------------------
    Case(
        "same-account-resource-names-role",
        "If either the identity-based policy or the resource-based policy within the same account allows the "
        "request and the other doesn't, the request is still allowed",
        request("sqs:SendMessage", QUEUE_ARN),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROLE_ARN})],
    ),
    Case(
        "same-account-resource-names-role-session-caller",
        "a role session principal is granted the permissions based on the ARN of role that was assumed",
        request("sqs:SendMessage", QUEUE_ARN, principal=SESSION),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROLE_ARN})],
    ),
    Case(
        "same-account-resource-names-session",
        "resource-based policies that grant permissions to an IAM role session ARN grant permissions "
        "directly to the assumed role session",
        request("sqs:SendMessage", QUEUE_ARN, principal=SESSION),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": SESSION_ARN})],
    ),
    Case(
        "session-arn-does-not-name-the-role",
        "When you specify an assumed-role session ... Principals must always name a specific session",
        request("sqs:SendMessage", QUEUE_ARN, principal=ROLE),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": SESSION_ARN})],
        expected=IMPLICIT,
    ),
    Case(
        "role-with-path",
        "role names are unique in an account: a session ARN (no path) is the role ARN with its path",
        request(
            "sqs:SendMessage",
            QUEUE_ARN,
            principal=Principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/Worker/s1", ACCOUNT),
        ),
        resource=[
            allow(
                "sqs:SendMessage",
                QUEUE_ARN,
                Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/service-role/Worker"},
            )
        ],
    ),
    Case(
        "same-account-resource-names-other-role",
        "Resource-based policies grant permissions to the principal specified as the principal",
        request("sqs:SendMessage", QUEUE_ARN),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": OTHER_ROLE.arn})],
        expected=IMPLICIT,
    ),
    Case(
        "same-account-resource-names-account-root",
        "Using the account ARN ... delegates permissions to the account: it grants no identity on its own",
        request("sqs:SendMessage", QUEUE_ARN),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROOT_ARN})],
        expected=IMPLICIT,
    ),
    Case(
        "same-account-resource-names-account-id",
        "The account ARN and the shortened account ID behave the same way",
        request("sqs:SendMessage", QUEUE_ARN),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ACCOUNT})],
        expected=IMPLICIT,
    ),
    Case(
        "same-account-account-root-plus-identity",
        "An account principal delegates to the account's identity policies",
        request("sqs:SendMessage", QUEUE_ARN),
        identity=[allow("sqs:SendMessage", QUEUE_ARN)],
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROOT_ARN})],
    ),
    Case(
        "same-account-resource-star",
        "For IAM users and role principals within your account, no other permissions are required",
        request("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms"),
        resource=[allow("sns:Publish", "*", Principal="*")],
    ),
    Case(
        "same-account-resource-aws-star",
        '"Principal": "*" and "Principal": {"AWS": "*"} are equivalent',
        request("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms"),
        resource=[allow("sns:Publish", "*", Principal={"AWS": "*"})],
    ),
    Case(
        "resource-statement-needs-matching-resource",
        "The Resource element specifies the object or objects that the statement covers",
        request("sqs:SendMessage", QUEUE_ARN),
        resource=[allow("sqs:SendMessage", f"{QUEUE_ARN}-dlq", Principal={"AWS": ROLE_ARN})],
        expected=IMPLICIT,
    ),
    # --- service principals ------------------------------------------------------------------------------
    Case(
        "service-via-resource-policy",
        "Service principals have no identity policies; the resource policy names the service",
        request("sqs:SendMessage", QUEUE_ARN, principal=EVENTS),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"Service": "events.amazonaws.com"})],
    ),
    Case(
        "service-in-a-list",
        "you use an array of multiple service principals as the value of a single Service element",
        request("kms:GenerateDataKey", KEY_ARN, principal=CLOUDWATCH),
        resource=[
            allow(
                "kms:GenerateDataKey",
                "*",
                Principal={"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            )
        ],
        required=True,
    ),
    Case(
        "service-via-star",
        '"*" specifies all principals',
        request("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:t", principal=EVENTS),
        resource=[allow("sns:Publish", "*", Principal="*")],
    ),
    Case(
        "service-not-named",
        "A statement applies only to the principals it names",
        request("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms", principal=CLOUDWATCH),
        resource=[allow("sns:Publish", "*", Principal={"Service": "events.amazonaws.com"})],
        expected=IMPLICIT,
    ),
    Case(
        "service-not-by-account-root",
        "An account principal names the account's identities, never an AWS service",
        request("sqs:SendMessage", QUEUE_ARN, principal=EVENTS),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROOT_ARN})],
        expected=IMPLICIT,
    ),
    Case(
        "service-without-resource-policy",
        "Only the resource policy can allow a service principal",
        request("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms", principal=CLOUDWATCH),
        identity=[allow()],
        expected=IMPLICIT,
    ),
    Case(
        "service-with-source-arn",
        "ArnEquals on aws:SourceArn: the service acts on behalf of that resource",
        request("sqs:SendMessage", QUEUE_ARN, principal=EVENTS, context={"aws:SourceArn": RULE_ARN}),
        resource=[
            allow(
                "sqs:SendMessage",
                QUEUE_ARN,
                Principal={"Service": "events.amazonaws.com"},
                Condition={"ArnEquals": {"aws:SourceArn": RULE_ARN}},
            )
        ],
    ),
    Case(
        "service-with-other-source-arn",
        "ArnEquals on aws:SourceArn: another rule is not let in",
        request("sqs:SendMessage", QUEUE_ARN, principal=EVENTS, context={"aws:SourceArn": RULE_ARN + "-2"}),
        resource=[
            allow(
                "sqs:SendMessage",
                QUEUE_ARN,
                Principal={"Service": "events.amazonaws.com"},
                Condition={"ArnEquals": {"aws:SourceArn": RULE_ARN}},
            )
        ],
        expected=IMPLICIT,
    ),
    # --- KMS key policies (resource policy required) ----------------------------------------------------
    Case(
        "kms-identity-alone",
        "Without this permission, IAM policies that allow access to the key are ineffective",
        request("kms:Decrypt", KEY_ARN),
        identity=[allow("kms:Decrypt", KEY_ARN)],
        resource=[allow("kms:*", "*", Principal={"AWS": OTHER_ROLE.arn})],
        required=True,
        expected=IMPLICIT,
    ),
    Case(
        "kms-no-key-policy",
        "KMS key policies must explicitly allow access for principals",
        request("kms:Decrypt", KEY_ARN),
        identity=[allow("kms:Decrypt", KEY_ARN)],
        required=True,
        expected=IMPLICIT,
    ),
    Case(
        "kms-root-plus-identity",
        "It allows the account to use IAM policies to allow access to the KMS key, in addition to the key "
        "policy",
        request("kms:Decrypt", KEY_ARN),
        identity=[allow("kms:Decrypt", KEY_ARN)],
        resource=[allow("kms:*", "*", Principal={"AWS": ROOT_ARN}, Sid="Enable IAM policies")],
        required=True,
    ),
    Case(
        "kms-root-without-identity",
        "When the principal in a key policy statement is the account principal, the policy statement doesn't "
        "give any IAM users or roles permission to use the KMS key",
        request("kms:Decrypt", KEY_ARN),
        resource=[allow("kms:*", "*", Principal={"AWS": ROOT_ARN})],
        required=True,
        expected=IMPLICIT,
    ),
    Case(
        "kms-names-role",
        "A key policy can give IAM roles access directly (key users statement)",
        request("kms:Decrypt", KEY_ARN),
        resource=[allow(["kms:Decrypt", "kms:Encrypt"], "*", Principal={"AWS": ROLE_ARN})],
        required=True,
    ),
    Case(
        "kms-identity-deny-still-effective",
        "IAM policies that deny access to the key are still effective",
        request("kms:Decrypt", KEY_ARN),
        identity=[deny("kms:Decrypt")],
        resource=[allow("kms:*", "*", Principal={"AWS": ROLE_ARN})],
        required=True,
        expected=EXPLICIT,
    ),
    Case(
        "kms-via-service-matches",
        "kms:ViaService limits use of a KMS key to requests from specified AWS services",
        request(
            "kms:GenerateDataKey",
            KEY_ARN,
            context={"kms:ViaService": "sqs.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT},
        ),
        identity=[allow("kms:GenerateDataKey", KEY_ARN)],
        resource=[
            allow(
                "kms:GenerateDataKey",
                "*",
                Principal={"AWS": ROOT_ARN},
                Condition={
                    "StringEquals": {
                        "kms:ViaService": ["sqs.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com"],
                        "kms:CallerAccount": ACCOUNT,
                    }
                },
            )
        ],
        required=True,
    ),
    Case(
        "kms-via-service-absent",
        "If the key ... is not present in the request context, the values do not match",
        request("kms:GenerateDataKey", KEY_ARN, context={"kms:CallerAccount": ACCOUNT}),
        identity=[allow("kms:GenerateDataKey", KEY_ARN)],
        resource=[
            allow(
                "kms:GenerateDataKey",
                "*",
                Principal={"AWS": ROOT_ARN},
                Condition={"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}},
            )
        ],
        required=True,
        expected=IMPLICIT,
    ),
    Case(
        "kms-via-other-service",
        "kms:ViaService: a call through another service is not let in",
        request("kms:GenerateDataKey", KEY_ARN, context={"kms:ViaService": "lambda.us-east-1.amazonaws.com"}),
        identity=[allow("kms:GenerateDataKey", KEY_ARN)],
        resource=[
            allow(
                "kms:GenerateDataKey",
                "*",
                Principal={"AWS": ROOT_ARN},
                Condition={"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}},
            )
        ],
        required=True,
        expected=IMPLICIT,
    ),
    Case(
        "kms-service-principal",
        "A key policy statement naming a service allows that service",
        request("kms:GenerateDataKey", KEY_ARN, principal=EVENTS, context={"aws:SourceAccount": ACCOUNT}),
        resource=[
            allow(
                ["kms:Decrypt", "kms:GenerateDataKey"],
                "*",
                Principal={"Service": "events.amazonaws.com"},
                Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            )
        ],
        required=True,
    ),
    Case(
        "trust-policy-names-service",
        "IAM role trust policies must explicitly allow access for principals",
        request("sts:AssumeRole", ROLE_ARN, principal=Principal.of_service("scheduler.amazonaws.com")),
        resource=[
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
        required=True,
        expected=IMPLICIT,
    ),
    # --- cross account -----------------------------------------------------------------------------------
    Case(
        "cross-account-identity-only",
        "The request is allowed only if both evaluations return a decision of Allow",
        request("dynamodb:GetItem", FOREIGN_TABLE, resource_account=OTHER_ACCOUNT),
        identity=[allow("dynamodb:GetItem", FOREIGN_TABLE)],
        expected=IMPLICIT,
    ),
    Case(
        "cross-account-resource-only",
        "the requester in the trusted AccountA must have an identity-based policy",
        request("sqs:SendMessage", QUEUE_ARN, principal=FOREIGN_ROLE),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": FOREIGN_ROLE_ARN})],
        expected=IMPLICIT,
    ),
    Case(
        "cross-account-both",
        "Cross-account: identity-based policy and resource-based policy both allow",
        request("sqs:SendMessage", QUEUE_ARN, principal=FOREIGN_ROLE),
        identity=[allow("sqs:SendMessage", QUEUE_ARN)],
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": FOREIGN_ROLE_ARN})],
    ),
    Case(
        "cross-account-by-account",
        "You can specify the entire account: an administrator in that account must then grant access",
        request("sqs:SendMessage", QUEUE_ARN, principal=FOREIGN_ROLE),
        identity=[allow("sqs:SendMessage", QUEUE_ARN)],
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": OTHER_ACCOUNT})],
    ),
    Case(
        "cross-account-star-still-needs-identity",
        "For principals in other accounts, they must also have identity-based permissions in their account",
        request("sqs:SendMessage", QUEUE_ARN, principal=FOREIGN_ROLE),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, Principal="*")],
        expected=IMPLICIT,
    ),
    Case(
        "cross-account-kms",
        "Users in other AWS accounts just need corresponding IAM permissions in their own accounts",
        request("kms:Decrypt", FOREIGN_KEY, resource_account=OTHER_ACCOUNT),
        identity=[allow("kms:Decrypt", FOREIGN_KEY)],
        resource=[allow("kms:Decrypt", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
        required=True,
    ),
    # --- NotPrincipal ------------------------------------------------------------------------------------
    Case(
        "not-principal-deny-excepts-role-and-account",
        "the actions ... are explicitly denied to all principals except for the ones specified",
        request("sqs:SendMessage", QUEUE_ARN),
        identity=[allow()],
        resource=[deny("sqs:*", QUEUE_ARN, NotPrincipal={"AWS": [ROLE_ARN, ROOT_ARN]})],
    ),
    Case(
        "not-principal-deny-without-account",
        "you must also specify the account ARN of the not-denied principal. Otherwise, the policy might deny "
        "access to the entire account containing the principal",
        request("sqs:SendMessage", QUEUE_ARN),
        identity=[allow()],
        resource=[deny("sqs:*", QUEUE_ARN, NotPrincipal={"AWS": ROLE_ARN})],
        expected=EXPLICIT,
    ),
    Case(
        "not-principal-deny-others",
        "NotPrincipal with Deny denies everyone else",
        request("sqs:SendMessage", QUEUE_ARN, principal=OTHER_ROLE),
        identity=[allow()],
        resource=[deny("sqs:*", QUEUE_ARN, NotPrincipal={"AWS": [ROLE_ARN, ROOT_ARN]})],
        expected=EXPLICIT,
    ),
    Case(
        "not-principal-allow",
        "NotPrincipal with Allow allows all principals except the one named",
        request("sqs:SendMessage", QUEUE_ARN, principal=EVENTS),
        resource=[allow("sqs:SendMessage", QUEUE_ARN, NotPrincipal={"AWS": OTHER_ROLE.arn})],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_documented_evaluation_rule(case: Case) -> None:
    assert _decide(case) is case.expected, case.rule


def test_verdict_names_the_deciding_policy_and_statement() -> None:
    # GIVEN an identity policy that allows and a resource policy whose Sid-named statement denies
    identity = policy(allow(), name="OrderHandlerPolicy")
    resource = policy(deny("sqs:*", QUEUE_ARN, Principal="*", Sid="DenyAll"), name="OrdersQueuePolicy")
    # WHEN
    verdict = authorize(
        request("sqs:SendMessage", QUEUE_ARN), identity_policies=[identity], resource_policy=resource
    )
    # THEN
    assert verdict.decision is EXPLICIT
    assert not verdict.allowed
    assert "OrdersQueuePolicy" in verdict.reason
    assert "DenyAll" in verdict.reason
    allowed = authorize(
        request("sqs:SendMessage", QUEUE_ARN), identity_policies=[identity], resource_policy=None
    )
    assert allowed.allowed
    assert "OrderHandlerPolicy" in allowed.reason
    assert "#0" in allowed.reason  # a statement without a Sid is named by its index


def test_implicit_deny_says_no_statement_allows() -> None:
    verdict = authorize(request(), identity_policies=[], resource_policy=None)
    assert verdict.decision is IMPLICIT
    assert verdict.reason == "no statement allows"


def test_kms_reason_says_the_key_policy_is_missing_a_grant() -> None:
    verdict = authorize(
        request("kms:Decrypt", KEY_ARN),
        identity_policies=[policy(allow("kms:Decrypt"), name="Fn")],
        resource_policy=policy(allow("kms:*", "*", Principal={"AWS": OTHER_ROLE.arn}), name="Key"),
        resource_policy_required=True,
    )
    assert verdict.decision is IMPLICIT
    assert "no key or trust policy statement enables it" in verdict.reason


def test_service_principal_identity_policies_are_ignored() -> None:
    # AWS service principals have no identity policies: an identity Deny passed by mistake changes nothing.
    resource = policy(allow("sqs:SendMessage", QUEUE_ARN, Principal={"Service": "events.amazonaws.com"}))
    verdict = authorize(
        request("sqs:SendMessage", QUEUE_ARN, principal=EVENTS),
        identity_policies=[policy(deny())],
        resource_policy=resource,
    )
    assert verdict.allowed


@pytest.mark.parametrize(
    ("statement", "resource_based", "expected"),
    [
        (allow("dynamodb:PutItem", TABLE_ARN), False, ALLOW),
        (deny("dynamodb:PutItem", TABLE_ARN), False, EXPLICIT),
        (allow("dynamodb:GetItem", TABLE_ARN), False, IMPLICIT),
        (allow("dynamodb:PutItem", TABLE_ARN, Principal={"AWS": ROLE_ARN}), True, ALLOW),
        (allow("dynamodb:PutItem", TABLE_ARN, Principal={"AWS": OTHER_ROLE.arn}), True, IMPLICIT),
        (deny("dynamodb:PutItem", TABLE_ARN, Principal={"AWS": ACCOUNT}), True, EXPLICIT),
        # a resource-based statement without a principal applies to nobody
        (allow("dynamodb:PutItem", TABLE_ARN), True, IMPLICIT),
    ],
)
def test_policy_evaluate_per_policy(
    statement: dict[str, Any], resource_based: bool, expected: Decision
) -> None:
    assert policy(statement).evaluate(request(), resource_based=resource_based) is expected


def test_outcome_marks_an_allow_through_the_account() -> None:
    resource = policy(allow("sqs:*", "*", Principal={"AWS": ROOT_ARN}, Sid="Root"))
    outcome = resource.decide(request("sqs:SendMessage", QUEUE_ARN), resource_based=True)
    assert outcome.decision is ALLOW
    assert outcome.via_account
    assert outcome.statement == "Root"


def test_direct_grant_wins_over_account_grant_in_one_policy() -> None:
    resource = policy(
        allow("sqs:*", "*", Principal={"AWS": ROOT_ARN}, Sid="Root"),
        allow("sqs:SendMessage", "*", Principal={"AWS": ROLE_ARN}, Sid="Role"),
    )
    outcome = resource.decide(request("sqs:SendMessage", QUEUE_ARN), resource_based=True)
    assert (outcome.statement, outcome.via_account) == ("Role", False)


@pytest.mark.parametrize(
    ("principal", "key", "expected"),
    [
        # "For IAM roles, the request context returns the ARN of the role, not the ARN of the user that
        # assumed the role" (aws:PrincipalArn)
        (SESSION, "aws:PrincipalArn", ROLE_ARN),
        (ROLE, "aws:PrincipalArn", ROLE_ARN),
        (ROLE, "aws:PrincipalAccount", ACCOUNT),
        (EVENTS, "aws:PrincipalServiceName", "events.amazonaws.com"),
        (EVENTS, "aws:PrincipalIsAWSService", "true"),
        (ROLE, "aws:PrincipalIsAWSService", "false"),
    ],
)
def test_principal_condition_keys_are_derived(principal: Principal, key: str, expected: str) -> None:
    statement = allow(
        "sqs:SendMessage", QUEUE_ARN, Principal="*", Condition={"StringEquals": {key: expected}}
    )
    assert (
        policy(statement).evaluate(
            request("sqs:SendMessage", QUEUE_ARN, principal=principal), resource_based=True
        )
        is ALLOW
    )


def test_context_given_by_the_caller_wins_over_derived_keys() -> None:
    statement = allow(Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})
    given = request(context={"AWS:PrincipalAccount": OTHER_ACCOUNT})
    assert policy(statement).evaluate(given, resource_based=False) is ALLOW
    assert policy(statement).evaluate(request(), resource_based=False) is IMPLICIT


def test_policy_is_reusable_across_principals_and_requests() -> None:
    # The per-policy caches (statements per action/resource, grants per principal) must not leak answers.
    resource: Policy = policy(allow("sqs:SendMessage", QUEUE_ARN, Principal={"AWS": ROLE_ARN}))
    for _ in range(3):
        assert resource.evaluate(request("sqs:SendMessage", QUEUE_ARN), resource_based=True) is ALLOW
        assert (
            resource.evaluate(
                request("sqs:SendMessage", QUEUE_ARN, principal=OTHER_ROLE), resource_based=True
            )
            is IMPLICIT
        )
        assert resource.evaluate(request("sqs:ReceiveMessage", QUEUE_ARN), resource_based=True) is IMPLICIT
