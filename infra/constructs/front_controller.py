"""The front controller: the consumer shape for every workflow's events, plus what it needs to keep time.

One controller serves every workflow of the stage. It starts the state machines that run orchestrated
steps, by name (``STATE_MACHINE_ARNS``: ``{"<workflow>/<machine>": arn}``), and stops a running attempt
of them; it writes the workflow projection transactionally, creates one Scheduler one-time schedule per
running step (the schedule's target puts ``StepDeadlineReached`` on the bus through ``scheduler_role``; a
deadline Scheduler cannot deliver after its retries lands in ``schedule_dead_letter_queue``), escalates
to humans over SNS and publishes on the bus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults, findings, permissions
from infra.constructs.event_queue_function import EventQueueFunction
from infra.constructs.queues import dead_letter_queue
from infra.constructs.service_function import FunctionRuntime
from infra.constructs.subscriptions import Subscription
from workflow_core import settings
from workflow_core.catalog import EventCatalog
from workflow_core.lifecycle import SOURCE_CONTROLLER, SOURCE_SCHEDULER

SERVICE = "controller"
HANDLER = "controller.handler.lambda_handler"


class StartedMachine(Protocol):
    """A state machine the controller starts: the machine, and the fixed name its executions run under."""

    @property
    def state_machine(self) -> sfn.IStateMachine: ...

    @property
    def state_machine_name(self) -> str: ...


class FrontController(EventQueueFunction):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subscriptions: Sequence[Subscription],
        catalog: EventCatalog,
        # The controller's events the deployed workflows use (``infra.plan``): all it may put on the bus.
        publishes: Sequence[str],
        bus: events.IEventBus,
        runtime: FunctionRuntime,
        workflows_table: dynamodb.ITable,
        state_machines: Mapping[str, StartedMachine],
        escalation_topic: sns.ITopic,
        schedule_group_removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        timeout: Duration = defaults.FUNCTION_TIMEOUT,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            service=SERVICE,
            handler=HANDLER,
            bus=bus,
            subscriptions=subscriptions,
            runtime=runtime,
            timeout=timeout,
            reserved_concurrency=reserved_concurrency,
        )
        # The group outlives the stack in stages that keep data (it holds the live deadlines), so its name is
        # CloudFormation's, not a fixed one a redeploy would collide with. The L1 resource, because the L2
        # construct always writes a name of its own; Ref returns the generated name.
        self.schedule_group_resource = scheduler.CfnScheduleGroup(self, "ScheduleGroup")
        self.schedule_group_resource.apply_removal_policy(schedule_group_removal_policy)
        schedule_group_name = self.schedule_group_resource.ref
        # The group as an IScheduleGroup (its metrics, dimension ScheduleGroup = the generated name).
        self.schedule_group = scheduler.ScheduleGroup.from_schedule_group_name(
            self, "ScheduleGroupByName", schedule_group_name
        )
        # Where Scheduler puts a deadline it could not deliver once its retry policy is exhausted: alarmed
        # like every DLQ, redriven by an operator.
        self.schedule_dead_letter_queue = dead_letter_queue(
            self, "ScheduleDeadLetterQueue", key=runtime.key, removal_policy=runtime.removal_policy
        )
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            description="EventBridge Scheduler: puts StepDeadlineReached on the workflow bus",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
        )
        # The schedules' target puts StepDeadlineReached, the one event the scheduler owns, and nothing else.
        permissions.allow_put_events(
            self.scheduler_role,
            bus.event_bus_arn,
            detail_types=permissions.owned_detail_types([SOURCE_SCHEDULER], catalog=catalog),
            catalog=catalog,
        )
        # Scheduler sends dead-letter events with the schedule's execution role.
        permissions.allow_send_message(self.scheduler_role, self.schedule_dead_letter_queue, runtime.key)

        self.function.add_environment(settings.EVENT_BUS_NAME, bus.event_bus_name)
        self.function.add_environment(settings.EVENT_BUS_ARN, bus.event_bus_arn)
        self.function.add_environment(settings.WORKFLOW_TABLE_NAME, workflows_table.table_name)
        # Tokens stay tokens inside the JSON: CloudFormation writes each machine's ARN into the value.
        self.function.add_environment(
            settings.STATE_MACHINE_ARNS,
            Stack.of(self).to_json_string(
                {
                    key: machine.state_machine.state_machine_arn
                    for key, machine in sorted(state_machines.items())
                }
            ),
        )
        self.function.add_environment(settings.SCHEDULE_GROUP_NAME, schedule_group_name)
        self.function.add_environment(settings.SCHEDULER_ROLE_ARN, self.scheduler_role.role_arn)
        self.function.add_environment(
            settings.SCHEDULE_DEAD_LETTER_QUEUE_ARN, self.schedule_dead_letter_queue.queue_arn
        )
        self.function.add_environment(settings.ESCALATION_TOPIC_ARN, escalation_topic.topic_arn)

        # Every schedule in the stage's group: schedule names are per workflow step, created at run time.
        self.schedule_arns = Stack.of(self).format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{schedule_group_name}/*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        key = runtime.key
        role = self.handler.role
        # TransactWriteItems is authorised per item action (Put/Update/Delete/ConditionCheckItem).
        permissions.allow_table_read_write(role, workflows_table, key)
        # Stop a running attempt before compensating or superseding it: the executions of each machine it
        # starts, named at run time (``controller.actions.execution_name``), are all under the machine's name.
        self.execution_arns: dict[str, str] = {}
        for machine_key, machine in sorted(state_machines.items()):
            machine.state_machine.grant_start_execution(role)
            self.execution_arns[machine_key] = Stack.of(self).format_arn(
                service="states",
                resource="execution",
                resource_name=f"{machine.state_machine_name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        if self.execution_arns:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["states:StopExecution"], resources=list(self.execution_arns.values())
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
                resources=[self.schedule_arns],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        permissions.allow_publish(role, escalation_topic, key)
        foreign = [t for t in publishes if catalog.source_of(t) != SOURCE_CONTROLLER]
        if foreign:
            raise ValueError(f"the controller publishes only from {SOURCE_CONTROLLER}, not {foreign}")
        permissions.allow_put_events(role, bus.event_bus_arn, detail_types=publishes, catalog=catalog)

        findings.acknowledge(
            self.schedule_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", findings.SCHEDULE_DLQ
        )
        findings.acknowledge(
            self.schedule_dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            findings.DLQ_IS_TERMINAL,
        )
        policy = role.node.find_child("DefaultPolicy")
        findings.acknowledge(
            policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{findings.as_rendered(self, self.schedule_arns)}]",
            findings.SCHEDULES,
        )
        for executions in self.execution_arns.values():
            findings.acknowledge(
                policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{findings.as_rendered(self, executions)}]",
                findings.EXECUTIONS,
            )
