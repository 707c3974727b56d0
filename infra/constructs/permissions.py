"""Explicit IAM statements for encrypted resources.

CDK's ``grant*`` helpers add ``kms:GenerateDataKey*`` / ``kms:ReEncrypt*`` for encrypted tables, queues and
topics; the kit allows no wildcard actions, so these helpers spell out exactly what each access needs.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

TABLE_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
)
TABLE_WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
KMS_READ = ("kms:Decrypt", "kms:DescribeKey")
KMS_WRITE = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")


def allow_table(
    principal: iam.IGrantable, table: dynamodb.ITable, key: kms.IKey, *, actions: tuple[str, ...]
) -> None:
    """Item-level access to one table (never Scan), plus the key operations DynamoDB performs for it."""
    writes = any(action in TABLE_WRITE for action in actions)
    _add(principal, iam.PolicyStatement(actions=sorted(actions), resources=[table.table_arn]))
    _add(
        principal,
        iam.PolicyStatement(actions=list(KMS_WRITE if writes else KMS_READ), resources=[key.key_arn]),
    )


def allow_table_read_write(principal: iam.IGrantable, table: dynamodb.ITable, key: kms.IKey) -> None:
    allow_table(principal, table, key, actions=(*TABLE_READ, *TABLE_WRITE))


def allow_publish(principal: iam.IGrantable, topic: sns.ITopic, key: kms.IKey) -> None:
    _add(principal, iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]))
    _add(
        principal,
        iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]),
    )


def allow_put_events(principal: iam.IGrantable, bus_arn: str) -> None:
    _add(principal, iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn]))


def _add(principal: iam.IGrantable, statement: iam.PolicyStatement) -> None:
    principal.grant_principal.add_to_principal_policy(statement)
