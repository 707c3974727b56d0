"""Action / NotAction / Resource / NotResource and their wildcards, as the IAM User Guide describes them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.iam.iam_support import ACCOUNT, QUEUE_ARN, TABLE_ARN, allow, deny, policy, request
from workflowkit.iam import Decision, Policy, authorize

ALLOW, EXPLICIT, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/orders"


def _identity(statement: dict[str, Any], action: str, resource: str) -> Decision:
    return policy(statement).evaluate(request(action, resource), resource_based=False)


ACTION_CASES = [
    # (id, rule, Action element, requested action, expected)
    ("exact", "an action is service:operation", "dynamodb:PutItem", "dynamodb:PutItem", ALLOW),
    ("other", "other actions are not covered", "dynamodb:PutItem", "dynamodb:DeleteItem", IMPLICIT),
    ("case-insensitive", "action names are case-insensitive", "DynamoDB:putitem", "dynamodb:PutItem", ALLOW),
    ("service-star", '"service:*" covers every action of the service', "dynamodb:*", "dynamodb:Query", ALLOW),
    ("service-star-other", '"service:*" covers no other service', "dynamodb:*", "sqs:SendMessage", IMPLICIT),
    ("star", '"*" covers every action', "*", "kms:Decrypt", ALLOW),
    ("prefix", "iam:Get* allows actions that begin with Get", "dynamodb:Get*", "dynamodb:GetItem", ALLOW),
    ("prefix-other", "iam:Get* does not cover Put", "dynamodb:Get*", "dynamodb:PutItem", IMPLICIT),
    ("infix", "iam:*AccessKey* matches anywhere", "iam:*AccessKey*", "iam:CreateAccessKey", ALLOW),
    (
        "suffix",
        "iam:*Report denies actions that include the Report suffix",
        "iam:*Report",
        "iam:GetCredentialReport",
        ALLOW,
    ),
    ("question-mark", "? matches exactly one character", "sqs:?endMessage", "sqs:SendMessage", ALLOW),
    (
        "question-mark-one",
        "? matches exactly one character, not two",
        "sqs:?endMessage",
        "sqs:XSendMessage",
        IMPLICIT,
    ),
    (
        "list",
        "a list of actions is an OR",
        ["sqs:SendMessage", "sqs:ReceiveMessage"],
        "sqs:ReceiveMessage",
        ALLOW,
    ),
    (
        "dot-is-literal",
        "a '.' in an action is not a regex wildcard",
        "s3:Get.bject",
        "s3:GetObject",
        IMPLICIT,
    ),
]


@pytest.mark.parametrize(
    ("rule", "element", "action", "expected"), [c[1:] for c in ACTION_CASES], ids=[c[0] for c in ACTION_CASES]
)
def test_action_matching(rule: str, element: Any, action: str, expected: Decision) -> None:
    assert _identity(allow(element, "*"), action, TABLE_ARN) is expected, rule


def test_not_action_with_allow_grants_everything_else_and_nothing_named() -> None:
    """IAM User Guide, NotAction: "all of the applicable actions or services that are not listed are
    allowed if you use the Allow effect" — and the listed ones are not."""
    statement = {"Effect": "Allow", "NotAction": ["iam:*", "kms:Decrypt"], "Resource": "*"}
    assert _identity(statement, "dynamodb:PutItem", TABLE_ARN) is ALLOW
    assert _identity(statement, "sqs:SendMessage", QUEUE_ARN) is ALLOW
    assert _identity(statement, "kms:Decrypt", "*") is IMPLICIT
    assert _identity(statement, "iam:PassRole", "*") is IMPLICIT
    assert _identity(statement, "KMS:decrypt", "*") is IMPLICIT  # case-insensitive as Action is


def test_not_action_with_deny_denies_everything_else() -> None:
    """NotAction with Deny: "This combination does not allow the listed items, but instead explicitly denies
    the actions not listed. You must still allow actions that you want to allow"."""
    identity = [policy(allow()), policy({"Effect": "Deny", "NotAction": "dynamodb:*", "Resource": "*"})]

    def decide(action: str) -> Decision:
        return authorize(request(action), identity_policies=identity, resource_policy=None).decision

    assert decide("dynamodb:PutItem") is ALLOW
    assert decide("sqs:SendMessage") is EXPLICIT


