"""Where the deployed workflows' events without a workflow context go, instead of nowhere.

Every rule derived for a workflow matches ``detail.workflow.name`` (docs/decisions/0022, 0023). An event of
one of their detail-types that carries no context — an archive replayed from before the context existed,
a producer not yet upgraded — matches none of them, and EventBridge drops an event no rule matches without
a trace. One rule per source sends such events to ``queue`` (encrypted, kept 14 days, alarmed on depth),
where an operator finds them and decides: replay them with a context, or drop them. Only those rules may
send to it (the queue policy names each rule's ARN as ``aws:SourceArn``); a delivery EventBridge cannot
make lands in ``target_dead_letter_queue``, alarmed like every DLQ.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.constructs import defaults, findings
from infra.constructs.queues import dead_letter_queue
from infra.constructs.rule_targets import EncryptedQueueTarget, pattern_of
from infra.constructs.subscriptions import Subscription


class UnroutedEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        subscriptions: Sequence[Subscription],
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = dead_letter_queue(self, "Queue", key=key, removal_policy=removal_policy)
        self.target_dead_letter_queue = dead_letter_queue(
            self, "TargetDeadLetterQueue", key=key, removal_policy=removal_policy
        )
        target = EncryptedQueueTarget(
            self.queue,
            dead_letter_queue=self.target_dead_letter_queue,
            retry_attempts=defaults.TARGET_RETRY_ATTEMPTS,
            max_event_age=defaults.TARGET_MAX_EVENT_AGE,
        )
        self.rules: dict[str, events.Rule] = {}
        for subscription in subscriptions:
            if subscription.name in self.rules:
                raise ValueError(f"unrouted events: duplicate subscription {subscription.name!r}")
            self.rules[subscription.name] = events.Rule(
                self,
                subscription.name,
                event_bus=bus,
                description=f"unrouted <- {subscription.description}",
                event_pattern=pattern_of(subscription),
                targets=[target],
            )

        findings.acknowledge(self.queue, "AwsSolutions::AwsSolutions-SQS3", findings.UNROUTED_QUEUE)
        findings.acknowledge(self.queue, "Serverless::Serverless-SQSRedrivePolicy", findings.UNROUTED_QUEUE)
        findings.acknowledge(
            self.target_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", findings.TARGET_DLQ
        )
        findings.acknowledge(
            self.target_dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            findings.DLQ_IS_TERMINAL,
        )
