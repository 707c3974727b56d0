"""Nothing is lost silently: every DLQ, failed execution, controller error, missed deadline pages someone."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized
from workflow_core.order_workflow import ORDER_WORKFLOW


def _alarms(synth: Synthesized) -> list[dict[str, Any]]:
    return [r["Properties"] for r in synth.of_type("AWS::CloudWatch::Alarm").values()]


def _alarmed_on(synth: Synthesized, metric_name: str) -> list[dict[str, Any]]:
    return [a for a in _alarms(synth) if a["MetricName"] == metric_name]


def _dimension(alarm: dict[str, Any], name: str) -> Any:
    return next(d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == name)


def test_every_dead_letter_queue_is_alarmed(synthesized: Synthesized) -> None:
    queues = synthesized.of_type("AWS::SQS::Queue")
    redrive_targets = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    target_dlqs = {
        t["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        for r in synthesized.of_type("AWS::Events::Rule").values()
        for t in r["Properties"]["Targets"]
    }
    dead_letter_queues = redrive_targets | target_dlqs
    alarmed = {
        _dimension(a, "QueueName")["Fn::GetAtt"][0]
        for a in _alarmed_on(synthesized, "ApproximateNumberOfMessagesVisible")
        if a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert dead_letter_queues
    assert dead_letter_queues <= alarmed


def test_failed_and_timed_out_executions_are_alarmed(synthesized: Synthesized) -> None:
    machines = set(synthesized.of_type("AWS::StepFunctions::StateMachine"))
    assert len(machines) == len(ORDER_WORKFLOW.state_machines())
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        alarmed = {_dimension(a, "StateMachineArn")["Ref"] for a in _alarmed_on(synthesized, metric)}
        assert alarmed == machines, metric


def test_controller_errors_are_alarmed(synthesized: Synthesized) -> None:
    controller_id = synthesized.logical_id(synthesized.stack.controller.function)
    alarmed = {_dimension(a, "FunctionName")["Ref"] for a in _alarmed_on(synthesized, "Errors")}
    assert controller_id in alarmed


def test_workflows_past_deadline_are_alarmed(synthesized: Synthesized) -> None:
    (alarm,) = _alarmed_on(synthesized, "WorkflowsPastDeadline")
    assert alarm["Namespace"] == "WorkflowKit"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "controller"}]
    assert alarm["Threshold"] == 0


def test_every_alarm_notifies_the_alarm_topic(synthesized: Synthesized) -> None:
    topic_id = synthesized.logical_id(synthesized.stack.topics.alarms)
    for alarm in _alarms(synthesized):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_dashboard_exists(synthesized: Synthesized) -> None:
    assert len(synthesized.of_type("AWS::CloudWatch::Dashboard")) == 1
