"""An orchestrated flow: a Standard state machine from ``statemachines/<machine>.asl.json``, fully audited.

One flow per workflow and machine: its name, its log group's name and its rules carry the workflow's name,
so two workflows running the same ASL never share an execution history or a rule. Every transition is
logged (level ALL, with execution data) to a CMK-encrypted log group and traced in X-Ray. The role may
invoke only the task functions its ASL names, call on each table exactly the DynamoDB actions its ASL's
tasks use, and put on the workflow bus only the outcome events it reports. Rules may start it
(``started_by``: a compensation request, say).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from aws_cdk import Aws, CfnResource, Duration, Fn, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults, findings, permissions
from infra.constructs.naming import state_machine_log_group_prefix, state_machine_name
from infra.constructs.queues import dead_letter_queue
from infra.constructs.rule_targets import pattern_of
from infra.constructs.subscriptions import Subscription
from workflow_core.catalog import EventCatalog

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
# The controller, not Step Functions, enforces SLAs: an execution outlives the deadlines of what it runs.
# The default; the plan lengthens it for a machine whose deadlines or decisions ask for more
# (infra.plan.FlowPlan.timeout).
EXECUTION_TIMEOUT = Duration.hours(2)
# Step Functions' DynamoDB integrations: the optimized one and the AWS SDK one, the latter also as the
# callback pattern (a machine that leaves its task token in a table and waits for a decision).
_DYNAMODB_TASK = re.compile(r"^arn:aws:states:::(?:aws-sdk:)?dynamodb:([A-Za-z]+)(?:\.waitForTaskToken)?$")


def placeholders(asl_path: Path) -> set[str]:
    """The ``${Name}`` tokens of an ASL file."""
    return set(PLACEHOLDER.findall(asl_path.read_text(encoding="utf-8")))


def table_actions(asl: Mapping[str, Any], *, source: Path) -> dict[str, set[str]]:
    """placeholder -> the IAM actions the ASL's DynamoDB tasks call on the table it names.

    A task must name its table with a literal ``${Placeholder}``: a table chosen at run time could not be
    granted narrowly.
    """
    actions: dict[str, set[str]] = {}
    for task in _tasks(asl):
        match = _DYNAMODB_TASK.match(str(task.get("Resource", "")))
        if match is None:
            continue
        arguments = task.get("Parameters") or task.get("Arguments") or {}
        table = PLACEHOLDER.fullmatch(str(arguments.get("TableName", "")))
        if table is None:
            raise ValueError(f"{source}: a DynamoDB task must name its table as ${{Placeholder}}: {task}")
        operation = match.group(1)
        actions.setdefault(table.group(1), set()).add(f"dynamodb:{operation[:1].upper()}{operation[1:]}")
    return actions


def _tasks(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every Task state, nested ones (Parallel branches, Map processors) included."""
    if isinstance(node, Mapping):
        if node.get("Type") == "Task":
            yield node
        for value in node.values():
            yield from _tasks(value)
    elif isinstance(node, list):
        for value in node:
            yield from _tasks(value)


