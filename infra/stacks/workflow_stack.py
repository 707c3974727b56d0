"""One stage of the kit: event bus, data, every deployed workflow's three patterns, API, observability.

Everything workflow-specific is derived from the registry of deployed declarations (``infra.plan``) and
from what each service declares beside itself: which consumers exist and what each subscribes to, per
workflow; what the one controller consumes and which state machines it starts; which state machines
exist per workflow and which rules start them; the tables, environments and grants of every service.
Nothing here names a workflow (docs/decisions/0023).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.callback_plan import CALLBACKS_TABLE_PLACEHOLDER
from infra.compliance import Compliance, ReservedConcurrency
from infra.constructs import (
    EventQueueFunction,
    FrontController,
    FunctionRuntime,
    OrchestratedFlow,
    ServiceFunction,
    StatusApi,
    UnroutedEvents,
    WorkflowEventBus,
    WorkflowKey,
    WorkflowObservability,
    WorkflowTables,
    WorkflowTopics,
    defaults,
    permissions,
)
from infra.constructs.backups import TableBackups
from infra.constructs.encryption import BACKUP_SERVICE, VIA_SERVICES
from infra.constructs.managed_policies import to_managed_policies
from infra.constructs.naming import camel
from infra.constructs.observability import WorkflowResources
from infra.constructs.subscriptions import Subscription
from infra.constructs.topics import TopicSubscription
from infra.plan import ConsumerPlan, FlowPlan, StackPlan, plan
from workflow_core import settings
from workflow_core.deployment import ServiceNeeds, TaskFunction
from workflow_core.lifecycle import (
    OPERATOR_COMMAND_ISSUED,
    OUTCOME_EVENTS,
    STEP_DECIDED,
    WORKFLOW_ESCALATED,
    WORKFLOW_STARTED,
)
from workflow_core.registry import Registry, deployed

# A decision's claim: read it (a retry, a race's winner), write it once; tokens are only read.
CLAIMS = ("dynamodb:GetItem", "dynamodb:PutItem")


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
    # customerSubscriptions: the notices topic).
    alarm_subscriptions: tuple[TopicSubscription, ...] = ()
    escalation_subscriptions: tuple[TopicSubscription, ...] = ()
    notice_subscriptions: tuple[TopicSubscription, ...] = ()
    # cdk context compliance, reservedConcurrency (infra.compliance).
    compliance: Compliance = Compliance.DEFAULT
    reserved_concurrency: ReservedConcurrency = field(default_factory=ReservedConcurrency)

    @property
    def retain_data(self) -> bool:
        """Stateful resources outlive the stack everywhere but in the ``dev`` stage."""
        return self.stage != "dev"

    @property
    def strict(self) -> bool:
        return self.compliance is Compliance.STRICT


class WorkflowStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        registry: Registry | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.registry = registry or deployed()
        self.plan: StackPlan = plan(self.registry, stage=config.stage)
        catalog = self.plan.catalog
        stage = config.stage
        retain = defaults.removal_policy(retain=config.retain_data)

        # Stateful resources sit directly under constructs with fixed ids: their logical IDs are a contract
        # (tests/infra/logical_ids.json).
        self.encryption = WorkflowKey(
            self,
            "Encryption",
            stage=stage,
            removal_policy=retain,
            via_services=(*VIA_SERVICES, BACKUP_SERVICE) if config.strict else VIA_SERVICES,
        )
        key = self.encryption.key
        self.events = WorkflowEventBus(self, "Events", stage=stage)
        bus = self.events.bus
        self.tables = WorkflowTables(self, "Data", key=key, removal_policy=retain, tables=self.plan.tables)
        self.topics = WorkflowTopics(
            self,
            "Topics",
            stage=stage,
            key=key,
            alarm_subscriptions=config.alarm_subscriptions,
            escalation_subscriptions=config.escalation_subscriptions,
            notice_subscriptions=config.notice_subscriptions,
        )
        # TopicNeed.topic -> the topic (workflow_core.deployment).
        self._topic_of: dict[str, sns.ITopic] = {
            "notices": self.topics.notices,
            "escalation": self.topics.escalation,
        }

        self.runtime = FunctionRuntime(
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

        # Orchestration: each service's task functions (shared by its flows in every workflow), then one
        # state machine per workflow and machine.
        self.task_functions: dict[str, dict[str, ServiceFunction]] = {
            service: self._task_functions(service, self.plan.services[service])
            for service in self.plan.task_services
        }
        self.flows: dict[str, OrchestratedFlow] = {
            flow.key: self._flow(flow, config) for flow in self.plan.flows
        }

        # The hybrid: one front controller for every workflow.
        self.controller = FrontController(
            self,
            "Controller",
            subscriptions=self.plan.controller,
            catalog=catalog,
            publishes=self.plan.controller_publishes,
            bus=bus,
            runtime=self.runtime,
            workflows_table=self.tables.workflows,
            state_machines={
                flow.key: self.flows[flow.key] for flow in self.plan.flows if flow.controller_started
            },
            escalation_topic=self.topics.escalation,
            schedule_group_removal_policy=retain,
            reserved_concurrency=self._reserved("controller"),
        )

        # Choreography: one consumer per service, with rules for every workflow it serves.
        self.consumers: dict[str, EventQueueFunction] = {
            service: self._consumer(consumer) for service, consumer in self.plan.consumers.items()
        }

        # The workflows' events without a workflow context, which no workflow's rule matches: kept, alarmed.
        self.unrouted = UnroutedEvents(
            self,
            "UnroutedEvents",
            bus=bus,
            subscriptions=self.plan.unrouted,
            key=key,
            removal_policy=retain,
        )

        # Start workflows, read status, issue commands, decide callback steps over HTTP.
        self.front_door = ServiceFunction(
            self,
            "FrontDoor",
            runtime=self.runtime,
            service="frontdoor",
            handler="frontdoor.handler.lambda_handler",
            environment={
                settings.EVENT_BUS_NAME: bus.event_bus_name,
                settings.WORKFLOW_TABLE_NAME: self.tables.workflows.table_name,
                settings.CALLBACKS_TABLE_NAME: self.tables.callbacks.table_name,
            },
            description="WorkflowKit front door: start workflows, status, commands, decisions (HTTP API)",
            reserved_concurrency=self._reserved("frontdoor"),
        )
        self._front_door_grants()
        self.api = StatusApi(
            self,
            "StatusApi",
            stage=stage,
            handler=self.front_door.function,
            workflow_types=self.registry.names,
            approvers=self.plan.callbacks.approvers,
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
            workflows=self._workflow_resources(),
            unrouted_queue=self.unrouted.queue,
            shared_rules=self._shared_rules(),
            functions=self._functions(),
            bus=bus,
            schedule_group=self.controller.schedule_group,
            notification_topics={"Escalation": self.topics.escalation, "Notices": self.topics.notices},
            # What the controller counts (EMF, dimension service=controller), whatever the workflow.
            workflow_metrics=(WORKFLOW_STARTED, *OUTCOME_EVENTS, WORKFLOW_ESCALATED),
            queue_fed_services=[shape.service for shape in (self.controller, *self.consumers.values())],
        )

        self._outputs()
        self.backups: TableBackups | None = None
        if config.strict:
            self._comply()

    # --- compliance=strict ------------------------------------------------------------------------------
    def _reserved(self, service: str) -> int | None:
        """The reserved concurrency of the function ``service`` under compliance=strict; none otherwise."""
        return self.config.reserved_concurrency.of(service) if self.config.strict else None

    def _comply(self) -> None:
        """What NIST 800-53 R5, PCI DSS and HIPAA ask beyond the kit's defaults (docs/decisions/0033)."""
        unknown = self.config.reserved_concurrency.unknown(list(self._functions()))
        if unknown:
            raise ValueError(
                f"reserved concurrency for {unknown}: no such function (the stage has "
                f"{', '.join(sorted(self._functions()))})"
            )
        self.backups = TableBackups(
            self, "Backups", stage=self.config.stage, tables=self.tables.all, key=self.encryption.key
        )
        CfnOutput(self, "BackupVaultName", value=self.backups.vault.backup_vault_name)
        # Last: every role's grants are in place (the document stays shared, later ones land too).
        to_managed_policies(self)

    # --- orchestration ----------------------------------------------------------------------------------
    def _task_functions(self, service: str, needs: ServiceNeeds) -> dict[str, ServiceFunction]:
        """placeholder -> the task function it names, for ``service``'s state machines."""
        functions: dict[str, ServiceFunction] = {}
        for task in needs.task_functions:
            construct_id = _task_function_id(service, task)
            function = ServiceFunction(
                self,
                construct_id,
                runtime=self.runtime,
                service=_task_service_name(service, task),
                handler=task.handler,
                environment={
                    **task.environment,
                    **{needs.table(name).env: self.tables.by_name[name].table_name for name in task.tables},
                },
                description=f"WorkflowKit {service}: {task.description}",
                timeout=Duration.seconds(task.timeout_seconds)
                if task.timeout_seconds
                else defaults.FUNCTION_TIMEOUT,
                reserved_concurrency=self._reserved(_task_service_name(service, task)),
            )
            for name in task.tables:
                permissions.allow_table_access(
                    function.role,
                    self.tables.by_name[name],
                    self.encryption.key,
                    access=needs.table(name).access,
                )
            if task.placeholder in functions:
                raise ValueError(
                    f"service {service!r} declares the task placeholder {task.placeholder} twice"
                )
            functions[task.placeholder] = function
        return functions

    def _flow(self, flow: FlowPlan, config: StageConfig) -> OrchestratedFlow:
        needs = self.plan.services[flow.service]
        return OrchestratedFlow(
            self,
            f"{camel(flow.workflow)}{camel(flow.machine)}Flow",
            stage=config.stage,
            workflow=flow.workflow,
            name=flow.machine,
            asl_path=config.statemachines_dir / f"{flow.machine}.asl.json",
            substitutions={"EventBusName": self.events.bus.event_bus_name},
            task_functions={
                placeholder: function.function
                for placeholder, function in self.task_functions.get(flow.service, {}).items()
            },
            tables={
                **{
                    placeholder: self.tables.by_name[name]
                    for placeholder, name in needs.table_substitutions.items()
                },
                # Where a machine running a callback step leaves its task token for the front door.
                **({CALLBACKS_TABLE_PLACEHOLDER: self.tables.callbacks} if flow.awaits_decisions else {}),
            },
            bus=self.events.bus,
            key=self.encryption.key,
            log_removal_policy=self.runtime.removal_policy,
            catalog=self.plan.catalog,
            publishes=flow.publishes,
            started_by=flow.started_by,
            timeout=Duration.seconds(int(flow.timeout.total_seconds())),
        )

    # --- the front door ---------------------------------------------------------------------------------
    def _front_door_grants(self) -> None:
        """Exactly what the front door does: put each deployed start event, operator commands and (where a
        human or consumer step takes decisions) ``StepDecided``, each from its own source; read the
        workflows table; claim decisions in the callbacks table; answer the task tokens of the state
        machines that pause for a decision, and no other machine's."""
        role, bus, key = self.front_door.role, self.events.bus, self.encryption.key
        callbacks = self.plan.callbacks
        permissions.allow_put_events(
            role,
            bus.event_bus_arn,
            detail_types=(
                *self.plan.start_events,
                OPERATOR_COMMAND_ISSUED,
                *((STEP_DECIDED,) if callbacks.publishes_decisions else ()),
            ),
            catalog=self.plan.catalog,
        )
        permissions.allow_table(role, self.tables.workflows, key, actions=permissions.TABLE_READ)
        if callbacks.approvers:  # some deployed step takes decisions: claim them
            permissions.allow_table(role, self.tables.callbacks, key, actions=CLAIMS)
        paused = [
            self.flows[flow.key].state_machine.state_machine_arn
            for flow in self.plan.flows
            if flow.awaits_decisions
        ]
        if paused:
            # Both decisions answer a token with success (the machine's Choice routes them): never failure.
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=paused)
            )

    # --- choreography -----------------------------------------------------------------------------------
    def _consumer(self, consumer: ConsumerPlan) -> EventQueueFunction:
        needs = consumer.needs
        bus = self.events.bus
        key = self.encryption.key
        environment = {
            settings.EVENT_BUS_NAME: bus.event_bus_name,
            settings.IDEMPOTENCY_TABLE_NAME: self.tables.idempotency.table_name,
            **{table.env: self.tables.by_name[table.name].table_name for table in needs.tables},
            **{need.env: self._topic_of[need.topic].topic_arn for need in needs.topics},
            **needs.environment,
        }
        assert needs.handler is not None  # the plan refuses a consumer without one
        function = EventQueueFunction(
            self,
            f"{camel(consumer.service)}Consumer",
            service=consumer.service,
            handler=needs.handler,
            bus=bus,
            subscriptions=consumer.subscriptions,
            runtime=self.runtime,
            environment=environment,
            description=f"WorkflowKit {consumer.service}: {needs.description}" if needs.description else None,
            reserved_concurrency=self._reserved(consumer.service),
        )
        role = function.handler.role
        permissions.allow_table_read_write(role, self.tables.idempotency, key)
        for table in needs.tables:
            permissions.allow_table_access(role, self.tables.by_name[table.name], key, access=table.access)
        # Exactly what it reports, each from its source (and the events of the sources only it declares).
        if consumer.publishes:
            permissions.allow_put_events(
                role, bus.event_bus_arn, detail_types=consumer.publishes, catalog=self.plan.catalog
            )
        for need in needs.topics:
            permissions.allow_publish(role, self._topic_of[need.topic], key)
        return function

    # --- observability and outputs ----------------------------------------------------------------------
    def _dead_letter_queues(self) -> dict[str, sqs.IQueue]:
        queues: dict[str, sqs.IQueue] = {
            "ControllerDlq": self.controller.dead_letter_queue,
            "ControllerTargetDlq": self.controller.target_dead_letter_queue,
            "ControllerScheduleDlq": self.controller.schedule_dead_letter_queue,
        }
        for service, consumer in self.consumers.items():
            queues[f"{camel(service)}Dlq"] = consumer.dead_letter_queue
            queues[f"{camel(service)}TargetDlq"] = consumer.target_dead_letter_queue
        for flow in self.plan.flows:
            dlq = self.flows[flow.key].target_dead_letter_queue
            if dlq is not None:
                queues[f"{camel(flow.workflow)}{camel(flow.machine)}TargetDlq"] = dlq
        queues["UnroutedEventsTargetDlq"] = self.unrouted.target_dead_letter_queue
        return queues

    def _shared_rules(self) -> dict[str, events.IRule]:
        """Rules of no one workflow, keyed by alarm id prefix: events without a workflow context."""
        rules: dict[str, events.IRule] = {
            f"Controller{sub.name}": self.controller.rules[sub.name]
            for sub in self.plan.controller
            if not sub.workflow
        }
        rules |= {f"Unrouted{name}": rule for name, rule in self.unrouted.rules.items()}
        return rules

    def _workflow_resources(self) -> dict[str, WorkflowResources]:
        """Per workflow: its state machines and every rule derived for it, keyed by alarm id prefix."""
        resources: dict[str, WorkflowResources] = {}
        for name in self.registry.names:
            machines: dict[str, sfn.IStateMachine] = {}
            rules: dict[str, events.IRule] = {}
            prefix = camel(name)
            for flow in self.plan.flows:
                if flow.workflow != name:
                    continue
                built = self.flows[flow.key]
                machines[f"{prefix}{camel(flow.machine)}"] = built.state_machine
                rules |= {f"{prefix}{camel(flow.machine)}{rid}": rule for rid, rule in built.rules.items()}
            subscribed: Mapping[str, tuple[EventQueueFunction, tuple[Subscription, ...]]] = {
                "controller": (self.controller, self.plan.controller),
                **{s: (self.consumers[s], c.subscriptions) for s, c in self.plan.consumers.items()},
            }
            for owner, (shape, subscriptions) in subscribed.items():
                rules |= {
                    f"{camel(owner)}{sub.name}": shape.rules[sub.name]
                    for sub in subscriptions
                    if sub.workflow == name
                }
            resources[name] = WorkflowResources(state_machines=machines, rules=rules)
        return resources

    def _functions(self) -> dict[str, lambda_.Function]:
        functions: dict[str, lambda_.Function] = {
            "controller": self.controller.function,
            **{service: consumer.function for service, consumer in self.consumers.items()},
        }
        for service, tasks in self.task_functions.items():
            needs = self.plan.services[service]
            for task in needs.task_functions:
                functions[_task_service_name(service, task)] = tasks[task.placeholder].function
        functions["frontdoor"] = self.front_door.function
        return functions

    def _outputs(self) -> None:
        bus = self.events.bus
        CfnOutput(self, "EventBusName", value=bus.event_bus_name)
        CfnOutput(self, "EventBusArn", value=bus.event_bus_arn)
        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(
            self,
            "ClientPolicyArn",
            value=self.api.client_policy.managed_policy_arn,
            description="Attach to clients: start the deployed workflows, read workflow status",
        )
        CfnOutput(
            self,
            "WorkflowOperatorPolicyArn",
            value=self.api.operator_policy.managed_policy_arn,
            description="Attach to operators: what clients may, plus workflow commands",
        )
        for group, policy in self.api.approver_policies.items():
            steps = ", ".join(self.plan.callbacks.approvers[group])
            CfnOutput(
                self,
                f"{camel(group)}ApproverPolicyArn",
                value=policy.managed_policy_arn,
                description=f"Attach to {group}: complete or reject {steps} (callback routes only)",
            )
        for name, table in self.tables.by_name.items():
            CfnOutput(self, f"{name}TableName", value=table.table_name)
        for flow in self.plan.flows:
            CfnOutput(
                self,
                f"{camel(flow.workflow)}{camel(flow.machine)}StateMachineArn",
                value=self.flows[flow.key].state_machine.state_machine_arn,
            )
        CfnOutput(self, "AlarmTopicArn", value=self.topics.alarms.topic_arn)
        CfnOutput(self, "EscalationTopicArn", value=self.topics.escalation.topic_arn)
        CfnOutput(self, "NoticesTopicArn", value=self.topics.notices.topic_arn)
        CfnOutput(self, "ScheduleGroupName", value=self.controller.schedule_group.schedule_group_name)
        CfnOutput(
            self,
            "UnroutedEventsQueueUrl",
            value=self.unrouted.queue.queue_url,
            description="The workflows' events without a workflow context, which no rule delivered",
        )


def _task_function_id(service: str, task: TaskFunction) -> str:
    """``card`` + ``card.checks.lambda_handler`` -> ``CardChecks``: the service, then the module."""
    return camel(_task_service_name(service, task))


def _task_service_name(service: str, task: TaskFunction) -> str:
    """``<service>-<module>``: the function's POWERTOOLS_SERVICE_NAME and its alarms' name."""
    module = task.handler.rsplit(".", 1)[0]
    parts = module.split(".")
    if parts[0] == service:
        parts = parts[1:]
    return "-".join([service, *parts])
