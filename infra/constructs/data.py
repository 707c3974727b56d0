"""The stage's tables: the kit's three (workflows, idempotency, callbacks) and every table a deployed service
declares.

Construct ids here are logical-ID contracts: a table is ``Data/<name>Table`` whoever declares it, so a
table keeps its logical ID (and its data) as long as its declared name stays the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from workflow_core.deployment import TableNeed

_S = dynamodb.AttributeType.STRING

# The kit's own tables: the controller's event-sourced store and the consumers' idempotency records.
WORKFLOWS = TableNeed("Workflows", env="", sort_key="sk")
IDEMPOTENCY = TableNeed("Idempotency", env="", partition_key="id", ttl="expiration")
# The front door's: each decision claimed once per step attempt, and the task tokens state machines leave
# there for a decision (``frontdoor.claims``; docs/decisions/0029). No TTL: the claims record who decided.
CALLBACKS = TableNeed("Callbacks", env="", partition_key="workflowId", sort_key="sk")


class WorkflowTables(Construct):
    """On-demand tables, encrypted with the stage key, with point-in-time recovery.

    Where the stage keeps its data (``removal_policy`` RETAIN), tables are also protected from deletion:
    neither a stack update that would replace or remove one nor a DeleteTable call can drop it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        tables: Iterable[TableNeed] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self._removal_policy = removal_policy
        self._deletion_protection = removal_policy == RemovalPolicy.RETAIN
        self.by_name: dict[str, dynamodb.Table] = {}
        self.workflows = self._table(WORKFLOWS)
        self.idempotency = self._table(IDEMPOTENCY)
        self.callbacks = self._table(CALLBACKS)
        for need in tables:
            self._table(need)

    @property
    def all(self) -> tuple[dynamodb.Table, ...]:
        return tuple(self.by_name.values())

    def _table(self, need: TableNeed) -> dynamodb.Table:
        if need.name in self.by_name:
            raise ValueError(f"table {need.name!r} is declared twice (names are logical IDs: one table each)")
        table = dynamodb.Table(
            self,
            f"{need.name}Table",
            partition_key=dynamodb.Attribute(name=need.partition_key, type=_S),
            sort_key=dynamodb.Attribute(name=need.sort_key, type=_S) if need.sort_key else None,
            time_to_live_attribute=need.ttl,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self._key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=self._removal_policy,
            deletion_protection=self._deletion_protection,
        )
        self.by_name[need.name] = table
        return table
