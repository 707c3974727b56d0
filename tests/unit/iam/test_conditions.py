"""Every condition operator, positive and negative, against the IAM User Guide's *Condition operators*,
*Condition* and *Conditions with multiple context keys or values* pages.

A case is (operator, key, policy value(s), request context, expected): the condition holds when an Allow
statement carrying it allows the request. ``ABSENT`` means the key is not in the request context.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.iam.iam_support import ACCOUNT, RULE_ARN, allow, deny, policy, request
from workflowkit.iam import Decision

ABSENT: dict[str, Any] = {}
EPOCH_2020 = 1577836800  # 2020-01-01T00:00:00Z
BINARY = "QmluYXJ5VmFsdWVJbkJhc2U2NA=="  # the operators page's BinaryEquals example


def holds(block: dict[str, Any], context: dict[str, Any]) -> bool:
    decision = policy(allow(Condition=block)).evaluate(request(context=context), resource_based=False)
    return decision is Decision.ALLOW


def case(
    case_id: str, operator: str, key: str, value: Any, context: dict[str, Any], *, expected: bool
) -> Any:
    return pytest.param({operator: {key: value}}, context, expected, id=f"{operator}-{case_id}")


OPERATOR_CASES = [
    # --- string ("StringEquals: Exact matching, case sensitive") ---------------------------------------
    case("match", "StringEquals", "aws:username", "johndoe", {"aws:username": "johndoe"}, expected=True),
    case(
        "case-sensitive",
        "StringEquals",
        "aws:username",
        "johndoe",
        {"aws:username": "JohnDoe"},
        expected=False,
    ),
    case("any-of-values", "StringEquals", "k", ["a", "b"], {"k": "b"}, expected=True),
    case("absent", "StringEquals", "k", "a", ABSENT, expected=False),
    case("differs", "StringNotEquals", "k", "a", {"k": "b"}, expected=True),
    case("equal", "StringNotEquals", "k", "a", {"k": "a"}, expected=False),
    case("nor-of-values", "StringNotEquals", "k", ["a", "b"], {"k": "b"}, expected=False),
    case("absent", "StringNotEquals", "k", "a", ABSENT, expected=True),
    case(
        "ignores-case",
        "StringEqualsIgnoreCase",
        "aws:username",
        "johndoe",
        {"aws:username": "JohnDoe"},
        expected=True,
    ),
    case("differs", "StringEqualsIgnoreCase", "k", "johndoe", {"k": "janedoe"}, expected=False),
    case("same-ignoring-case", "StringNotEqualsIgnoreCase", "k", "johndoe", {"k": "JOHNDOE"}, expected=False),
    case("differs", "StringNotEqualsIgnoreCase", "k", "johndoe", {"k": "jane"}, expected=True),
    case(
        "star",
        "StringLike",
        "ec2:InstanceType",
        ["t1.*", "t2.*", "m3.*"],
        {"ec2:InstanceType": "t2.micro"},
        expected=True,
    ),
    case(
        "star-other",
        "StringLike",
        "ec2:InstanceType",
        ["t1.*", "t2.*"],
        {"ec2:InstanceType": "t3.micro"},
        expected=False,
    ),
    case("question-mark", "StringLike", "k", "t?.micro", {"k": "t2.micro"}, expected=True),
    case("question-mark-one", "StringLike", "k", "t?.micro", {"k": "t22.micro"}, expected=False),
    case("case-sensitive", "StringLike", "k", "T2.*", {"k": "t2.micro"}, expected=False),
    case("dot-literal", "StringLike", "k", "t2.micro", {"k": "t2xmicro"}, expected=False),
    case("empty-string-pattern", "StringLike", "s3:prefix", ["", "home/"], {"s3:prefix": ""}, expected=True),
    case("matches", "StringNotLike", "k", "t2.*", {"k": "t2.micro"}, expected=False),
    case("no-match", "StringNotLike", "k", "t2.*", {"k": "m5.large"}, expected=True),
    case("absent", "StringNotLike", "k", "t2.*", ABSENT, expected=True),
    # --- numeric ---------------------------------------------------------------------------------------
    case("equal", "NumericEquals", "s3:max-keys", "10", {"s3:max-keys": 10}, expected=True),
    case("equal-decimal", "NumericEquals", "k", "10", {"k": "10.0"}, expected=True),
    case("differs", "NumericEquals", "k", "10", {"k": 11}, expected=False),
    case("not-a-number", "NumericEquals", "k", "10", {"k": "ten"}, expected=False),
    case("absent", "NumericEquals", "k", "10", ABSENT, expected=False),
    case("differs", "NumericNotEquals", "k", "10", {"k": 11}, expected=True),
    case("equal", "NumericNotEquals", "k", 10, {"k": 10}, expected=False),
    case("absent", "NumericNotEquals", "k", 10, ABSENT, expected=True),
    case("less", "NumericLessThan", "k", "10", {"k": 9}, expected=True),
    case("equal", "NumericLessThan", "k", "10", {"k": 10}, expected=False),
    case("equal", "NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": 10}, expected=True),
    case("greater", "NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": 11}, expected=False),
    case("greater", "NumericGreaterThan", "k", "10", {"k": 10.5}, expected=True),
    case("equal", "NumericGreaterThan", "k", "10", {"k": 10}, expected=False),
    case("equal", "NumericGreaterThanEquals", "k", "10", {"k": 10}, expected=True),
    case("less", "NumericGreaterThanEquals", "k", "10", {"k": 9}, expected=False),
    # --- date ("W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time") ---------------
    case(
        "epoch-vs-iso",
        "DateEquals",
        "aws:CurrentTime",
        "2020-01-01T00:00:00Z",
        {"aws:CurrentTime": EPOCH_2020},
        expected=True,
    ),
    case(
        "offset", "DateEquals", "k", "2020-01-01T00:00:00Z", {"k": "2020-01-01T01:00:00+01:00"}, expected=True
    ),
    case("year-month", "DateEquals", "k", "2020-01", {"k": "2020-01-01T00:00:00Z"}, expected=True),
    case("digits-are-epoch", "DateEquals", "k", "2020", {"k": "1970-01-01T00:33:40Z"}, expected=True),
    case("differs", "DateEquals", "k", "2020-01-01T00:00:00Z", {"k": "2020-01-02T00:00:00Z"}, expected=False),
    case("not-a-date", "DateEquals", "k", "2020-01-01T00:00:00Z", {"k": "yesterday"}, expected=False),
    case("differs", "DateNotEquals", "k", "2020-01-01", {"k": "2021-01-01"}, expected=True),
    case("equal", "DateNotEquals", "k", "2020-01-01", {"k": str(EPOCH_2020)}, expected=False),
    case(
        "before",
        "DateLessThan",
        "aws:CurrentTime",
        "2020-01-01T00:00:00Z",
        {"aws:CurrentTime": "2019-12-31T23:59:59Z"},
        expected=True,
    ),
    case("equal", "DateLessThan", "k", "2020-01-01T00:00:00Z", {"k": EPOCH_2020}, expected=False),
    case("equal", "DateLessThanEquals", "k", "2020-01-01T00:00:00Z", {"k": EPOCH_2020}, expected=True),
    case("after", "DateLessThanEquals", "k", "2020-01-01T00:00:00Z", {"k": EPOCH_2020 + 1}, expected=False),
    case(
        "after",
        "DateGreaterThan",
        "aws:TokenIssueTime",
        "2020-01-01T00:00:01Z",
        {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"},
        expected=True,
    ),
    case("absent", "DateGreaterThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", ABSENT, expected=False),
    case(
        "equal", "DateGreaterThanEquals", "k", str(EPOCH_2020), {"k": "2020-01-01T00:00:00Z"}, expected=True
    ),
    case("before", "DateGreaterThanEquals", "k", str(EPOCH_2020), {"k": EPOCH_2020 - 1}, expected=False),
    # --- boolean -------------------------------------------------------------------------------------------
    case(
        "string-true-vs-bool",
        "Bool",
        "aws:SecureTransport",
        "true",
        {"aws:SecureTransport": True},
        expected=True,
    ),
    case(
        "string-false-vs-bool",
        "Bool",
        "aws:SecureTransport",
        "false",
        {"aws:SecureTransport": True},
        expected=False,
    ),
    case(
        "json-true-vs-string",
        "Bool",
        "aws:SecureTransport",
        True,
        {"aws:SecureTransport": "true"},
        expected=True,
    ),
    case(
        "string-vs-string",
        "Bool",
        "aws:SecureTransport",
        "false",
        {"aws:SecureTransport": "false"},
        expected=True,
    ),
    case("absent", "Bool", "aws:SecureTransport", "false", ABSENT, expected=False),
    # --- binary: "compares the value of the specified key byte for byte against a base-64 encoded ..." -----
    case("equal", "BinaryEquals", "k", BINARY, {"k": BINARY}, expected=True),
    case("differs", "BinaryEquals", "k", BINARY, {"k": "QUJD"}, expected=False),
    # --- IP addresses --------------------------------------------------------------------------------------
    case(
        "in-range",
        "IpAddress",
        "aws:SourceIp",
        "203.0.113.0/24",
        {"aws:SourceIp": "203.0.113.7"},
        expected=True,
    ),
    case(
        "out-of-range",
        "IpAddress",
        "aws:SourceIp",
        "203.0.113.0/24",
        {"aws:SourceIp": "198.51.100.1"},
        expected=False,
    ),
    case(
        "ipv6",
        "IpAddress",
        "aws:SourceIp",
        ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
        {"aws:SourceIp": "2001:db8:1234:5678::1"},
        expected=True,
    ),
    case(
        "no-prefix-is-32",
        "IpAddress",
        "aws:SourceIp",
        "203.0.113.7",
        {"aws:SourceIp": "203.0.113.8"},
        expected=False,
    ),
    case(
        "out-of-range",
        "NotIpAddress",
        "aws:SourceIp",
        "203.0.113.0/24",
        {"aws:SourceIp": "198.51.100.1"},
        expected=True,
    ),
    case(
        "in-range",
        "NotIpAddress",
        "aws:SourceIp",
        "203.0.113.0/24",
        {"aws:SourceIp": "203.0.113.7"},
        expected=False,
    ),
    # --- ARNs: "Each of the six colon-delimited components of the ARN is checked separately" ---------------
    case("exact", "ArnEquals", "aws:SourceArn", RULE_ARN, {"aws:SourceArn": RULE_ARN}, expected=True),
    case("other", "ArnEquals", "aws:SourceArn", RULE_ARN, {"aws:SourceArn": RULE_ARN + "2"}, expected=False),
    case(
        "wildcards",
        "ArnEquals",
        "aws:SourceArn",
        "arn:aws:events:*:*:rule/orders-*",
        {"aws:SourceArn": RULE_ARN},
        expected=True,
    ),
    case(
        "component-wise",
        "ArnLike",
        "aws:SourceArn",
        "arn:aws:someservice:*:111122223333:finance/*",
        {
            "aws:SourceArn": "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:"
            "finance/document.txt"
        },
        expected=False,
    ),
    case(
        "resource-keeps-colons",
        "ArnLike",
        "k",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*",
        {"k": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/x:log-stream:y"},
        expected=True,
    ),
    case("case-sensitive", "ArnLike", "k", RULE_ARN.upper(), {"k": RULE_ARN}, expected=False),
    case("not-an-arn", "ArnLike", "k", RULE_ARN, {"k": "orders-to-queue"}, expected=False),
    case(
        "other", "ArnNotEquals", "aws:SourceArn", RULE_ARN, {"aws:SourceArn": RULE_ARN + "2"}, expected=True
    ),
    case("same", "ArnNotEquals", "aws:SourceArn", RULE_ARN, {"aws:SourceArn": RULE_ARN}, expected=False),
    case("absent", "ArnNotLike", "aws:SourceArn", RULE_ARN, ABSENT, expected=True),
    case(
        "same",
        "ArnNotLike",
        "aws:SourceArn",
        "arn:aws:events:*:*:rule/*",
        {"aws:SourceArn": RULE_ARN},
        expected=False,
    ),
    # --- Null: "true (the key doesn't exist — it is null) or false (the key exists and its value is not
    # null)"
    case("true-absent", "Null", "aws:TokenIssueTime", "true", ABSENT, expected=True),
    case(
        "true-present",
        "Null",
        "aws:TokenIssueTime",
        "true",
        {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"},
        expected=False,
    ),
    case(
        "false-present", "Null", "events:source", "false", {"events:source": "commerce.orders"}, expected=True
    ),
    case("false-absent", "Null", "events:source", False, ABSENT, expected=False),
    # --- ...IfExists: "If the key is not present, evaluate the condition element as true" --------------
    case("absent", "StringLikeIfExists", "ec2:InstanceType", "t2.*", ABSENT, expected=True),
    case(
        "present-match",
        "StringLikeIfExists",
        "ec2:InstanceType",
        "t2.*",
        {"ec2:InstanceType": "t2.nano"},
        expected=True,
    ),
    case(
        "present-mismatch",
        "StringLikeIfExists",
        "ec2:InstanceType",
        "t2.*",
        {"ec2:InstanceType": "m5.large"},
        expected=False,
    ),
    case("absent", "ArnEqualsIfExists", "aws:SourceArn", RULE_ARN, ABSENT, expected=True),
    case("absent", "NumericLessThanIfExists", "k", 3, ABSENT, expected=True),
    case("absent", "BoolIfExists", "aws:MultiFactorAuthPresent", "false", ABSENT, expected=True),
    case("absent", "StringNotEqualsIfExists", "k", "a", ABSENT, expected=True),
    case("present-equal", "StringNotEqualsIfExists", "k", "a", {"k": "a"}, expected=False),
]


@pytest.mark.parametrize(("block", "context", "expected"), OPERATOR_CASES)
def test_condition_operator(block: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(block, context) is expected


SET_CASES = [
    # "ForAllValues ... returns true if every key value in the request matches at least one value in the
    # policy"; "ForAnyValue - The condition returns true if any one of the key values in the request matches
    # any one of the condition values in the policy."
    case(
        "all-listed",
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        ["a", "b", "c"],
        {"aws:TagKeys": ["a", "b"]},
        expected=True,
    ),
    case(
        "one-unlisted",
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        ["a", "b"],
        {"aws:TagKeys": ["a", "x"]},
        expected=False,
    ),
    case(
        "single-value",
        "ForAllValues:StringEquals",
        "events:source",
        ["commerce.payments"],
        {"events:source": "commerce.payments"},
        expected=True,
    ),
    case(
        "single-value-other",
        "ForAllValues:StringEquals",
        "events:source",
        ["commerce.payments"],
        {"events:source": "commerce.orders"},
        expected=False,
    ),
    # "If the key values in the request resolve to an empty data set (for example, an empty string), a
    # condition operator modified by ForAllValues returns true, and ... ForAnyValue returns false."
    case("absent", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], ABSENT, expected=True),
    case("empty-list", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": []}, expected=True),
    case(
        "empty-string", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": ""}, expected=True
    ),
    case("absent", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ABSENT, expected=False),
    case("empty-list", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": []}, expected=False),
    case(
        "empty-string", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": ""}, expected=False
    ),
    case(
        "one-listed",
        "ForAnyValue:StringLike",
        "dynamodb:requestedAttributes",
        ["ID", "PostDateTime"],
        {"dynamodb:requestedAttributes": ["UserName", "Message", "PostDateTime"]},
        expected=True,
    ),
    case(
        "none-listed",
        "ForAnyValue:StringLike",
        "dynamodb:requestedAttributes",
        ["ID", "PostDateTime"],
        {"dynamodb:requestedAttributes": ["UserName"]},
        expected=False,
    ),
    case(
        "none-forbidden",
        "ForAllValues:StringNotEquals",
        "aws:TagKeys",
        ["secret"],
        {"aws:TagKeys": ["a", "b"]},
        expected=True,
    ),
    case(
        "one-forbidden",
        "ForAllValues:StringNotEquals",
        "aws:TagKeys",
        ["secret"],
        {"aws:TagKeys": ["a", "secret"]},
        expected=False,
    ),
    case(
        "one-not-listed",
        "ForAnyValue:StringNotEquals",
        "aws:TagKeys",
        ["a"],
        {"aws:TagKeys": ["a", "b"]},
        expected=True,
    ),
    case(
        "all-listed",
        "ForAnyValue:StringNotEquals",
        "aws:TagKeys",
        ["a"],
        {"aws:TagKeys": ["a"]},
        expected=False,
    ),
    case("absent", "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["a"], ABSENT, expected=True),
    # Not documented, our choice: several request values without a set operator match like ForAnyValue
    # (positive operators) and like ForAllValues of the negation (negated operators).
    case("multi-no-set-operator", "StringEquals", "k", "a", {"k": ["b", "a"]}, expected=True),
    case("multi-no-set-operator", "StringNotEquals", "k", "a", {"k": ["b", "a"]}, expected=False),
]


@pytest.mark.parametrize(("block", "context", "expected"), SET_CASES)
def test_set_operators(block: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(block, context) is expected


def test_several_keys_under_one_operator_are_anded() -> None:
    """ "If your policy statement has multiple context keys attached to a single condition operator, the
    context keys are evaluated using a logical AND"."""
    block = {"StringEquals": {"kms:CallerAccount": ACCOUNT, "kms:ViaService": "sqs.us-east-1.amazonaws.com"}}
    assert holds(block, {"kms:CallerAccount": ACCOUNT, "kms:ViaService": "sqs.us-east-1.amazonaws.com"})
    assert not holds(block, {"kms:CallerAccount": ACCOUNT, "kms:ViaService": "sns.us-east-1.amazonaws.com"})
    assert not holds(block, {"kms:ViaService": "sqs.us-east-1.amazonaws.com"})


