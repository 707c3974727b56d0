"""The consumer shape: EventBridge rules -> encrypted SQS queue (+DLQ) -> Lambda, partial batch failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import defaults, findings
from infra.constructs.queues import dead_letter_queue
from infra.constructs.rule_targets import EncryptedQueueTarget, pattern_of
from infra.constructs.service_function import FunctionRuntime, ServiceFunction
from infra.constructs.subscriptions import Subscription

# The least MaximumConcurrency an SQS event source mapping accepts.
MIN_MAXIMUM_CONCURRENCY = 2


class EventQueueFunction(Construct):
    """Rules on ``bus`` for each subscription, one queue, one function.

    Nothing is lost silently: a message the function fails ``MAX_RECEIVE_COUNT`` times moves to
    ``dead_letter_queue``; an event EventBridge cannot deliver to the queue lands in
    ``target_dead_letter_queue``. One function and queue per service, one rule per subscription of every
    workflow it serves.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        handler: str,
        bus: events.IEventBus,
        subscriptions: Sequence[Subscription],
        runtime: FunctionRuntime,
        environment: Mapping[str, str] | None = None,
        timeout: Duration = defaults.FUNCTION_TIMEOUT,
        description: str | None = None,
        # Reserved concurrent executions (compliance=strict), and the queue's pollers capped at as many.
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not subscriptions:
            raise ValueError(f"{service}: a consumer needs at least one subscription")
        if reserved_concurrency is not None and reserved_concurrency < MIN_MAXIMUM_CONCURRENCY:
            raise ValueError(
                f"{service}: a queue-fed function needs at least {MIN_MAXIMUM_CONCURRENCY} reserved "
                f"(its SQS mapping's MaximumConcurrency), not {reserved_concurrency}"
            )
        self.service = service
        key = runtime.key
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetterQueue", key=key)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=defaults.visibility_timeout(timeout, defaults.MAX_BATCHING_WINDOW),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=defaults.MAX_RECEIVE_COUNT
            ),
        )
        self.target_dead_letter_queue = dead_letter_queue(self, "TargetDeadLetterQueue", key=key)
        for queue in (self.dead_letter_queue, self.queue, self.target_dead_letter_queue):
            queue.apply_removal_policy(runtime.removal_policy)  # DLQs hold the events awaiting a redrive
        self.handler = ServiceFunction(
            self,
            "Handler",
            runtime=runtime,
            service=service,
            handler=handler,
            environment=environment,
            timeout=timeout,
            description=description,
            reserved_concurrency=reserved_concurrency,
        )
        self.function = self.handler.function
        # A reserved function's mapping never invokes more at once than it reserved: Lambda's pollers do
        # not know the reservation, and a throttled batch goes back to the queue, spends a receive and
        # drifts towards the DLQ (AWS: keep MaximumConcurrency at or below reserved concurrency).
        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=defaults.BATCH_SIZE,
                max_batching_window=defaults.MAX_BATCHING_WINDOW,
                report_batch_item_failures=True,
                max_concurrency=reserved_concurrency,
            )
        )
        target = EncryptedQueueTarget(
            self.queue,
            dead_letter_queue=self.target_dead_letter_queue,
            retry_attempts=defaults.TARGET_RETRY_ATTEMPTS,
            max_event_age=defaults.TARGET_MAX_EVENT_AGE,
        )
        self._bus = bus
        self._target = target
        self.rules: dict[str, events.Rule] = {}
        for subscription in subscriptions:
            self._subscribe(subscription)

        for child in self.function.node.children:
            if child.node.id.startswith("SqsEventSource"):
                findings.acknowledge(
                    child,
                    "Serverless::Serverless-LambdaEventSourceMappingDestination",
                    findings.ESM_DESTINATION,
                )
        findings.acknowledge(
            self.target_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", findings.TARGET_DLQ
        )
        for dlq in self.dead_letter_queues:
            findings.acknowledge(dlq, "Serverless::Serverless-SQSRedrivePolicy", findings.DLQ_IS_TERMINAL)

    def _subscribe(self, subscription: Subscription) -> events.Rule:
        """A rule on the bus delivering ``subscription`` into the queue."""
        if subscription.name in self.rules:
            raise ValueError(f"{self.service}: duplicate subscription {subscription.name!r}")
        rule = events.Rule(
            self,
            subscription.name,
            event_bus=self._bus,
            description=f"{self.service} <- {subscription.description}"
            if subscription.description
            else f"{self.service} <- {', '.join(subscription.detail_types)} from {subscription.source}",
            event_pattern=pattern_of(subscription),
            targets=[self._target],
        )
        self.rules[subscription.name] = rule
        return rule

    @property
    def dead_letter_queues(self) -> tuple[sqs.Queue, sqs.Queue]:
        return (self.dead_letter_queue, self.target_dead_letter_queue)
