"""Carrying out the controller's actions against AWS. Each is idempotent, so a replay is harmless."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from controller.actions import (
    Action,
    CancelDeadline,
    Escalate,
    PublishEvent,
    ScheduleDeadline,
    StartStateMachine,
    StopStateMachine,
)
from workflow_core.errors import PublishError
from workflow_core.publisher import PUT_EVENTS_BATCH

_SNS_SUBJECT_LIMIT = 100
# How long and how often Scheduler retries delivering a deadline to the bus before it dead-letters it:
# Scheduler's maxima, so a transient outage heals by itself; TargetErrorCount pages at the first failure.
SCHEDULE_RETRY_MAX_AGE_SECONDS = 86400
SCHEDULE_RETRY_ATTEMPTS = 185


@dataclass(frozen=True)
class EffectTargets:
    bus_name: str
    bus_arn: str
    state_machine_arns: dict[str, str]
    schedule_group: str
    scheduler_role_arn: str
    escalation_topic_arn: str
    schedule_dead_letter_arn: str  # the queue every deadline schedule dead-letters into


class Effects:
    def __init__(
        self,
        *,
        targets: EffectTargets,
        events: Any,
        stepfunctions: Any,
        scheduler: Any,
        sns: Any,
    ) -> None:
        self._t = targets
        self._events = events
        self._sfn = stepfunctions
        self._scheduler = scheduler
        self._sns = sns

    def perform(self, actions: Sequence[Action]) -> None:
        publishes = [a for a in actions if isinstance(a, PublishEvent)]
        # Schedules first: a deadline must exist before the step it guards can be started.
        for action in actions:
            if isinstance(action, ScheduleDeadline):
                self._schedule(action)
            elif isinstance(action, CancelDeadline):
                self._cancel(action)
            elif isinstance(action, StopStateMachine):
                # Before anything is published: an attempt must be stopped before its undo is asked for.
                self._stop(action)
        self._publish(publishes)
        for action in actions:
            if isinstance(action, StartStateMachine):
                self._start(action)
            elif isinstance(action, Escalate):
                self._escalate(action)

    def _publish(self, publishes: Sequence[PublishEvent]) -> None:
        for start in range(0, len(publishes), PUT_EVENTS_BATCH):
            batch = publishes[start : start + PUT_EVENTS_BATCH]
            response = self._events.put_events(
                Entries=[
                    {
                        "EventBusName": self._t.bus_name,
                        "Source": p.source,
                        "DetailType": p.detail_type,
                        "Detail": json.dumps(p.detail, separators=(",", ":")),
                    }
                    for p in batch
                ]
            )
            if response.get("FailedEntryCount", 0):
                raise PublishError(
                    f"PutEvents rejected {response['FailedEntryCount']} of {len(batch)} events"
                )

    def _start(self, action: StartStateMachine) -> None:
        try:
            self._sfn.start_execution(
                stateMachineArn=self._t.state_machine_arns[action.machine],
                name=action.execution_name,
                input=json.dumps(action.input, separators=(",", ":")),
            )
        except ClientError as error:
            # A named execution that already exists is the duplicate start this name exists to stop.
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise

    def _stop(self, action: StopStateMachine) -> None:
        machine_arn = self._t.state_machine_arns[action.machine]
        execution_arn = machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{action.execution_name}"
        try:
            self._sfn.stop_execution(
                executionArn=execution_arn, error="WorkflowKit.Stopped", cause=action.cause
            )
        except ClientError as error:
            # Never started (its start is in the same batch of effects, or was lost): nothing to stop.
            if error.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise

    def _schedule(self, action: ScheduleDeadline) -> None:
        try:
            self._scheduler.create_schedule(
                Name=action.schedule_name,
                GroupName=self._t.schedule_group,
                ScheduleExpression=f"at({action.at[:19]})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self._t.bus_arn,
                    "RoleArn": self._t.scheduler_role_arn,
                    "Input": json.dumps(action.detail, separators=(",", ":")),
                    "EventBridgeParameters": {"DetailType": action.detail_type, "Source": action.source},
                    "RetryPolicy": {
                        "MaximumEventAgeInSeconds": SCHEDULE_RETRY_MAX_AGE_SECONDS,
                        "MaximumRetryAttempts": SCHEDULE_RETRY_ATTEMPTS,
                    },
                    "DeadLetterConfig": {"Arn": self._t.schedule_dead_letter_arn},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConflictException":
                raise

    def _cancel(self, action: CancelDeadline) -> None:
        try:
            self._scheduler.delete_schedule(Name=action.schedule_name, GroupName=self._t.schedule_group)
        except ClientError as error:
            # Already fired (and deleted itself) or never created: either way nothing is left to cancel.
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise

    def _escalate(self, action: Escalate) -> None:
        self._sns.publish(
            TopicArn=self._t.escalation_topic_arn,
            Subject=action.subject[:_SNS_SUBJECT_LIMIT],
            Message=action.message,
        )
