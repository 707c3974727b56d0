"""The six tables of docs/architecture.md. Construct ids here are logical-ID contracts: never rename them."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

_S = dynamodb.AttributeType.STRING


class WorkflowTables(Construct):
    """On-demand tables, encrypted with the stage key, with point-in-time recovery.

    Where the stage keeps its data (``removal_policy`` RETAIN), tables are also protected from deletion:
    neither a stack update that would replace or remove one nor a DeleteTable call can drop it.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self._removal_policy = removal_policy
        self._deletion_protection = removal_policy == RemovalPolicy.RETAIN
        self.workflows = self._table("Workflows", sort_key="sk")
        self.idempotency = self._table("Idempotency", partition_key="id", ttl="expiration")
        self.inventory = self._table("Inventory")
        self.shipments = self._table("Shipments")
        self.payments = self._table("Payments", sort_key="sk")
        self.notifications = self._table("Notifications")

    @property
    def all(self) -> tuple[dynamodb.Table, ...]:
        return (
            self.workflows,
            self.idempotency,
            self.inventory,
            self.shipments,
            self.payments,
            self.notifications,
        )

    def _table(
        self, name: str, *, partition_key: str = "pk", sort_key: str | None = None, ttl: str | None = None
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            f"{name}Table",
            partition_key=dynamodb.Attribute(name=partition_key, type=_S),
            sort_key=dynamodb.Attribute(name=sort_key, type=_S) if sort_key else None,
            time_to_live_attribute=ttl,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self._key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=self._removal_policy,
            deletion_protection=self._deletion_protection,
        )
