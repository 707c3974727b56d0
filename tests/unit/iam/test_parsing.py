"""Policy.parse rejects, with PolicyError, the documents AWS rejects when a policy is created, and what the
evaluator cannot model; it accepts every documented shape."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.iam.iam_support import ACCOUNT, QUEUE_ARN, ROLE_ARN, TABLE_ARN, allow, document, request
from workflowkit.iam import Decision, Policy, PolicyError, Principal
from workflowkit.iam.conditions import NULL, OPERATORS


def _parse(*statements: dict[str, Any], version: str = "2012-10-17") -> Policy:
    return Policy.parse(document(*statements, version=version), name="under-test")


REJECTED = [
    # (id, statement, message fragment)
    ("effect-lowercase", {"Effect": "allow", "Action": "*", "Resource": "*"}, "Effect"),
    ("effect-missing", {"Action": "*", "Resource": "*"}, "Effect"),
    (
        "action-and-not-action",
        {"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"},
        "not both",
    ),
    ("resource-and-not-resource", allow(NotResource="*"), "not both"),
    ("principal-and-not-principal", allow(Principal="*", NotPrincipal={"AWS": ROLE_ARN}), "not both"),
    ("no-action", {"Effect": "Allow", "Resource": "*"}, "Action or NotAction"),
    ("empty-action-list", allow([]), "non-empty"),
    ("action-without-service", allow("PutItem"), "service:operation"),
    ("unknown-element", {"Effect": "Allow", "Actions": "*", "Resource": "*"}, "unknown elements"),
    ("unknown-operator", allow(Condition={"StringEqual": {"k": "v"}}), "unknown condition operator"),
    (
        "unknown-set-operator",
        allow(Condition={"ForSomeValues:StringEquals": {"k": "v"}}),
        "unknown condition operator",
    ),
    ("null-if-exists", allow(Condition={"NullIfExists": {"k": "true"}}), "IfExists"),
    ("null-not-boolean", allow(Condition={"Null": {"k": "maybe"}}), "Null"),
    ("numeric-not-number", allow(Condition={"NumericLessThan": {"k": "ten"}}), "number"),
    ("date-not-date", allow(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}}), "date"),
    ("bool-not-boolean", allow(Condition={"Bool": {"aws:SecureTransport": "yes"}}), "Bool"),
    ("ip-not-cidr", allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/33"}}), "CIDR"),
    ("binary-not-base64", allow(Condition={"BinaryEquals": {"k": "not base64!"}}), "base-64"),
    ("arn-not-arn", allow(Condition={"ArnLike": {"aws:SourceArn": "orders-rule"}}), "not an ARN"),
    ("condition-value-object", allow(Condition={"StringEquals": {"k": {"nested": 1}}}), "strings"),
    ("condition-no-values", allow(Condition={"StringEquals": {"k": []}}), "no values"),
    ("condition-not-object", allow(Condition=["StringEquals"]), "Condition"),
    (
        "variable-in-resource",
        allow("s3:*", "arn:aws:s3:::bucket/${aws:username}/*"),
        "policy variables are not supported",
    ),
    (
        "variable-in-condition",
        allow(Condition={"StringLike": {"s3:prefix": "home/${aws:username}/"}}),
        "policy variables are not supported",
    ),
    ("partial-wildcard-principal", allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}), "wildcards"),
    ("group-principal", allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:group/Admins"}), "group"),
    ("unknown-principal-type", allow(Principal={"User": ROLE_ARN}), "principal type"),
    ("principal-string", allow(Principal=ROLE_ARN), "principal"),
    ("principal-empty", allow(Principal={}), "principal"),
]


@pytest.mark.parametrize(("statement", "fragment"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_rejected_statement(statement: dict[str, Any], fragment: str) -> None:
    with pytest.raises(PolicyError, match=fragment):
        _parse(statement)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"Version": "2020-01-01", "Statement": [allow()]}, "Version"),
        ({"Version": "2012-10-17"}, "Statement"),
        ({"Version": "2012-10-17", "Statement": []}, "Statement"),
        ({"Version": "2012-10-17", "Statement": ["allow"]}, "not an object"),
        ({"Version": "2012-10-17", "Statement": [allow()], "Extra": 1}, "top-level"),
        ({"Version": "2012-10-17", "Statement": [allow(Sid="A"), allow(Sid="A")]}, "unique"),
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
    ],
)
def test_rejected_document(raw: Any, fragment: str) -> None:
    with pytest.raises(PolicyError, match=fragment):
        Policy.parse(raw, name="under-test")


def test_error_names_the_policy_and_the_statement() -> None:
    with pytest.raises(PolicyError, match=r"^OrdersQueuePolicy: statement AllowRule: .*Effect"):
        Policy.parse(
            document({"Sid": "AllowRule", "Effect": "Permit", "Action": "*", "Resource": "*"}),
            name="OrdersQueuePolicy",
        )
    with pytest.raises(PolicyError, match=r"statement #1: "):
        Policy.parse(document(allow(), {"Effect": "Allow"}), name="p")


def test_json_string_documents_are_accepted() -> None:
    parsed = Policy.parse(json.dumps(document(allow("sqs:SendMessage", QUEUE_ARN))), name="from-json")
    assert parsed.evaluate(request("sqs:SendMessage", QUEUE_ARN), resource_based=False) is Decision.ALLOW


def test_trust_policy_without_resource_is_accepted() -> None:
    """A role trust policy has no Resource element: its statements cover the role itself."""
    trust = Policy.parse(
        document(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
        name="trust",
    )
    lambda_service = request(
        "sts:AssumeRole", ROLE_ARN, principal=Principal.of_service("lambda.amazonaws.com")
    )
    assert trust.evaluate(lambda_service, resource_based=True) is Decision.ALLOW


@pytest.mark.parametrize("version", ["2008-10-17", None])
def test_policy_variables_are_literal_text_before_2012_10_17(version: str | None) -> None:
    """IAM User Guide, Version: with 2008-10-17 "variables such as ${aws:username} aren't recognized as
    variables and are instead treated as literal strings in the policy"; a missing Version defaults to it."""
    raw: dict[str, Any] = {"Statement": [allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}")]}
    if version is not None:
        raw["Version"] = version
    literal = Policy.parse(raw, name="old")
    assert (
        literal.evaluate(request("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}"), resource_based=False)
        is Decision.ALLOW
    )
    assert (
        literal.evaluate(request("s3:GetObject", "arn:aws:s3:::bucket/alice"), resource_based=False)
        is Decision.IMPLICIT_DENY
    )


@pytest.mark.parametrize(
    "statement",
    [
        allow(["dynamodb:GetItem", "dynamodb:PutItem"], [TABLE_ARN, TABLE_ARN + "/index/*"]),
        allow(Principal={"AWS": [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ROLE_ARN]}),
        allow(Principal={"Service": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com"]}),
        allow(Principal={"Federated": "cognito-identity.amazonaws.com"}),
        allow(
            Principal={"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
        ),
        allow(Principal={"AWS": "AROADBQP57FF2AEXAMPLE"}),  # a deleted role's unique ID: matches nobody
        allow(Condition={"ForAllValues:StringLikeIfExists": {"k": ["a*"]}, "Null": {"j": True}}),
        allow(
            Condition={"NumericLessThanEquals": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": True}}
        ),
        allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "2013-12-15T12:00:00Z"}}),
        allow(Condition={"ArnLike": {"aws:SourceArn": "*"}}),
        {"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["arn:aws:s3:::HRBucket/Payroll/*"]},
    ],
)
def test_documented_shapes_parse(statement: dict[str, Any]) -> None:
    _parse(statement)


def test_operators_are_the_ones_aws_and_moto_list() -> None:
    """Our operator table is IAM's list (moto's validator carries it too): none missing, none invented."""
    policy_validation = pytest.importorskip("moto.iam.policy_validation")
    assert set(OPERATORS) | {NULL} == set(policy_validation.VALID_CONDITIONS)


def test_the_evaluator_imports_no_sdk_and_no_moto() -> None:
    """The package stays pure: the local cloud imports it on its hot path, tests import it without AWS."""
    package = Path(__file__).resolve().parents[3] / "workflowkit" / "iam"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & {"boto3", "botocore", "moto"}, module.name
