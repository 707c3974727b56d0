"""Why the local cloud does not reuse moto's IAM evaluator: the divergences recorded in
docs/decisions/0020-local-iam-evaluator.md, re-checked against the installed moto.

Each case is one statement and one request, moto's answer (moto.iam.access_control.IAMPolicy) and ours. A
moto upgrade that fixes a divergence fails this test, so the record (and the decision) can be revisited.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.iam.iam_support import ACCOUNT, ROLE_ARN, SESSION, allow, deny, policy, request
from workflowkit.iam import Decision, Principal

access_control = pytest.importorskip("moto.iam.access_control")

RULE_A = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/a"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g"

DIVERGENCES = [
    # (id, statement, action, resource, principal ARN (resource-based) or None, context, moto, ours)
    ("action-case", allow("DynamoDB:putitem"), "dynamodb:PutItem", "*", None, {}, "NEUTRAL", "ALLOW"),
    ("question-mark", allow("sqs:?endMessage"), "sqs:SendMessage", "*", None, {}, "NEUTRAL", "ALLOW"),
    ("dot-is-regex", allow("s3:Get.bject"), "s3:GetObject", "*", None, {}, "PERMITTED", "IMPLICIT_DENY"),
    (
        "condition-ignored",
        allow(Condition={"ArnEquals": {"aws:SourceArn": RULE_A}}),
        "sqs:SendMessage",
        "*",
        None,
        {"aws:SourceArn": RULE_A + "-other"},
        "PERMITTED",
        "IMPLICIT_DENY",
    ),
    (
        "failed-allow-condition-denies",
        allow(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
        "sqs:SendMessage",
        "*",
        None,
        {"aws:SourceAccount": "999999999999"},
        "DENIED",
        "IMPLICIT_DENY",
    ),
    (
        "deny-condition-without-context",
        deny("sqs:*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        "sqs:SendMessage",
        "*",
        None,
        {"aws:SecureTransport": "true"},
        "DENIED",
        "IMPLICIT_DENY",
    ),
    (
        "not-resource",
        {"Effect": "Allow", "Action": "sqs:*", "NotResource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"},
        "sqs:SendMessage",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:q",
        None,
        {},
        "PERMITTED",
        "IMPLICIT_DENY",
    ),
    (
        "session-of-named-role",
        allow(Principal={"AWS": ROLE_ARN}),
        "sqs:SendMessage",
        "*",
        SESSION.arn,
        {},
        "DENIED",
        "ALLOW",
    ),
    (
        "other-principal-is-explicit-deny",
        allow(Principal={"AWS": ROLE_ARN}),
        "sqs:SendMessage",
        "*",
        f"arn:aws:iam::{ACCOUNT}:role/Other",
        {},
        "DENIED",
        "IMPLICIT_DENY",
    ),
    (
        "service-principal",
        allow(Principal={"Service": "events.amazonaws.com"}),
        "sqs:SendMessage",
        "*",
        "events.amazonaws.com",
        {},
        "TypeError",
        "ALLOW",
    ),
]


def _moto(statement: dict[str, Any], action: str, resource: str, principal: str | None, context: Any) -> str:
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    try:
        result = access_control.IAMPolicy(document).is_action_permitted(action, resource, principal, context)
    except TypeError:
        return "TypeError"
    return str(result.name)


def _ours(statement: dict[str, Any], action: str, resource: str, principal: str | None, context: Any) -> str:
    if principal is None:
        return (
            policy(statement).evaluate(request(action, resource, context=context), resource_based=False).name
        )
    caller = (
        Principal.of_service(principal)
        if principal.endswith(".amazonaws.com")
        else Principal(principal, ACCOUNT)
    )
    decision: Decision = policy(statement).evaluate(
        request(action, resource, principal=caller, context=context), resource_based=True
    )
    return decision.name


@pytest.mark.parametrize("case", DIVERGENCES, ids=lambda case: case[0])
def test_moto_divergences_are_still_as_recorded(case: tuple[Any, ...]) -> None:
    _, statement, action, resource, principal, context, moto, ours = case
    assert _moto(statement, action, resource, principal, context) == moto
    assert _ours(statement, action, resource, principal, context) == ours


def test_both_agree_on_the_plain_cases() -> None:
    """What moto gets right and we keep: exact actions, trailing-* resources crossing ':', Deny over Allow."""
    both = [allow("logs:*", f"{LOG_GROUP}:*"), deny("logs:DeleteLogGroup")]
    document = json.dumps({"Version": "2012-10-17", "Statement": both})
    stream = f"{LOG_GROUP}:log-stream:s"
    assert (
        access_control.IAMPolicy(document).is_action_permitted("logs:PutLogEvents", stream).name
        == "PERMITTED"
    )
    assert (
        access_control.IAMPolicy(document).is_action_permitted("logs:DeleteLogGroup", stream).name == "DENIED"
    )
    ours = policy(*both)
    assert ours.evaluate(request("logs:PutLogEvents", stream), resource_based=False) is Decision.ALLOW
    assert (
        ours.evaluate(request("logs:DeleteLogGroup", stream), resource_based=False) is Decision.EXPLICIT_DENY
    )
