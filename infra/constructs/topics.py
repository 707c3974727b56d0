"""The SNS topics: operator alarms, human escalation, customer notifications. All CMK-encrypted, TLS only."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class WorkflowTopics(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self.alarms = self._topic("Alarms", f"WorkflowKit {stage}: alarms")
        self.escalation = self._topic("Escalation", f"WorkflowKit {stage}: workflows needing a human")
        self.customer = self._topic("CustomerNotifications", f"WorkflowKit {stage}: customer notifications")

    def _topic(self, construct_id: str, display_name: str) -> sns.Topic:
        return sns.Topic(
            self,
            construct_id,
            display_name=display_name,
            master_key=self._key,
            enforce_ssl=True,
        )
