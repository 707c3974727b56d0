"""Nothing is lost silently: every DLQ, failed execution, controller error, failed record, missed deadline
pages someone, and the dashboard shows it."""

from __future__ import annotations

import json
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


def _queue_fed_services(synth: Synthesized) -> set[str]:
    """POWERTOOLS_SERVICE_NAME of every function an SQS event source mapping feeds."""
    functions = synth.of_type("AWS::Lambda::Function")
    return {
        functions[m["Properties"]["FunctionName"]["Ref"]]["Properties"]["Environment"]["Variables"][
            "POWERTOOLS_SERVICE_NAME"
        ]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
    }


def test_failed_records_of_every_queue_fed_function_are_alarmed(synthesized: Synthesized) -> None:
    services = _queue_fed_services(synthesized)
    assert services == {"controller", *ORDER_WORKFLOW.consumer_subscriptions()}
    alarms = _alarmed_on(synthesized, "RecordsFailed")
    assert {_dimension(a, "service") for a in alarms} == services
    assert len(alarms) == len(services)
    topic_id = synthesized.logical_id(synthesized.stack.topics.alarms)
    for alarm in alarms:
        assert alarm["Namespace"] == "WorkflowKit"
        assert len(alarm["Dimensions"]) == 1
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def _dashboard(synth: Synthesized) -> dict[str, Any]:
    """The dashboard body as JSON, each reference rendered as ``<LogicalId>`` or ``<LogicalId.Attribute>``."""
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(
        part
        if isinstance(part, str)
        else f"<{part['Ref']}>"
        if "Ref" in part
        else f"<{'.'.join(part['Fn::GetAtt'])}>"
        for part in parts
    )
    result: dict[str, Any] = json.loads(text)
    return result


def _widget_metrics(widget: dict[str, Any]) -> list[list[Any]]:
    return list(widget["properties"].get("metrics", []))


def test_dashboard_shows_what_the_alarms_watch(synthesized: Synthesized) -> None:
    widgets = _dashboard(synthesized)["widgets"]
    metrics = [metric for widget in widgets for metric in _widget_metrics(widget)]

    def shown(namespace: str, name: str, dimension: str, value: str) -> bool:
        # [namespace, name, dimension, value, {rendering options}], as CDK writes every metric.
        return any(metric[:4] == [namespace, name, dimension, value] for metric in metrics)

    for service in _queue_fed_services(synthesized):
        assert shown("WorkflowKit", "RecordsFailed", "service", service), service
    assert shown("WorkflowKit", "WorkflowsPastDeadline", "service", "controller")
    # Every alarmed queue's depth, every state machine's failures, every function's errors.
    for alarm in _alarmed_on(synthesized, "ApproximateNumberOfMessagesVisible"):
        queue = _dimension(alarm, "QueueName")["Fn::GetAtt"][0]
        assert shown("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"<{queue}.QueueName>")
    for queue in (
        synthesized.stack.controller.queue,
        *(c.queue for c in synthesized.stack.consumers.values()),
    ):
        queue_name = f"<{synthesized.logical_id(queue)}.QueueName>"
        assert shown("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue_name)
    for machine_id in synthesized.of_type("AWS::StepFunctions::StateMachine"):
        assert shown("AWS/States", "ExecutionsFailed", "StateMachineArn", f"<{machine_id}>")
    for function_id in synthesized.of_type("AWS::Lambda::Function"):
        assert shown("AWS/Lambda", "Errors", "FunctionName", f"<{function_id}>")
    # And every alarm's state.
    alarm_widgets = [w for w in widgets if w["type"] == "alarm"]
    shown_alarms = {arn for w in alarm_widgets for arn in w["properties"]["alarms"]}
    assert shown_alarms == {f"<{lid}.Arn>" for lid in synthesized.of_type("AWS::CloudWatch::Alarm")}
