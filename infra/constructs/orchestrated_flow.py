"""An orchestrated flow: a Standard state machine from ``statemachines/<name>.asl.json``, fully audited.

Every transition is logged (level ALL, with execution data) to a CMK-encrypted log group and traced in X-Ray.
The role may invoke only the task functions it is given, touch only items of the payments table, and put
on the workflow bus only the outcome events it reports. Optionally, a rule starts it from one detail-type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

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

from infra.constructs import defaults, permissions
from workflow_core.catalog import source_of

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
# Longer than any step deadline of the declaration: the controller, not Step Functions, enforces SLAs.
EXECUTION_TIMEOUT = Duration.hours(2)
PAYMENTS_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


def placeholders(asl_path: Path) -> set[str]:
    """The ``${Name}`` tokens of an ASL file."""
    return set(PLACEHOLDER.findall(asl_path.read_text(encoding="utf-8")))


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
        name: str,
        asl_path: Path,
        # ``task_functions`` maps an ASL placeholder to the function whose ARN it takes; other placeholders
        # come from ``substitutions``.
        substitutions: Mapping[str, str],
        task_functions: Mapping[str, lambda_.IFunction],
        payments_table: dynamodb.ITable,
        bus: events.IEventBus,
        key: kms.IKey,
        log_removal_policy: RemovalPolicy,
        # The detail-types the ASL publishes (``events:putEvents`` tasks): the role may publish nothing else.
        publishes: Sequence[str],
        started_by: str | None = None,
        timeout: Duration = EXECUTION_TIMEOUT,
    ) -> None:
        super().__init__(scope, construct_id)
        used = placeholders(asl_path)
        substitutions = {
            **substitutions,
            **{placeholder: function.function_arn for placeholder, function in task_functions.items()},
        }
        missing = used - set(substitutions)
        if missing:
            raise ValueError(f"{asl_path}: no substitution for {sorted(missing)}")
        self.name = name
        self.state_machine_name = f"workflowkit-{stage}-{name}"

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            # The /aws/vendedlogs/ prefix keeps Step Functions' log delivery off the size-limited
            # CloudWatch Logs resource policy. The group outlives the stack in stages that keep data, so
            # its name is unique to the stack instance: a redeploy after a deletion cannot collide.
            log_group_name=Fn.join(
                "-", [f"/aws/vendedlogs/states/workflowkit-{stage}-{name}", defaults.stack_unique_suffix()]
            ),
            retention=defaults.LOG_RETENTION,
            encryption_key=key,
            removal_policy=log_removal_policy,
        )
        self.role = iam.Role(
            self,
            "Role",
            description=f"WorkflowKit {name} state machine",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
        )
        # Only the task functions this ASL names: the refund flow cannot run payment checks.
        invoked = [function.function_arn for name, function in task_functions.items() if name in used]
        if invoked:
            self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=invoked))
        permissions.allow_table(self.role, payments_table, key, actions=PAYMENTS_TABLE_ACTIONS)
        permissions.allow_put_events(self.role, bus.event_bus_arn, detail_types=publishes)

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (DefinitionString), not an S3 asset: the template alone is the deployable truth, and the
            # local cloud reads the same definition + substitutions from it (docs/decisions/0004-*).
            definition_body=sfn.DefinitionBody.from_string(
                with_execution_timeout(asl_path.read_text(encoding="utf-8"), timeout, source=asl_path)
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

        self.rule: events.Rule | None = None
        self.target_dead_letter_queue: sqs.Queue | None = None
        if started_by is not None:
            self.target_dead_letter_queue = sqs.Queue(
                self,
                "TargetDeadLetterQueue",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=key,
                enforce_ssl=True,
                retention_period=defaults.DLQ_RETENTION,
                removal_policy=log_removal_policy,
            )
            self.rule = events.Rule(
                self,
                "StartRule",
                event_bus=bus,
                description=f"{started_by} from {source_of(started_by)} starts {name}",
                event_pattern=events.EventPattern(source=[source_of(started_by)], detail_type=[started_by]),
                targets=[
                    targets.SfnStateMachine(
                        self.state_machine,
                        dead_letter_queue=self.target_dead_letter_queue,
                        retry_attempts=defaults.TARGET_RETRY_ATTEMPTS,
                        max_event_age=defaults.TARGET_MAX_EVENT_AGE,
                    )
                ],
            )