def test_several_operators_are_anded() -> None:
    """ "If your policy statement has multiple condition operators, the condition operators are evaluated
    using a logical AND" — the kit's own events:PutEvents grant, for instance."""
    block = {
        "ForAllValues:StringEquals": {
            "events:source": ["commerce.payments"],
            "events:detail-type": ["PaymentFailed"],
        },
        "Null": {"events:source": "false", "events:detail-type": "false"},
    }
    assert holds(block, {"events:source": "commerce.payments", "events:detail-type": "PaymentFailed"})
    assert not holds(block, {"events:source": "commerce.payments", "events:detail-type": "OrderPlaced"})
    assert not holds(
        block, {"events:source": "commerce.payments"}
    )  # Null false: the detail-type must be there
    assert not holds(block, {})  # ForAllValues alone would be true here; Null false closes the gap


def test_condition_key_names_are_case_insensitive() -> None:
    """ "Condition key names are not case-sensitive. For example, including the aws:SourceIP condition key is
    equivalent to testing for AWS:SourceIp"."""
    block = {"IpAddress": {"aws:SourceIP": "203.0.113.0/24"}}
    assert holds(block, {"AWS:SourceIp": "203.0.113.9"})
    assert holds({"StringEquals": {"AWS:SOURCEACCOUNT": ACCOUNT}}, {"aws:SourceAccount": ACCOUNT})