RESOURCE_CASES = [
    # (id, rule, Resource element, requested resource, expected)
    ("exact", "a resource is named by its ARN", TABLE_ARN, TABLE_ARN, ALLOW),
    ("exact-other", "another ARN is not covered", TABLE_ARN, TABLE_ARN + "2", IMPLICIT),
    (
        "case-sensitive",
        "In the Resource element, the IAM user name is case sensitive",
        f"arn:aws:iam::{ACCOUNT}:user/Bob",
        f"arn:aws:iam::{ACCOUNT}:user/bob",
        IMPLICIT,
    ),
    (
        "case-sensitive-table",
        "resource ARNs are compared case-sensitively",
        TABLE_ARN.lower(),
        TABLE_ARN,
        IMPLICIT,
    ),
    ("star", '"*" covers every resource', "*", TABLE_ARN, ALLOW),
    ("star-no-resource", '"*" covers actions without a resource ("*")', "*", "*", ALLOW),
    ("arn-no-resource", "a specific ARN does not cover an action without resource", TABLE_ARN, "*", IMPLICIT),
    (
        "trailing-star-path",
        '"arn:aws:s3:::my_corporate_bucket/*" refers to all items within the bucket',
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/a/b/c.txt",
        ALLOW,
    ),
    (
        "trailing-star-not-bucket",
        "bucket/* does not cover the bucket itself",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket",
        IMPLICIT,
    ),
    (
        "star-crosses-slash",
        "The asterisk (*) character can expand to replace everything within a segment, "
        "including characters like a forward slash (/)",
        "arn:aws:s3:::bucket/*/test/*",
        "arn:aws:s3:::bucket/1/2/test/3/object.jpg",
        ALLOW,
    ),
    (
        "star-mid-segment-slash-only",
        "bucket/*/test/* does not match bucket/1-test/object.jpg (S3 example)",
        "arn:aws:s3:::bucket/*/test/*",
        "arn:aws:s3:::bucket/1-test/object.jpg",
        IMPLICIT,
    ),
    (
        "region-account-stars",
        "arn:aws:dynamodb:*:*:table/* covers every table",
        "arn:aws:dynamodb:*:*:table/*",
        TABLE_ARN,
        ALLOW,
    ),
    (
        "table-star-covers-index",
        "table/Orders* covers the table's indexes (same segment)",
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders*",
        TABLE_ARN + "/index/byCustomer",
        ALLOW,
    ),
    (
        "trailing-star-crosses-colon",
        "If the * wildcard is the last character of a resource ARN segment, it can "
        "expand to match beyond the colon boundaries",
        LOG_GROUP + ":*",
        LOG_GROUP + ":log-stream:2026/01/01",
        ALLOW,
    ),
    (
        "inner-star-stops-at-colon",
        "a * inside a segment stays within the segment",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/*/orders",
        LOG_GROUP.replace("/lambda/", "/x:y/"),
        IMPLICIT,
    ),
    (
        "question-mark",
        "? represents any single character",
        "arn:aws:sqs:us-east-?:*:orders",
        QUEUE_ARN,
        ALLOW,
    ),
    (
        "question-mark-not-colon",
        "? stays within a segment",
        f"arn:aws:sqs:us-east-1{'?'}{ACCOUNT}:orders",
        QUEUE_ARN,
        IMPLICIT,
    ),
    (
        "dot-is-literal",
        "a '.' in a resource is not a regex wildcard",
        "arn:aws:sqs:us-east-1:*:orders.fifo",
        QUEUE_ARN + "Xfifo",
        IMPLICIT,
    ),
    ("list", "several resources are an OR", [QUEUE_ARN + "-dlq", TABLE_ARN], TABLE_ARN, ALLOW),
]


@pytest.mark.parametrize(
    ("rule", "element", "resource", "expected"),
    [c[1:] for c in RESOURCE_CASES],
    ids=[c[0] for c in RESOURCE_CASES],
)
def test_resource_matching(rule: str, element: Any, resource: str, expected: Decision) -> None:
    assert _identity(allow("*", element), "dynamodb:PutItem", resource) is expected, rule


def test_not_resource_with_allow_covers_everything_else() -> None:
    """IAM User Guide, NotResource: it "explicitly matches all resources, for the specified services, except
    for the resources listed in the statement"."""
    statement = {"Effect": "Allow", "Action": "dynamodb:*", "NotResource": TABLE_ARN}
    assert _identity(statement, "dynamodb:PutItem", TABLE_ARN + "Archive") is ALLOW
    assert _identity(statement, "dynamodb:PutItem", TABLE_ARN) is IMPLICIT


def test_not_resource_with_deny() -> None:
    statement = {"Effect": "Deny", "Action": "sqs:*", "NotResource": [QUEUE_ARN, QUEUE_ARN + "-dlq"]}
    assert _identity(statement, "sqs:SendMessage", QUEUE_ARN + "-other") is EXPLICIT
    assert _identity(statement, "sqs:SendMessage", QUEUE_ARN) is IMPLICIT


def test_statement_may_be_a_single_object_and_elements_single_strings() -> None:
    """Statement, Action and Resource each take a single value or a list."""
    single = Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN},
        },
        name="single",
    )
    assert single.evaluate(request("sqs:SendMessage", QUEUE_ARN), resource_based=False) is ALLOW


def test_deny_statement_with_wildcards_beats_allow() -> None:
    doc = policy(allow("s3:*", "arn:aws:s3:::*"), deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"))
    outcome = doc.decide(request("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/x"), resource_based=False)
    assert (outcome.decision, outcome.statement) == (EXPLICIT, "DenyS3Logs")
    allowed = doc.decide(request("s3:PutObject", "arn:aws:s3:::carlossalazar/x"), resource_based=False)
    assert allowed.decision is ALLOW
