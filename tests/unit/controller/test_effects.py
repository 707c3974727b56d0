"""Effects against AWS: a deadline schedule that Scheduler cannot deliver is retried, then dead-lettered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from controller import effects as effects_module
from controller.actions import ScheduleDeadline
from controller.effects import Effects, EffectTargets
from workflow_core import settings

DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:schedule-dlq"


class RecordingScheduler:
    """Records ``create_schedule`` calls (the shape Scheduler receives), like a stubbed boto3 client."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def create_schedule(self, **kwargs: Any) -> dict[str, Any]:
        self.created.append(kwargs)
        return {"ScheduleArn": f"arn:aws:scheduler:eu-west-1:123456789012:schedule/g/{kwargs['Name']}"}


def _targets(**overrides: Any) -> EffectTargets:
    values: dict[str, Any] = {
        "bus_name": "bus",
        "bus_arn": "arn:aws:events:eu-west-1:123456789012:event-bus/bus",
        "state_machine_arns": {"payment": "arn:aws:states:eu-west-1:123456789012:stateMachine:payment"},
        "schedule_group": "deadlines",
        "scheduler_role_arn": "arn:aws:iam::123456789012:role/scheduler",
        "escalation_topic_arn": "arn:aws:sns:eu-west-1:123456789012:escalation",
        "schedule_dead_letter_arn": DLQ_ARN,
        **overrides,
    }
    return EffectTargets(**values)


def _deadline() -> ScheduleDeadline:
    return ScheduleDeadline(
        schedule_name="o-1-payment-1",
        at="2026-11-26T10:15:00+00:00",
        detail_type="StepDeadlineReached",
        source="workflow.scheduler",
        detail={"metadata": {}, "data": {"workflowId": "o-1", "step": "payment"}},
    )


def test_a_deadline_schedule_has_a_dead_letter_queue_and_an_explicit_retry_policy() -> None:
    # GIVEN effects wired with the schedule DLQ
    scheduler = RecordingScheduler()
    effects = Effects(targets=_targets(), events=None, stepfunctions=None, scheduler=scheduler, sns=None)
    # WHEN the controller schedules a deadline
    effects.perform([_deadline()])
    # THEN Scheduler is told where to put it when delivery keeps failing, and how long to keep trying
    (created,) = scheduler.created
    target = created["Target"]
    assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": effects_module.SCHEDULE_RETRY_MAX_AGE_SECONDS,
        "MaximumRetryAttempts": effects_module.SCHEDULE_RETRY_ATTEMPTS,
    }
    # Scheduler's documented bounds: 60 s to 24 h of event age, 0 to 185 retries.
    assert 60 <= effects_module.SCHEDULE_RETRY_MAX_AGE_SECONDS <= 86400
    assert 0 < effects_module.SCHEDULE_RETRY_ATTEMPTS <= 185


def test_the_dead_letter_queue_comes_from_the_environment_the_stack_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from controller.handler import build_controller  # noqa: PLC0415 - reads settings when called

    # GIVEN the variables the CDK stack sets on the controller
    for name, value in {
        settings.EVENT_BUS_NAME: "bus",
        settings.EVENT_BUS_ARN: "arn:aws:events:eu-west-1:123456789012:event-bus/bus",
        settings.STATE_MACHINE_ARNS: json.dumps(
            {"order/payment": "arn:aws:states:eu-west-1:123456789012:stateMachine:payment"}
        ),
        settings.SCHEDULE_GROUP_NAME: "deadlines",
        settings.SCHEDULER_ROLE_ARN: "arn:aws:iam::123456789012:role/scheduler",
        settings.ESCALATION_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:escalation",
        settings.WORKFLOW_TABLE_NAME: "workflows",
        settings.SCHEDULE_DEAD_LETTER_QUEUE_ARN: DLQ_ARN,
    }.items():
        monkeypatch.setenv(name, value)
    scheduler = RecordingScheduler()
    # WHEN the controller is wired as in Lambda and schedules a deadline
    controller = build_controller(clients={"scheduler": scheduler, "dynamodb": object()})
    controller._effects.perform([_deadline()])  # the wiring under test, as the handler builds it
    # THEN the deadline dead-letters into the DLQ the stack configured
    assert scheduler.created[0]["Target"]["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    # AND without it the controller refuses to start, naming what is missing
    monkeypatch.delenv(settings.SCHEDULE_DEAD_LETTER_QUEUE_ARN)
    with pytest.raises(RuntimeError, match=settings.SCHEDULE_DEAD_LETTER_QUEUE_ARN):
        build_controller(clients={"scheduler": scheduler, "dynamodb": object()})
