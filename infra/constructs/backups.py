"""AWS Backup for the stage's tables: an encrypted vault, a plan, and one selection naming every table.

Point-in-time recovery (on for every table) restores a table to any second of the last 35 days, but it
lives and dies with the table and with whoever may write it. The plan adds recovery points in a vault of
their own: encrypted with the stage key, kept past a table's deletion, and deleted by nobody before their
lifecycle ends (the vault's access policy denies DeleteRecoveryPoint and UpdateRecoveryPointLifecycle to
every principal; AWS Backup's own lifecycle still expires them). Daily points are kept 35 days, monthly
ones a year.

The selection names each table by ARN, so a table added to the stage is backed up by construction, and
backs up through a role of its own with exactly the permissions AWS Backup documents for DynamoDB
(AWSBackupServiceRolePolicyForBackup's DynamoDB, vault, KMS and tagging statements), on these tables,
this vault and the stage key only. Restores are an operator's act, with their own role.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.constructs import defaults, findings
from infra.constructs.naming import STACK_SUFFIX_LENGTH, PhysicalName, physical

# Recovery points: a daily one kept 35 days (as far back as point-in-time recovery reaches, but out of
# the table's reach), and the first of each month kept a year. Times are UTC.
DAILY_RETENTION = Duration.days(35)
MONTHLY_RETENTION = Duration.days(365)
DAILY_SCHEDULE = events.Schedule.cron(hour="3", minute="0")
MONTHLY_SCHEDULE = events.Schedule.cron(day="1", hour="4", minute="0")
# A job that has not started within the window is not started (the next one runs the next day); one that
# has not completed within the completion window is cancelled.
START_WINDOW = Duration.hours(1)
COMPLETION_WINDOW = Duration.hours(8)

TABLE_ACTIONS = (
    "dynamodb:CreateBackup",
    "dynamodb:DescribeTable",
    "dynamodb:ListTagsOfResource",
    "dynamodb:StartAwsBackupJob",
)
TABLE_BACKUP_ACTIONS = ("dynamodb:DeleteBackup", "dynamodb:DescribeBackup")
VAULT_ACTIONS = ("backup:CopyIntoBackupVault", "backup:DescribeBackupVault")


def vault_name(stage: str) -> str:
    """The vault's name before ``-<stack suffix>``: vaults need a name, and this one outlives its stack."""
    return physical(stage, "tables")


class TableBackups(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: Sequence[dynamodb.ITable],
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        if not tables:
            raise ValueError("TableBackups needs at least one table")
        PhysicalName(
            f"stage {stage!r}", "backup vault", f"{vault_name(stage)}-{'x' * STACK_SUFFIX_LENGTH}"
        ).check()
        # Kept in every stage: CloudFormation cannot delete a vault that holds recovery points, and the
        # points expire on their own lifecycle. The name is unique to the stack instance, so a redeploy
        # after a deletion does not collide with the vault left behind.
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=Fn.join("-", [vault_name(stage), defaults.stack_unique_suffix()]),
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
            block_recovery_point_deletion=True,
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=physical(stage, "tables"),
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="Daily",
                    schedule_expression=DAILY_SCHEDULE,
                    delete_after=DAILY_RETENTION,
                    start_window=START_WINDOW,
                    completion_window=COMPLETION_WINDOW,
                ),
                backup.BackupPlanRule(
                    rule_name="Monthly",
                    schedule_expression=MONTHLY_SCHEDULE,
                    delete_after=MONTHLY_RETENTION,
                    start_window=START_WINDOW,
                    completion_window=COMPLETION_WINDOW,
                ),
            ],
        )
        self.role = iam.Role(
            self,
            "Role",
            description=f"WorkflowKit {stage}: AWS Backup backs up the stage's tables",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"WorkflowKit {stage}: back up the stage's tables into its vault",
            statements=_statements(tables, self.vault, key),
            roles=[self.role],
        )
        self.selection = backup.BackupSelection(
            self,
            "Selection",
            backup_plan=self.plan,
            resources=[backup.BackupResource.from_dynamo_db_table(table) for table in tables],
            role=self.role,
            disable_default_backup_policy=True,
        )
        # The role must hold its permissions before AWS Backup is told to use it.
        self.selection.node.add_dependency(self.policy)
        for resource in ("*", RECOVERY_POINTS, *(_table_backups(table) for table in tables)):
            findings.acknowledge(
                self.policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{findings.as_rendered(self, resource)}]",
                findings.BACKUP_WILDCARDS,
            )


# The recovery points AWS Backup creates, named at run time, in this account and region only.
RECOVERY_POINTS = f"arn:{Aws.PARTITION}:backup:{Aws.REGION}:{Aws.ACCOUNT_ID}:recovery-point:*"


def _table_backups(table: dynamodb.ITable) -> str:
    """The on-demand backups DynamoDB makes of ``table`` for AWS Backup, named at run time."""
    return f"{table.table_arn}/backup/*"


def _statements(
    tables: Sequence[dynamodb.ITable], vault: backup.IBackupVault, key: kms.IKey
) -> list[iam.PolicyStatement]:
    table_arns = [table.table_arn for table in tables]
    return [
        iam.PolicyStatement(sid="Tables", actions=list(TABLE_ACTIONS), resources=table_arns),
        iam.PolicyStatement(
            sid="TableBackups",
            actions=list(TABLE_BACKUP_ACTIONS),
            resources=[_table_backups(table) for table in tables],
        ),
        iam.PolicyStatement(sid="Vault", actions=list(VAULT_ACTIONS), resources=[vault.backup_vault_arn]),
        iam.PolicyStatement(
            sid="TagRecoveryPoints", actions=["backup:TagResource"], resources=[RECOVERY_POINTS]
        ),
        # Reads the tables through DynamoDB (which decrypts them with the stage key) and encrypts the
        # recovery points with it through a grant for the backup service.
        iam.PolicyStatement(
            sid="KeyThroughDynamoDB",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.amazonaws.com"}},
        ),
        iam.PolicyStatement(sid="DescribeKey", actions=["kms:DescribeKey"], resources=[key.key_arn]),
        iam.PolicyStatement(
            sid="GrantForBackup",
            actions=["kms:CreateGrant"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        # Resolves the selection's resources; the Resource Groups Tagging API has no resource-level
        # permissions.
        iam.PolicyStatement(sid="ResolveSelection", actions=["tag:GetResources"], resources=["*"]),
    ]