def with_execution_timeout(asl: str, timeout: Duration, *, source: Path) -> str:
    """The ASL with a top-level ``TimeoutSeconds`` of ``timeout``.

    CDK adds ``TimeoutSeconds`` only to definitions it builds from chains; a definition given as a string is
    deployed as it is, so without this an execution would never time out (and ExecutionsTimedOut never
    fire). An ASL that declares its own timeout must agree with the construct's.
    """
    document = json.loads(asl)
    seconds = int(timeout.to_seconds())
    declared = document.get("TimeoutSeconds")
    if declared is not None and declared != seconds:
        raise ValueError(f"{source}: TimeoutSeconds {declared} differs from the flow's timeout {seconds}")
    # Top-level fields first, States last, as Step Functions' console shows them.
    states = document.pop("States")
    document["TimeoutSeconds"] = seconds
    document["States"] = states
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class OrchestratedFlow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        workflow: str,
        name: str,
        asl_path: Path,
        # Placeholders of the ASL: plain values, the ARN of a task function, the name of a table.
        substitutions: Mapping[str, str],
        task_functions: Mapping[str, lambda_.IFunction],
        tables: Mapping[str, dynamodb.ITable],
        bus: events.IEventBus,
        key: kms.IKey,
        log_removal_policy: RemovalPolicy,
        catalog: EventCatalog,
        # The detail-types the ASL publishes (``events:putEvents`` tasks): the role may publish nothing else.
        publishes: Sequence[str],
        started_by: Sequence[Subscription] = (),
        timeout: Duration = EXECUTION_TIMEOUT,
    ) -> None:
        super().__init__(scope, construct_id)
        asl = asl_path.read_text(encoding="utf-8")
        used = placeholders(asl_path)
        substitutions = {
            **substitutions,
            **{placeholder: function.function_arn for placeholder, function in task_functions.items()},
            **{placeholder: table.table_name for placeholder, table in tables.items()},
        }
        missing = used - set(substitutions)
        if missing:
            raise ValueError(f"{asl_path}: no substitution for {sorted(missing)}")
        self.workflow = workflow
        self.name = name
        self.state_machine_name = state_machine_name(stage, workflow, name)

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            # The /aws/vendedlogs/ prefix keeps Step Functions' log delivery off the size-limited
            # CloudWatch Logs resource policy. The group outlives the stack in stages that keep data, so
            # its name is unique to the stack instance: a redeploy after a deletion cannot collide.
            log_group_name=Fn.join(
                "-",
                [state_machine_log_group_prefix(self.state_machine_name), defaults.stack_unique_suffix()],
            ),
            retention=defaults.LOG_RETENTION,
            encryption_key=key,
            removal_policy=log_removal_policy,
        )
        self.role = iam.Role(
            self,
            "Role",
            description=f"WorkflowKit {workflow} {name} state machine",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
        )
        # Only the task functions this ASL names: a flow cannot run another flow's tasks.
        invoked = [function.function_arn for name, function in task_functions.items() if name in used]
        if invoked:
            self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=invoked))
        for placeholder, actions in sorted(table_actions(json.loads(asl), source=asl_path).items()):
            if placeholder not in tables:
                raise ValueError(f"{asl_path}: ${{{placeholder}}} names no table of the flow's service")
            permissions.allow_table(self.role, tables[placeholder], key, actions=tuple(sorted(actions)))
        permissions.allow_put_events(self.role, bus.event_bus_arn, detail_types=publishes, catalog=catalog)

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (DefinitionString), not an S3 asset: the template alone is the deployable truth, and the
            # local cloud reads the same definition + substitutions from it (docs/decisions/0004-*).
            definition_body=sfn.DefinitionBody.from_string(
                with_execution_timeout(asl, timeout, source=asl_path)
            ),
            definition_substitutions=dict(substitutions),
            role=self.role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        defaults.allow_redundant_depends_on(cast(CfnResource, self.state_machine.node.default_child))
        # Tracing and log delivery put their resource-less actions into the role's default policy.
        findings.acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            findings.XRAY_AND_LOG_DELIVERY,
        )

        self.rules: dict[str, events.Rule] = {}
        self.target_dead_letter_queue: sqs.Queue | None = None
        if started_by:
            self.target_dead_letter_queue = dead_letter_queue(
                self, "TargetDeadLetterQueue", key=key, removal_policy=log_removal_policy
            )
            findings.acknowledge(
                self.target_dead_letter_queue, "AwsSolutions::AwsSolutions-SQS3", findings.TARGET_DLQ
            )
            findings.acknowledge(
                self.target_dead_letter_queue,
                "Serverless::Serverless-SQSRedrivePolicy",
                findings.DLQ_IS_TERMINAL,
            )
        for subscription in started_by:
            assert self.target_dead_letter_queue is not None
            self.rules[subscription.name] = events.Rule(
                self,
                subscription.name,
                event_bus=bus,
                description=f"{subscription.description or subscription.source} starts {name}",
                event_pattern=pattern_of(subscription),
                targets=[
                    targets.SfnStateMachine(
                        self.state_machine,
                        dead_letter_queue=self.target_dead_letter_queue,
                        retry_attempts=defaults.TARGET_RETRY_ATTEMPTS,
                        max_event_age=defaults.TARGET_MAX_EVENT_AGE,
                    )
                ],
            )
