"""The template's CloudWatch alarms on queue depth, evaluated on virtual time, and their SNS actions.

The local cloud evaluates the alarms whose metric it knows exactly: ``AWS/SQS``
``ApproximateNumberOfMessagesVisible`` per queue (every dead-letter-queue alarm of the kit). When one
changes state its actions run as CloudWatch runs them: ``cloudwatch.amazonaws.com`` publishes to each
action's topic, which the topic policy — and, for an encrypted topic, the key policy — must allow. An
action that is refused is recorded in :attr:`AlarmService.failed_actions`, as CloudWatch records
"Failed to execute action" in the alarm's history: that is how a silent alarm shows locally.
Alarms on other metrics are listed in :attr:`AlarmService.not_evaluated`.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from workflowkit.context import ServiceContext

_CLOUDWATCH = "cloudwatch.amazonaws.com"
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


@dataclass(frozen=True)
class AlarmAction:
    at: datetime
    alarm: str  # alarm name
    state: str  # the state the alarm changed to
    topic: str
    error: str = ""  # why the action failed ("" when delivered)


@dataclass
class _QueueAlarm:
    arn: str
    name: str
    queue: str
    threshold: float
    compare: Callable[[float, float], bool]
    period: timedelta
    actions: dict[str, list[str]]  # state -> topic ARNs
    state: str = "OK"
    pending: bool = False


class AlarmService:
    def __init__(self, context: ServiceContext) -> None:
        self._context = context
        self._by_queue: dict[str, list[_QueueAlarm]] = {}
        self.not_evaluated: list[str] = []
        self.notifications: list[AlarmAction] = []
        self.failed_actions: list[AlarmAction] = []
        self.reload()

    def reload(self) -> None:
        """Take the alarms of the template whose permissions are enforced (at start, and after a stack
        update: an alarm that stays keeps its state)."""
        kept = {a.arn: a for alarms in self._by_queue.values() for a in alarms}
        self._by_queue, self.not_evaluated = {}, []
        for arn, props in self._context.access.model.alarms.items():
            alarm = _queue_alarm(arn, props)
            if alarm is None:
                self.not_evaluated.append(arn.rsplit(":", 1)[-1])
                continue
            previous = kept.get(arn)
            if previous is not None:  # a pending evaluation holds the object: keep it, with the new settings
                alarm.state, alarm.pending = previous.state, previous.pending
                vars(previous).update(vars(alarm))
                alarm = previous
            self._by_queue.setdefault(alarm.queue, []).append(alarm)

    def states(self) -> dict[str, str]:
        return {a.name: a.state for alarms in self._by_queue.values() for a in alarms}

    def queue_changed(self, queue_name: str) -> None:
        """A queue's depth may have changed: its alarms are evaluated at the end of their period."""
        for alarm in self._by_queue.get(queue_name, ()):
            if alarm.pending:
                continue
            alarm.pending = True
            self._context.loop.call_later(
                alarm.period, f"evaluate alarm {alarm.name}", self._evaluator(alarm)
            )

    def _evaluator(self, alarm: _QueueAlarm) -> Callable[[], None]:
        return lambda: self._evaluate(alarm)

    def _evaluate(self, alarm: _QueueAlarm) -> None:
        alarm.pending = False
        if not any(a is alarm for a in self._by_queue.get(alarm.queue, ())):
            return  # deleted by a stack update
        depth = len(self._context.backends("sqs").get_queue(alarm.queue)._messages)
        state = "ALARM" if alarm.compare(float(depth), alarm.threshold) else "OK"
        if state == alarm.state:
            return
        alarm.state = state
        for topic in alarm.actions.get(state, []):
            self._notify(alarm, state, topic)

    def _notify(self, alarm: _QueueAlarm, state: str, topic: str) -> None:
        context = self._context
        now = context.clock.now()
        hop = f"alarm {alarm.name} -> {topic.rsplit(':', 1)[-1]}"
        verdict = context.access.service_may(_CLOUDWATCH, "sns:Publish", topic, source_arn=alarm.arn, hop=hop)
        if not verdict.allowed:
            self.failed_actions.append(AlarmAction(now, alarm.name, state, topic, verdict.reason))
            return
        message = {"AlarmName": alarm.name, "NewStateValue": state, "StateChangeTime": now.isoformat()}
        context.backends("sns").publish(
            message=json.dumps(message),
            arn=topic,
            subject=f'{state}: "{alarm.name}"'[:100],  # SNS caps subjects at 100 characters
        )
        self.notifications.append(AlarmAction(now, alarm.name, state, topic))


def _queue_alarm(arn: str, props: dict[str, Any]) -> _QueueAlarm | None:
    if (props.get("Namespace"), props.get("MetricName")) != ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
        return None
    dimensions = {d["Name"]: str(d["Value"]) for d in props.get("Dimensions") or []}
    compare = _COMPARE.get(str(props.get("ComparisonOperator")))
    if "QueueName" not in dimensions or compare is None or "Threshold" not in props:
        return None
    return _QueueAlarm(
        arn=arn,
        name=arn.rsplit(":", 1)[-1],
        queue=dimensions["QueueName"],
        threshold=float(props["Threshold"]),
        compare=compare,
        period=timedelta(seconds=int(props.get("Period", 60)) * int(props.get("EvaluationPeriods", 1))),
        actions={
            "ALARM": [str(a) for a in props.get("AlarmActions") or []],
            "OK": [str(a) for a in props.get("OKActions") or []],
        },
    )
