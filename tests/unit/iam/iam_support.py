"""Shared vocabulary of the IAM evaluator tests: accounts, principals, documents, requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflowkit.iam import Policy, Principal, Request

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/OrderHandler"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/OrderHandler/order-handler-session"
OTHER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SomeoneElse"
FOREIGN_ROLE_ARN = f"arn:aws:iam::{OTHER_ACCOUNT}:role/Partner"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RULE_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/orders-to-queue"

ROLE = Principal(ROLE_ARN, ACCOUNT)
SESSION = Principal(SESSION_ARN, ACCOUNT)
OTHER_ROLE = Principal(OTHER_ROLE_ARN, ACCOUNT)
FOREIGN_ROLE = Principal(FOREIGN_ROLE_ARN, OTHER_ACCOUNT)
EVENTS = Principal.of_service("events.amazonaws.com")
CLOUDWATCH = Principal.of_service("cloudwatch.amazonaws.com")


def document(*statements: Mapping[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def policy(*statements: Mapping[str, Any], name: str = "policy", version: str = "2012-10-17") -> Policy:
    return Policy.parse(document(*statements, version=version), name=name)


def allow(action: Any = "*", resource: Any = "*", **elements: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **elements}


def deny(action: Any = "*", resource: Any = "*", **elements: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **elements}


def request(
    action: str = "dynamodb:PutItem",
    resource: str = TABLE_ARN,
    *,
    principal: Principal = ROLE,
    resource_account: str | None = ACCOUNT,
    context: Mapping[str, Any] | None = None,
) -> Request:
    return Request(principal, action, resource, resource_account, dict(context or {}))