def test_if_exists_with_deny_and_negated_operator_still_denies_when_missing() -> None:
    """ "If you are using an "Effect": "Deny" element with a negated condition operator like
    StringNotEqualsIfExists, the request is still denied even if the tag is missing"."""
    guard = policy(
        allow(),
        deny(Condition={"StringNotEqualsIfExists": {"aws:ResourceTag/team": "orders"}}),
    )
    assert guard.evaluate(request(), resource_based=False) is Decision.EXPLICIT_DENY
    tagged = request(context={"aws:ResourceTag/team": "orders"})
    assert guard.evaluate(tagged, resource_based=False) is Decision.ALLOW


def test_deny_with_secure_transport_false_only_denies_plain_http() -> None:
    """The kit's queue/topic policies: Deny when Bool aws:SecureTransport is "false"."""
    tls_only = policy(
        deny("sqs:*", Principal={"AWS": "*"}, Condition={"Bool": {"aws:SecureTransport": "false"}})
    )
    plain = request("sqs:SendMessage", context={"aws:SecureTransport": False})
    tls = request("sqs:SendMessage", context={"aws:SecureTransport": True})
    assert tls_only.evaluate(plain, resource_based=True) is Decision.EXPLICIT_DENY
    assert tls_only.evaluate(tls, resource_based=True) is Decision.IMPLICIT_DENY
    # "If the key that you specify in a policy condition is not present in the request context, the values
    # do not match": a request without the key is not denied by this statement.
    assert tls_only.evaluate(request("sqs:SendMessage"), resource_based=True) is Decision.IMPLICIT_DENY
