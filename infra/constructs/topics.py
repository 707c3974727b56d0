"""The SNS topics: operator alarms, human escalation, notices. All CMK-encrypted, TLS only.

Who publishes: CloudWatch alarms (a service principal: the alarm topic's policy must admit it, the key
policy lets it encrypt), the controller (escalation) and the services that declare a topic need (notices
telling people how their workflows went, escalations), through their roles' IAM grants. Subscribers come
from configuration (``TopicSubscription``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.constructs import findings

# Protocols the kit subscribes from configuration: endpoints outside the stack that SNS can deliver to with
# no further grant. (http would send alarms in clear; sqs/lambda/firehose endpoints need resource and key
# policies of their own: subscribe those in code.)
SUBSCRIPTION_PROTOCOLS = {
    "email": sns.SubscriptionProtocol.EMAIL,
    "email-json": sns.SubscriptionProtocol.EMAIL_JSON,
    "https": sns.SubscriptionProtocol.HTTPS,
    "sms": sns.SubscriptionProtocol.SMS,
}


@dataclass(frozen=True)
class TopicSubscription:
    """One subscriber of a topic: ``protocol`` (a key of ``SUBSCRIPTION_PROTOCOLS``) and its endpoint."""

    protocol: str
    endpoint: str

    def __post_init__(self) -> None:
        if self.protocol not in SUBSCRIPTION_PROTOCOLS:
            supported = ", ".join(sorted(SUBSCRIPTION_PROTOCOLS))
            raise ValueError(f"subscription protocol {self.protocol!r} is not one of {supported}")
        if not self.endpoint:
            raise ValueError(f"subscription {self.protocol}: without an endpoint")


def parse_subscriptions(value: str | Sequence[str] | None) -> tuple[TopicSubscription, ...]:
    """Subscriptions from a context value: ``protocol:endpoint`` items, comma-separated or as a list.

    An ``https://`` URL stands for itself (``https:https://...`` works too):
    ``email:ops@example.com,https://hooks.example.com/x``.
    """
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(_subscription(item.strip()) for item in items if item.strip())


def _subscription(item: str) -> TopicSubscription:
    if item.startswith("https://"):
        return TopicSubscription("https", item)
    protocol, separator, endpoint = item.partition(":")
    if not separator or protocol.startswith("http"):
        raise ValueError(f"subscription {item!r}: expected protocol:endpoint, or an https:// URL")
    return TopicSubscription(protocol.strip(), endpoint.strip())


class WorkflowTopics(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        key: kms.IKey,
        alarm_subscriptions: Iterable[TopicSubscription] = (),
        escalation_subscriptions: Iterable[TopicSubscription] = (),
        notice_subscriptions: Iterable[TopicSubscription] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self.alarms = self._topic("Alarms", f"WorkflowKit {stage}: alarms")
        self.escalation = self._topic("Escalation", f"WorkflowKit {stage}: workflows needing a human")
        # The construct id predates the neutral name; it is the topic's logical ID, so it stays.
        self.notices = self._topic("CustomerNotifications", f"WorkflowKit {stage}: notices about workflows")
        self._admit_alarms(self.alarms)
        self.subscriptions: list[sns.Subscription] = []
        for topic, subscriptions in (
            (self.alarms, alarm_subscriptions),
            (self.escalation, escalation_subscriptions),
            (self.notices, notice_subscriptions),
        ):
            for subscription in subscriptions:
                self.subscriptions.append(self._subscribe(topic, subscription))
        for created in self.subscriptions:
            findings.acknowledge(
                created, "Serverless::Serverless-SNSRedrivePolicy", findings.SUBSCRIBER_REDRIVE
            )

    def _topic(self, construct_id: str, display_name: str) -> sns.Topic:
        return sns.Topic(
            self,
            construct_id,
            display_name=display_name,
            master_key=self._key,
            enforce_ssl=True,
        )

    @staticmethod
    def _admit_alarms(topic: sns.Topic) -> None:
        """CloudWatch publishes alarm notifications as its service principal, for the alarm's ARN.

        The topic policy replaces SNS's default one, which would have admitted it: without this statement
        the policy holds only the TLS deny and no alarm ever notifies anyone.
        """
        this_accounts_alarms = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": this_accounts_alarms},
                },
            )
        )

    def _subscribe(self, topic: sns.Topic, subscription: TopicSubscription) -> sns.Subscription:
        # The construct id is derived from the subscriber, not its position: reordering the configuration
        # neither replaces nor re-confirms existing subscriptions.
        digest = hashlib.sha256(f"{subscription.protocol}:{subscription.endpoint}".encode()).hexdigest()[:10]
        return sns.Subscription(
            topic,
            f"Subscription{digest}",
            topic=topic,
            protocol=SUBSCRIPTION_PROTOCOLS[subscription.protocol],
            endpoint=subscription.endpoint,
        )
