"""Nothing is lost silently: every DLQ, failed execution, controller error, failed record, missed deadline
pages someone, and the dashboard shows it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import Synthesized


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
    machines = {
        lid: m["Properties"]["StateMachineName"]
        for lid, m in synthesized.of_type("AWS::StepFunctions::StateMachine").items()
    }
    # The order workflow's payment and refund flows, the onboarding workflow's verification and review.
    assert set(machines.values()) == {
        "workflowkit-test-order-payment",
        "workflowkit-test-order-refund",
        "workflowkit-test-onboarding-identity-verification",
        "workflowkit-test-onboarding-review",
    }
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        alarmed = {_dimension(a, "StateMachineArn")["Ref"] for a in _alarmed_on(synthesized, metric)}
        assert alarmed == set(machines), metric


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
    # The controller; order's consumers; onboarding's (accounts, preferences) and its notices listener.
    assert services == {
        "controller",
        "inventory",
        "shipping",
        "notification",
        "accounts",
        "preferences",
        "onboarding_notices",
    }
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


def _rendered(part: Any) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    if "Fn::GetAtt" in part:
        return f"<{'.'.join(part['Fn::GetAtt'])}>"
    if "Fn::Select" in part:  # a rule's name: <RuleLogicalId|1>
        index, split = part["Fn::Select"]
        return f"<{split['Fn::Split'][1]['Ref']}|{index}>"
    raise AssertionError(f"unexpected intrinsic in the dashboard: {part}")


def _dashboard(synth: Synthesized) -> dict[str, Any]:
    """The dashboard body as JSON, each reference rendered as ``<LogicalId>`` or ``<LogicalId.Attribute>``."""
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(_rendered(part) for part in parts)
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
        assert shown("AWS/Lambda", "Throttles", "FunctionName", f"<{function_id}>")
    bus = f"<{synthesized.logical_id(synthesized.stack.events.bus)}>"
    for rule_id in synthesized.of_type("AWS::Events::Rule"):
        for metric_name in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
            assert any(
                metric[:6] == ["AWS/Events", metric_name, "EventBusName", bus, "RuleName", f"<{rule_id}|1>"]
                for metric in metrics
            ), (rule_id, metric_name)
    (group_id,) = synthesized.of_type("AWS::Scheduler::ScheduleGroup")
    for metric_name in ("TargetErrorCount", "InvocationDroppedCount", "InvocationsSentToDeadLetterCount"):
        assert shown("AWS/Scheduler", metric_name, "ScheduleGroup", f"<{group_id}>"), metric_name
    # And every alarm's state.
    alarm_widgets = [w for w in widgets if w["type"] == "alarm"]
    shown_alarms = {arn for w in alarm_widgets for arn in w["properties"]["alarms"]}
    assert shown_alarms == {f"<{lid}.Arn>" for lid in synthesized.of_type("AWS::CloudWatch::Alarm")}


@pytest.mark.parametrize("metric", ["FailedInvocations", "InvocationsFailedToBeSentToDlq"])
def test_every_rule_is_alarmed_on_deliveries_it_could_not_make(synthesized: Synthesized, metric: str) -> None:
    # Failures between the bus and a target (and between a target and its DLQ) never reach a function.
    bus_id = synthesized.logical_id(synthesized.stack.events.bus)
    rules = set(synthesized.of_type("AWS::Events::Rule"))
    assert rules
    alarmed = set()
    for alarm in _alarmed_on(synthesized, metric):
        assert alarm["Namespace"] == "AWS/Events"
        assert alarm["Statistic"] == "Sum"
        # Rules on a custom bus publish with both dimensions; Ref of a rule there is "<bus>|<rule>".
        assert _dimension(alarm, "EventBusName") == {"Ref": bus_id}
        rule_name = _dimension(alarm, "RuleName")
        index, split = rule_name["Fn::Select"]
        separator, ref = split["Fn::Split"]
        assert (index, separator) == (1, "|")
        alarmed.add(ref["Ref"])
    assert alarmed == rules


def _functions(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return synth.of_type("AWS::Lambda::Function")


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_is_alarmed_on_errors_and_throttles(synthesized: Synthesized, metric: str) -> None:
    alarms = _alarmed_on(synthesized, metric)
    assert {_dimension(a, "FunctionName")["Ref"] for a in alarms} == set(_functions(synthesized))
    for alarm in alarms:
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 0


def test_every_function_is_alarmed_when_it_runs_into_its_timeout(synthesized: Synthesized) -> None:
    # A timeout ends an invocation at Duration == Timeout: alarm on the longest invocation reaching 90% of it.
    functions = _functions(synthesized)
    alarms = {_dimension(a, "FunctionName")["Ref"]: a for a in _alarmed_on(synthesized, "Duration")}
    assert set(alarms) == set(functions)
    for function_id, alarm in alarms.items():
        timeout_ms = functions[function_id]["Properties"]["Timeout"] * 1000
        assert alarm["Statistic"] == "Maximum"
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert 0.8 * timeout_ms <= alarm["Threshold"] < timeout_ms


@pytest.mark.parametrize(
    "metric",
    [
        "TargetErrorCount",
        "TargetErrorThrottledCount",
        "InvocationDroppedCount",
        "InvocationsFailedToBeSentToDeadLetterCount",
    ],
)
def test_deadlines_scheduler_could_not_deliver_are_alarmed(synthesized: Synthesized, metric: str) -> None:
    # A lost deadline leaves a workflow RUNNING forever: every delivery failure of the group pages someone.
    (group_id,) = synthesized.of_type("AWS::Scheduler::ScheduleGroup")
    (alarm,) = _alarmed_on(synthesized, metric)
    assert alarm["Namespace"] == "AWS/Scheduler"
    assert alarm["Dimensions"] == [{"Name": "ScheduleGroup", "Value": {"Ref": group_id}}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 0


def _statements_of(synth: Synthesized, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_schedules_dead_letter_into_an_encrypted_alarmed_queue_the_scheduler_role_may_write(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    controller_id = synthesized.logical_id(stack.controller.function)
    variables = synthesized.resources[controller_id]["Properties"]["Environment"]["Variables"]
    queue_arn = variables["SCHEDULE_DEAD_LETTER_QUEUE_ARN"]
    (queue_id, attribute) = queue_arn["Fn::GetAtt"]
    assert attribute == "Arn"
    queue = synthesized.resources[queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    (key_id,) = synthesized.of_type("AWS::KMS::Key")
    assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    depth_alarms = [
        a
        for a in _alarmed_on(synthesized, "ApproximateNumberOfMessagesVisible")
        if _dimension(a, "QueueName") == {"Fn::GetAtt": [queue_id, "QueueName"]}
    ]
    assert len(depth_alarms) == 1
    # Scheduler sends dead-letter events with the schedule's execution role: SendMessage, and the key via SQS.
    statements = _statements_of(synthesized, synthesized.logical_id(stack.controller.scheduler_role))
    assert any(
        s["Action"] == "sqs:SendMessage" and s["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        for s in statements
    )
    assert any(
        set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        and s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        for s in statements
    )


def test_notifications_sns_could_not_deliver_to_people_are_alarmed(synthesized: Synthesized) -> None:
    topics = synthesized.stack.topics
    alarms = _alarmed_on(synthesized, "NumberOfNotificationsFailed")
    alarmed = {_dimension(a, "TopicName")["Fn::GetAtt"][0] for a in alarms}
    # The alarm topic cannot page about its own failures: they stay in each alarm's history.
    assert alarmed == {synthesized.logical_id(topics.escalation), synthesized.logical_id(topics.notices)}
    for alarm in alarms:
        assert alarm["Namespace"] == "AWS/SNS"
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 0


def test_events_no_rule_delivered_are_alarmed_and_shown(synthesized: Synthesized) -> None:
    # EventBridge drops an event no rule matches without a trace: the workflows' events without a context
    # go to the unrouted queue instead, and one there pages someone.
    queue_id = synthesized.logical_id(synthesized.stack.unrouted.queue)
    (alarm,) = [
        a
        for a in _alarmed_on(synthesized, "ApproximateNumberOfMessagesVisible")
        if _dimension(a, "QueueName") == {"Fn::GetAtt": [queue_id, "QueueName"]}
    ]
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert "without a workflow context" in alarm["AlarmDescription"]
    (widget,) = [
        w
        for w in _dashboard(synthesized)["widgets"]
        if w["properties"].get("title", "").startswith("Unrouted events")
    ]
    assert [m[:4] for m in _widget_metrics(widget)] == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"<{queue_id}.QueueName>"]
    ]
