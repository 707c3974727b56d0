"""One stage of the kit: event bus, data, the three patterns of the order workflow, API, observability.

Everything workflow-specific is derived from the one declaration (``ORDER_WORKFLOW``): which consumers exist,
what each subscribes to, what the controller consumes, which state machines exist and which rule starts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.constructs import (
    ChoreographedConsumer,
    FrontController,
    FunctionRuntime,
    OrchestratedFlow,
    ServiceFunction,
    StatusApi,
    WorkflowEventBus,
    WorkflowKey,
    WorkflowObservability,
    WorkflowTables,
    WorkflowTopics,
    defaults,
    permissions,
)
from infra.constructs.topics import TopicSubscription
from workflow_core import definition, settings
from workflow_core.catalog import SOURCE_NOTIFICATIONS, SOURCE_OPERATOR, SOURCE_ORDERS, source_of
from workflow_core.definition import Runner, WorkflowDefinition
from workflow_core.order_workflow import ORDER_WORKFLOW


@dataclass(frozen=True)
class StageConfig:
    """What differs between stages. Built by app.py, the only place that reads the environment."""

    stage: str
    functions_dir: Path
    statemachines_dir: Path
    powertools_version: str
    powertools_layer_arn: str | None = None  # override, e.g. for partitions without the public parameter
    log_level: str = defaults.LOG_LEVEL
    # Subscribers of the three topics (cdk context alarmSubscriptions, escalationSubscriptions,
    # customerSubscriptions).
    alarm_subscriptions: tuple[TopicSubscription, ...] = ()
    escalation_subscriptions: tuple[TopicSubscription, ...] = ()
    customer_subscriptions: tuple[TopicSubscription, ...] = ()

    @property
    def retain_data(self) -> bool:
        """Stateful resources outlive the stack everywhere but in the ``dev`` stage."""
        return self.stage != "dev"


class WorkflowStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        workflow: WorkflowDefinition = ORDER_WORKFLOW,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        stage = config.stage
        retain = defaults.removal_policy(retain=config.retain_data)

        # Stateful resources sit directly under constructs with fixed ids: their logical IDs are a contract
        # (tests/infra/logical_ids.json).
        self.encryption = WorkflowKey(self, "Encryption", stage=stage, removal_policy=retain)
        key = self.encryption.key
        self.events = WorkflowEventBus(self, "Events", stage=stage)
        bus = self.events.bus
        self.tables = WorkflowTables(self, "Data", key=key, removal_policy=retain)
        tables = self.tables
        self.topics = WorkflowTopics(
            self,
            "Topics",
            stage=stage,
            key=key,
            alarm_subscriptions=config.alarm_subscriptions,
            escalation_subscriptions=config.escalation_subscriptions,
            customer_subscriptions=config.customer_subscriptions,
        )

        runtime = FunctionRuntime(
            code=lambda_.Code.from_asset(str(config.functions_dir), exclude=list(defaults.CODE_EXCLUDES)),
            layers=(
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "PowertoolsLayer",
                    config.powertools_layer_arn or defaults.powertools_layer_arn(config.powertools_version),
                ),
            ),
            key=key,
            removal_policy=retain,
            log_level=config.log_level,
        )

        # Orchestration: the payment task functions and the state machines that run them.
        self.payment_checks = ServiceFunction(
            self,
            "PaymentChecks",
            runtime=runtime,
            service="payment-checks",
            handler="payment.checks.lambda_handler",
            description="WorkflowKit payment: validation and fraud checks (Step Functions task)",
        )
        self.payment_gateway = ServiceFunction(
            self,
            "PaymentGateway",
            runtime=runtime,
            service="payment-gateway",
            handler="payment.gateway.lambda_handler",
            environment={
                settings.PAYMENTS_TABLE_NAME: tables.payments.table_name,
                "PAYMENT_GATEWAY": "sandbox",
            },
            description="WorkflowKit payment: card processor operations (Step Functions task)",
        )
        permissions.allow_table_read_write(self.payment_gateway.role, tables.payments, key)
        # The four ASL placeholders of docs/architecture.md.
        task_functions = {
            "ChecksFunctionArn": self.payment_checks.function,
            "GatewayFunctionArn": self.payment_gateway.function,
        }
        substitutions = {"PaymentsTableName": tables.payments.table_name, "EventBusName": bus.event_bus_name}
        triggered = workflow.event_triggered_state_machines()
        self.flows: dict[str, OrchestratedFlow] = {
            name: OrchestratedFlow(
                self,
                f"{_camel(name)}Flow",
                stage=stage,
                name=name,
                asl_path=config.statemachines_dir / f"{name}.asl.json",
                substitutions=substitutions,
                task_functions=task_functions,
                payments_table=tables.payments,
                bus=bus,
                key=key,
                log_removal_policy=retain,
                publishes=outcome_events(workflow, definition.state_machine(name)),
                started_by=triggered.get(name),
            )
            for name in workflow.state_machines()
        }
        started_by_controller = [name for name in self.flows if name not in triggered]
        if len(started_by_controller) != 1:
            raise ValueError(f"expected one controller-started state machine, got {started_by_controller}")
        payment_flow = self.flows[started_by_controller[0]]

        # The hybrid: the front controller.
        self.controller = FrontController(
            self,
            "Controller",
            detail_types=workflow.controller_inputs(),
            bus=bus,
            runtime=runtime,
            workflows_table=tables.workflows,
            payment_state_machine=payment_flow.state_machine,
            payment_state_machine_name=payment_flow.state_machine_name,
            escalation_topic=self.topics.escalation,
            schedule_group_removal_policy=retain,
        )

        # Choreography: one consumer per service the declaration names.
        consumer_tables = {
            "inventory": {settings.INVENTORY_TABLE_NAME: tables.inventory},
            "shipping": {settings.SHIPMENTS_TABLE_NAME: tables.shipments},
            "notification": {settings.NOTIFICATIONS_TABLE_NAME: tables.notifications},
        }
        self.consumers: dict[str, ChoreographedConsumer] = {}
        for service, detail_types in workflow.consumer_subscriptions().items():
            if service not in consumer_tables:
                raise ValueError(f"consumer {service!r} has no tables configured in WorkflowStack")
            own: dict[str, dynamodb.Table] = {
                **consumer_tables[service],
                settings.IDEMPOTENCY_TABLE_NAME: tables.idempotency,
            }
            environment = {settings.EVENT_BUS_NAME: bus.event_bus_name}
            environment |= {name: table.table_name for name, table in own.items()}
            if service == workflow.notifier:
                environment[settings.CUSTOMER_TOPIC_ARN] = self.topics.customer.topic_arn
            consumer = ChoreographedConsumer(
                self,
                f"{_camel(service)}Consumer",
                service=service,
                detail_types=detail_types,
                bus=bus,
                runtime=runtime,
                retry_event=workflow.retry_event,
                retried_steps=workflow.retried_steps(service),
                environment=environment,
            )
            role = consumer.handler.role
            for table in own.values():
                permissions.allow_table_read_write(role, table, key)
            # A consumer publishes what its source owns: the outcomes of what it runs (the notifier: notices).
            sources = {source_of(event) for event in outcome_events(workflow, definition.consumer(service))}
            if service == workflow.notifier:
                sources.add(SOURCE_NOTIFICATIONS)
            permissions.allow_put_events(
                role, bus.event_bus_arn, detail_types=permissions.owned_detail_types(sources)
            )
            if service == workflow.notifier:
                permissions.allow_publish(role, self.topics.customer, key)
            self.consumers[service] = consumer

        # Status and commands over HTTP.
        self.front_door = ServiceFunction(
            self,
            "FrontDoor",
            runtime=runtime,
            service="frontdoor",
            handler="frontdoor.handler.lambda_handler",
            environment={
                settings.EVENT_BUS_NAME: bus.event_bus_name,
                settings.WORKFLOW_TABLE_NAME: tables.workflows.table_name,
            },
            description="WorkflowKit front door: orders, status, operator commands (HTTP API)",
        )
        # Orders (OrderSubmitted) and operator commands (OperatorCommandIssued), nothing else.
        permissions.allow_put_events(
            self.front_door.role,
            bus.event_bus_arn,
            detail_types=permissions.owned_detail_types([SOURCE_ORDERS, SOURCE_OPERATOR]),
        )
        permissions.allow_table(self.front_door.role, tables.workflows, key, actions=permissions.TABLE_READ)
        self.api = StatusApi(
            self,
            "StatusApi",
            stage=stage,
            handler=self.front_door.function,
            key=key,
            log_removal_policy=retain,
        )

        self.observability = WorkflowObservability(
            self,
            "Observability",
            stage=stage,
            alarm_topic=self.topics.alarms,
            queues={
                "controller": self.controller.queue,
                **{service: consumer.queue for service, consumer in self.consumers.items()},
            },
            dead_letter_queues=self._dead_letter_queues(),
            state_machines={name: flow.state_machine for name, flow in self.flows.items()},
            functions=self._functions(),
            bus=bus,
            rules=self._rules(),
            schedule_group=self.controller.schedule_group,
            notification_topics={"Escalation": self.topics.escalation, "Customer": self.topics.customer},
            workflow_metrics=(workflow.started_event, *workflow.outcome_events, workflow.escalation_event),
            queue_fed_services=[shape.service for shape in (self.controller, *self.consumers.values())],
        )

        self._outputs()
        nag.acknowledge(self)

    def _dead_letter_queues(self) -> dict[str, sqs.IQueue]:
        queues: dict[str, sqs.IQueue] = {
            "ControllerDlq": self.controller.dead_letter_queue,
            "ControllerTargetDlq": self.controller.target_dead_letter_queue,
            "ControllerScheduleDlq": self.controller.schedule_dead_letter_queue,
        }
        for service, consumer in self.consumers.items():
            queues[f"{_camel(service)}Dlq"] = consumer.dead_letter_queue
            queues[f"{_camel(service)}TargetDlq"] = consumer.target_dead_letter_queue
        for name, flow in self.flows.items():
            if flow.target_dead_letter_queue is not None:
                queues[f"{_camel(name)}TargetDlq"] = flow.target_dead_letter_queue
        return queues

    def _rules(self) -> dict[str, events.IRule]:
        """Every rule on the bus, keyed by its owner and subscription (the alarms' construct ids)."""
        rules: dict[str, events.IRule] = {
            f"Controller{name}": rule for name, rule in self.controller.rules.items()
        }
        for service, consumer in self.consumers.items():
            rules |= {f"{_camel(service)}{name}": rule for name, rule in consumer.rules.items()}
        for name, flow in self.flows.items():
            if flow.rule is not None:
                rules[f"{_camel(name)}StartRule"] = flow.rule
        return rules

    def _functions(self) -> dict[str, lambda_.Function]:
        return {
            "controller": self.controller.function,
            **{service: consumer.function for service, consumer in self.consumers.items()},
            "payment-checks": self.payment_checks.function,
            "payment-gateway": self.payment_gateway.function,
            "frontdoor": self.front_door.function,
        }

    def _outputs(self) -> None:
        bus = self.events.bus
        CfnOutput(self, "EventBusName", value=bus.event_bus_name)
        CfnOutput(self, "EventBusArn", value=bus.event_bus_arn)
        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(
            self,
            "OrderClientPolicyArn",
            value=self.api.order_client_policy.managed_policy_arn,
            description="Attach to order clients: submit orders, read workflow status",
        )
        CfnOutput(
            self,
            "WorkflowOperatorPolicyArn",
            value=self.api.operator_policy.managed_policy_arn,
            description="Attach to operators: what order clients may, plus workflow commands",
        )
        for table_id in ("workflows", "idempotency", "inventory", "shipments", "payments", "notifications"):
            table: dynamodb.Table = getattr(self.tables, table_id)
            CfnOutput(self, f"{_camel(table_id)}TableName", value=table.table_name)
        for name, flow in self.flows.items():
            CfnOutput(self, f"{_camel(name)}StateMachineArn", value=flow.state_machine.state_machine_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.topics.alarms.topic_arn)
        CfnOutput(self, "EscalationTopicArn", value=self.topics.escalation.topic_arn)
        CfnOutput(self, "CustomerTopicArn", value=self.topics.customer.topic_arn)
        CfnOutput(self, "ScheduleGroupName", value=self.controller.schedule_group.schedule_group_name)


def outcome_events(workflow: WorkflowDefinition, runner: Runner) -> tuple[str, ...]:
    """The outcome events ``runner`` reports for the steps and compensations it runs."""
    outcomes: list[str] = []
    for step in workflow.steps:
        if step.runner == runner:
            outcomes += [step.completed_by, step.failed_by]
        if step.compensation is not None and step.compensation.runner == runner:
            outcomes += [step.compensation.completed_by, step.compensation.failed_by]
    return tuple(outcomes)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
