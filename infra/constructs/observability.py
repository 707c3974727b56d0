"""Dashboard and alarms: nothing is lost silently, and a stuck workflow pages someone.

Alarms (all to ``alarm_topic``): every DLQ holding a message, every state machine execution that failed or
timed out, any controller error, any record a queue-fed function failed (its partial batch failures never
count as Lambda ``Errors``), and any workflow the controller found past its deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults

PERIOD = Duration.minutes(1)
PAST_DEADLINE_METRIC = "WorkflowsPastDeadline"
# EMF, one per record a queue-fed function reports as a batch item failure (dimension ``service``).
RECORDS_FAILED_METRIC = "RecordsFailed"
RECORDS_FAILED_PERIOD = Duration.minutes(5)
CONTROLLER_SERVICE = "controller"


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
        state_machines: Mapping[str, sfn.IStateMachine],
        functions: Mapping[str, lambda_.IFunction],
        controller: lambda_.IFunction,
        workflow_metrics: Sequence[str],
        queue_fed_services: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = actions.SnsAction(alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

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
        self._alarm("ControllerErrors", controller.metric_errors(period=PERIOD), "the controller raised")
        records_failed = {service: self.records_failed_metric(service) for service in queue_fed_services}
        for service, metric in records_failed.items():
            self._alarm(
                f"{_camel(service)}RecordsFailed",
                metric,
                f"{service} failed records of its queue (they are retried, then moved to its DLQ)",
            )
        past_deadline = self.workflow_metric(PAST_DEADLINE_METRIC)
        self._alarm("WorkflowsPastDeadline", past_deadline, "a workflow step missed its deadline")

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"workflowkit-{stage}",
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
                title="State machine executions",
                left=[
                    metric
                    for name, m in state_machines.items()
                    for metric in (
                        m.metric_started(label=f"{name} started", period=PERIOD),
                        m.metric_succeeded(label=f"{name} succeeded", period=PERIOD),
                        m.metric_failed(label=f"{name} failed", period=PERIOD),
                        m.metric_timed_out(label=f"{name} timed out", period=PERIOD),
                    )
                ],
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

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm
        return alarm


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
