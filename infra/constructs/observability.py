"""Dashboard and alarms: nothing is lost silently, and a stuck workflow pages someone.

Each deployed workflow gets its own dashboard row (its state machines' executions, its rules' failed
deliveries) and alarms named after it; the kit's shared parts (controller, queues, functions, deadlines)
are shown once.

Alarms (all to ``alarm_topic``): every DLQ holding a message, an event of the workflows that no rule
delivered (it carried no workflow context: ``unrouted_queue``), every state machine execution that failed or
timed out, any record a queue-fed function failed (its partial batch failures never count as Lambda
``Errors``), any workflow the controller found past its deadline, and every failure outside the functions'
code: a function's errors, throttles and runs into its timeout, an event a rule could not deliver to its
target (or to the target's DLQ), and a deadline Scheduler could not deliver to the bus (or dead-letter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration, Fn
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults
from infra.constructs.naming import camel, physical

PERIOD = Duration.minutes(1)
PAST_DEADLINE_METRIC = "WorkflowsPastDeadline"
# EMF, one per record a queue-fed function reports as a batch item failure (dimension ``service``).
RECORDS_FAILED_METRIC = "RecordsFailed"
RECORDS_FAILED_PERIOD = Duration.minutes(5)
CONTROLLER_SERVICE = "controller"
EVENTS_NAMESPACE = "AWS/Events"
# Deadlines Scheduler failed to deliver, by what became of them (AWS/Scheduler, dimension ScheduleGroup).
SCHEDULER_FAILURES = {
    "DeadlinesTargetErrors": "TargetErrorCount",
    "DeadlinesTargetThrottled": "TargetErrorThrottledCount",
    "DeadlinesDropped": "InvocationDroppedCount",
    "DeadlinesFailedToDeadLetter": "InvocationsFailedToBeSentToDeadLetterCount",
}


@dataclass(frozen=True)
class WorkflowResources:
    """What one workflow owns on its own: its state machines and its rules, keyed by alarm id prefix."""

    state_machines: Mapping[str, sfn.IStateMachine] = field(default_factory=dict)
    rules: Mapping[str, events.IRule] = field(default_factory=dict)


class WorkflowObservability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        alarm_topic: sns.ITopic,
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        workflows: Mapping[str, WorkflowResources],
        unrouted_queue: sqs.IQueue,
        shared_rules: Mapping[str, events.IRule],
        functions: Mapping[str, lambda_.Function],
        bus: events.IEventBus,
        schedule_group: scheduler.IScheduleGroup,
        notification_topics: Mapping[str, sns.ITopic],
        workflow_metrics: Sequence[str],
        queue_fed_services: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = actions.SnsAction(alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        state_machines = {name: m for w in workflows.values() for name, m in w.state_machines.items()}
        rules = {name: rule for w in workflows.values() for name, rule in w.rules.items()}
        if len(state_machines) != sum(len(w.state_machines) for w in workflows.values()) or len(rules) != sum(
            len(w.rules) for w in workflows.values()
        ):
            raise ValueError("two workflows' state machines or rules share an alarm name")
        if set(rules) & set(shared_rules):
            raise ValueError(f"rules share an alarm name: {sorted(set(rules) & set(shared_rules))}")
        rules = {**rules, **shared_rules}

        unrouted_depth = unrouted_queue.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum"
        )
        self._alarm(
            "UnroutedEventsNotEmpty",
            unrouted_depth,
            "events of the deployed workflows arrived without a workflow context and no rule delivered them: "
            "replay them with a context or drop them (docs/decisions/0023)",
        )

        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}NotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"{name} holds messages that need a redrive",
            )
        for name, machine in state_machines.items():
            self._alarm(f"{name}ExecutionsFailed", machine.metric_failed(period=PERIOD), f"{name} failed")
            self._alarm(
                f"{name}ExecutionsTimedOut", machine.metric_timed_out(period=PERIOD), f"{name} timed out"
            )
        for name, function in functions.items():
            self._alarm(f"{camel(name)}Errors", function.metric_errors(period=PERIOD), f"{name} raised")
            self._alarm(
                f"{camel(name)}Throttles",
                function.metric_throttles(period=PERIOD),
                f"{name} was throttled (an SQS batch waits out its visibility timeout; an API call fails)",
            )
            # A timeout ends an invocation at Duration == Timeout and also counts in Errors; this alarm names
            # the cause, and warns before the limit is reached. (Duration works whatever the log format; a
            # metric filter on "Task timed out" depends on the runtime's text logs.)
            timeout_ms = (function.timeout or defaults.FUNCTION_TIMEOUT).to_milliseconds()
            self._alarm(
                f"{camel(name)}NearTimeout",
                function.metric_duration(period=PERIOD, statistic="Maximum"),
                f"{name} ran into {int(defaults.TIMEOUT_ALARM_FRACTION * 100)}% of its timeout or beyond",
                threshold=defaults.TIMEOUT_ALARM_FRACTION * timeout_ms,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            )
        for name, rule in rules.items():
            self._alarm(
                f"{name}FailedInvocations",
                self.rule_metric(bus, rule, "FailedInvocations"),
                f"rule {name} could not deliver events to its target (they went to the target's DLQ)",
            )
            self._alarm(
                f"{name}FailedToDeadLetter",
                self.rule_metric(bus, rule, "InvocationsFailedToBeSentToDlq"),
                f"rule {name} could not deliver events to its target nor to its DLQ: they are lost",
            )
        scheduler_metrics = {
            "TargetErrorCount": schedule_group.metric_target_errors(period=PERIOD),
            "TargetErrorThrottledCount": schedule_group.metric_target_throttled(period=PERIOD),
            "InvocationDroppedCount": schedule_group.metric_dropped(period=PERIOD),
            "InvocationsFailedToBeSentToDeadLetterCount": schedule_group.metric_failed_to_be_sent_to_dlq(
                period=PERIOD
            ),
        }
        # Escalations and notices SNS could not deliver to a subscriber after its retries. (The alarm
        # topic's own failures cannot page through it: they stay in each alarm's history.)
        for name, topic in notification_topics.items():
            self._alarm(
                f"{name}NotificationsFailed",
                topic.metric_number_of_notifications_failed(period=PERIOD, statistic="Sum"),
                f"SNS could not deliver {name} notifications to a subscriber",
            )
        for alarm_id, metric_name in SCHEDULER_FAILURES.items():
            self._alarm(
                alarm_id,
                scheduler_metrics[metric_name],
                f"Scheduler could not deliver step deadlines to the bus ({metric_name})",
            )
        records_failed = {service: self.records_failed_metric(service) for service in queue_fed_services}
        for service, metric in records_failed.items():
            self._alarm(
                f"{camel(service)}RecordsFailed",
                metric,
                f"{service} failed records of its queue (they are retried, then moved to its DLQ)",
            )
        past_deadline = self.workflow_metric(PAST_DEADLINE_METRIC)
        self._alarm("WorkflowsPastDeadline", past_deadline, "a workflow step missed its deadline")

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=physical(stage),
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Workflows (controller)",
                left=[self.workflow_metric(name) for name in (*workflow_metrics, PAST_DEADLINE_METRIC)],
                width=24,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Queue depth",
                left=[
                    q.metric_approximate_number_of_messages_visible(label=name, period=PERIOD)
                    for name, q in queues.items()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    q.metric_approximate_number_of_messages_visible(label=name, period=PERIOD)
                    for name, q in dead_letter_queues.items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Failed records (partial batch failures)",
                left=[metric.with_(label=service) for service, metric in records_failed.items()],
                width=24,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[f.metric_errors(label=name, period=PERIOD) for name, f in functions.items()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration p99",
                left=[
                    f.metric_duration(label=name, period=PERIOD, statistic="p99")
                    for name, f in functions.items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda throttles",
                left=[f.metric_throttles(label=name, period=PERIOD) for name, f in functions.items()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration max (alarm at 90% of the timeout)",
                left=[
                    f.metric_duration(label=name, period=PERIOD, statistic="Maximum")
                    for name, f in functions.items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Deadlines (Scheduler)",
                left=[
                    schedule_group.metric_attempts(label="attempts", period=PERIOD),
                    schedule_group.metric_sent_to_dlq(label="sent to DLQ", period=PERIOD),
                    *(metric.with_(label=name) for name, metric in scheduler_metrics.items()),
                ],
                width=24,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Unrouted events (no workflow context, no rule delivered them)",
                left=[unrouted_depth.with_(label="unrouted events")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Events without a workflow context: rule deliveries failed (to target / to DLQ)",
                left=[
                    self.rule_metric(bus, rule, metric).with_(label=f"{name} {metric}")
                    for name, rule in shared_rules.items()
                    for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq")
                ],
                width=12,
            ),
        )
        for workflow, resources in workflows.items():
            row: list[cloudwatch.IWidget] = []
            if resources.state_machines:
                row.append(
                    cloudwatch.GraphWidget(
                        title=f"{workflow}: state machine executions",
                        left=[
                            metric
                            for name, m in resources.state_machines.items()
                            for metric in (
                                m.metric_started(label=f"{name} started", period=PERIOD),
                                m.metric_succeeded(label=f"{name} succeeded", period=PERIOD),
                                m.metric_failed(label=f"{name} failed", period=PERIOD),
                                m.metric_timed_out(label=f"{name} timed out", period=PERIOD),
                            )
                        ],
                        width=12,
                    )
                )
            row.append(
                cloudwatch.GraphWidget(
                    title=f"{workflow}: rule deliveries failed (to target / to DLQ)",
                    left=[
                        self.rule_metric(bus, rule, metric).with_(label=f"{name} {metric}")
                        for name, rule in resources.rules.items()
                        for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq")
                    ],
                    width=24 - 12 * (len(row)),
                )
            )
            self.dashboard.add_widgets(*row)
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)
        )

    @staticmethod
    def workflow_metric(name: str) -> cloudwatch.Metric:
        """An EMF metric the controller emits with Powertools (default dimension ``service``)."""
        return cloudwatch.Metric(
            namespace=defaults.METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": CONTROLLER_SERVICE},
            statistic="Sum",
            period=PERIOD,
        )

    @staticmethod
    def records_failed_metric(service: str) -> cloudwatch.Metric:
        """Records ``service`` (its POWERTOOLS_SERVICE_NAME) reported as batch item failures per 5 min."""
        return cloudwatch.Metric(
            namespace=defaults.METRICS_NAMESPACE,
            metric_name=RECORDS_FAILED_METRIC,
            dimensions_map={"service": service},
            statistic="Sum",
            period=RECORDS_FAILED_PERIOD,
            # No unit: an alarm with a Unit ignores datapoints published with any other (emitted as Count).
        )

    @staticmethod
    def rule_metric(bus: events.IEventBus, rule: events.IRule, metric_name: str) -> cloudwatch.Metric:
        """A metric of ``rule`` on the custom ``bus``: such rules publish with EventBusName and RuleName.

        ``Ref`` of a rule on a custom bus is ``<bus>|<rule>``, so the rule's name is its second part.
        """
        return cloudwatch.Metric(
            namespace=EVENTS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={
                "EventBusName": bus.event_bus_name,
                "RuleName": Fn.select(1, Fn.split("|", rule.rule_name)),
            },
            statistic="Sum",
            period=PERIOD,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 0,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm
        return alarm
