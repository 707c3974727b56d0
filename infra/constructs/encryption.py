"""One customer-managed KMS key per stage, with a key policy that names every service allowed to use it."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.constructs.naming import key_alias

# Explicit actions (no wildcards): the admin set lets IAM policies in this account manage the key,
# including PutKeyPolicy so CloudFormation can keep updating it.
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# Services that call KMS on behalf of principals of this account (their grants and data keys).
VIA_SERVICES = ("dynamodb", "sqs", "sns", "scheduler", "states")
# AWS Backup, where the stage backs its tables up into a vault encrypted with the key (compliance=strict):
# creating the vault and each recovery point asks KMS through it for a grant and data keys.
BACKUP_SERVICE = "backup"
# What SQS and SNS ask KMS for when a service principal sends into an encrypted queue or topic: a data key,
# and its decryption to verify it (docs/decisions/0016-service-principals-in-key-and-topic-policies.md).
SEND_ENCRYPTED_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class WorkflowKey(Construct):
    """The stage's CMK. Rotation on; principals of this account use it only through the kit's services."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        removal_policy: RemovalPolicy,
        via_services: Sequence[str] = VIA_SERVICES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias=key_alias(stage),
            description=f"WorkflowKit {stage}: tables, queues, topics and log groups",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            policy=iam.PolicyDocument(statements=_key_policy(via_services)),
        )


def _key_policy(via_services: Sequence[str]) -> list[iam.PolicyStatement]:
    account = iam.AccountRootPrincipal()
    via = [f"{service}.{Aws.REGION}.amazonaws.com" for service in via_services]
    return [
        iam.PolicyStatement(
            sid="AllowAccountToAdministerKey",
            principals=[account],
            actions=list(ADMIN_ACTIONS),
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="AllowAccountUseThroughWorkflowServices",
            principals=[account],
            actions=[*USE_ACTIONS, "kms:CreateGrant"],
            resources=["*"],
            conditions={
                "StringEquals": {"kms:ViaService": via, "kms:CallerAccount": Aws.ACCOUNT_ID},
            },
        ),
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsForThisAccountsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=list(USE_ACTIONS),
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        ),
        # CloudWatch alarms publishing to the encrypted alarm topic. No aws:Source* condition: no AWS page
        # documents that SNS passes the alarm's account or ARN on to KMS (the one that does for EventBridge
        # says it does not), and if it did not, every alarm would be silent again. The alarm topic's policy
        # admits CloudWatch only for this account's alarms (aws:SourceArn, aws:SourceAccount); see 0016.
        iam.PolicyStatement(
            sid="AllowAlarmsToPublishToEncryptedTopics",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=list(SEND_ENCRYPTED_ACTIONS),
            resources=["*"],
        ),
        # EventBridge delivering rule targets into encrypted queues and their target DLQs. No aws:Source*
        # condition: AWS does not support it for EventBridge's deliveries into encrypted SNS/SQS targets, and
        # with it every delivery fails. Each queue's policy admits EventBridge only for its own rule
        # (aws:SourceArn), which is where the confused deputy is stopped; see decision 0016.
        iam.PolicyStatement(
            sid="AllowEventBridgeToDeliverToEncryptedQueues",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=list(SEND_ENCRYPTED_ACTIONS),
            resources=["*"],
        ),
    ]
