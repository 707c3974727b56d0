"""An EventBridge rule target for a KMS-encrypted SQS queue, with its own DLQ and retry policy.

``aws_events_targets.SqsQueue`` grants ``events.amazonaws.com`` ``kms:GenerateDataKey*``/``kms:ReEncrypt*``
on the queue's key; the kit's key policy already admits EventBridge (scoped to this account) with explicit
actions, so this target only writes the queue policy, scoped to the one rule.
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces.aws_events import IRuleRef

from infra.constructs.subscriptions import Subscription


@jsii.implements(events.IRuleTarget)
class EncryptedQueueTarget:
    def __init__(
        self,
        queue: sqs.IQueue,
        *,
        dead_letter_queue: sqs.IQueue,
        retry_attempts: int,
        max_event_age: Duration,
    ) -> None:
        self._queue = queue
        self._dead_letter_queue = dead_letter_queue
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        rule_arn = events.CfnRule.arn_for_rule(rule)
        for queue in (self._queue, self._dead_letter_queue):
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
                )
            )
        return events.RuleTargetConfig(
            arn=self._queue.queue_arn,
            target_resource=self._queue,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letter_queue.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self._retry_attempts,
                maximum_event_age_in_seconds=int(self._max_event_age.to_seconds()),
            ),
        )


def pattern_of(subscription: Subscription) -> events.EventPattern:
    """The rule pattern of a subscription: its source, its detail-types, its filter on ``detail``."""
    return events.EventPattern(
        source=[subscription.source],
        detail_type=list(subscription.detail_types),
        detail=dict(subscription.detail) or None,
    )
