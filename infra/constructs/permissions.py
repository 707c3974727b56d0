"""Explicit IAM statements for encrypted resources.

CDK's ``grant*`` helpers add ``kms:GenerateDataKey*`` / ``kms:ReEncrypt*`` for encrypted tables, queues and
topics; the kit allows no wildcard actions, so these helpers spell out exactly what each access needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from workflow_core.catalog import EventCatalog
from workflow_core.deployment import TableAccess

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


def allow_table_access(
    principal: iam.IGrantable, table: dynamodb.ITable, key: kms.IKey, *, access: TableAccess
) -> None:
    """What a service declared it needs on one of its tables (``TableNeed.access``)."""
    allow_table(
        principal, table, key, actions=TABLE_READ if access == "read" else (*TABLE_READ, *TABLE_WRITE)
    )


def allow_publish(principal: iam.IGrantable, topic: sns.ITopic, key: kms.IKey) -> None:
    _add(principal, iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]))
    _add(
        principal,
        iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]),
    )


def allow_send_message(principal: iam.IGrantable, queue: sqs.IQueue, key: kms.IKey) -> None:
    """Send into one encrypted queue: ``sqs:SendMessage``, and the data key SQS generates for it."""
    _add(principal, iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]))
    _add(
        principal,
        iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]),
    )


def owned_detail_types(sources: Iterable[str], *, catalog: EventCatalog) -> list[str]:
    """Every detail-type ``catalog`` assigns to one of ``sources``, sorted."""
    owned = set(sources)
    unknown = owned - {etype.source for etype in catalog.values()}
    if unknown:
        raise ValueError(f"no detail-type of the catalog comes from {sorted(unknown)}")
    return sorted(name for name, etype in catalog.items() if etype.source in owned)


def put_events_statements(
    bus_arn: str, detail_types: Iterable[str], *, catalog: EventCatalog
) -> list[iam.PolicyStatement]:
    """``events:PutEvents`` on the bus for exactly ``detail_types``, each from the source owning it.

    One statement per source, so a source can only carry its own detail-types. IAM documents
    ``events:source`` as multivalued (ArrayOfString): a plain ``StringEquals`` would pass when *any* value
    matches, so the set operator ``ForAllValues`` requires every value to; it is used for
    ``events:detail-type`` too, which is then right whether that key is single- or multivalued. ``Null`` =
    ``false`` closes ``ForAllValues``' hole (true when the key is absent). See
    docs/decisions/0012-publish-only-owned-events.md.
    """
    by_source: dict[str, set[str]] = {}
    for detail_type in detail_types:
        by_source.setdefault(catalog.source_of(detail_type), set()).add(detail_type)
    if not by_source:
        raise ValueError("events:PutEvents needs at least one detail-type the principal publishes")
    return [
        iam.PolicyStatement(
            actions=["events:PutEvents"],
            resources=[bus_arn],
            conditions={
                "ForAllValues:StringEquals": {
                    "events:source": [source],
                    "events:detail-type": sorted(owned),
                },
                "Null": {"events:source": "false", "events:detail-type": "false"},
            },
        )
        for source, owned in sorted(by_source.items())
    ]


def allow_put_events(
    principal: iam.IGrantable, bus_arn: str, *, detail_types: Iterable[str], catalog: EventCatalog
) -> None:
    """Publish on the bus only ``detail_types``, each from its owning source: no service forges another's."""
    for statement in put_events_statements(bus_arn, detail_types, catalog=catalog):
        _add(principal, statement)


def _add(principal: iam.IGrantable, statement: iam.PolicyStatement) -> None:
    principal.grant_principal.add_to_principal_policy(statement)
