"""EventBridge Scheduler on the local cloud: ``at(...)`` and ``rate(...)`` schedules fire on virtual time.

moto stores schedules and never fires them. Here creating a schedule also puts its firing on the
event loop; deleting it cancels the firing. A firing re-reads the schedule (it may have been deleted
or disabled since), delivers to its target (an event bus, a queue, a state machine or a function) and,
with ``ActionAfterCompletion=DELETE``, deletes a one-time schedule as Scheduler does.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from moto.scheduler.models import EventBridgeSchedulerBackend

from workflowkit.context import Executions, Functions, PutEvents, Queues, ServiceContext

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


class InvalidScheduleExpressionError(ValueError):
    """Scheduler rejects the expression (moto accepts anything)."""


def first_firing(expression: str, timezone: str | None, now: datetime) -> tuple[datetime, timedelta | None]:
    """(first firing time, period) of a schedule expression; period is None for one-time schedules."""
    match = _AT.match(expression)
    if match:
        zone = ZoneInfo(timezone) if timezone else UTC
        return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone).astimezone(UTC), None
    match = _RATE.match(expression)
    if match:
        period = timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])
        return now + period, period
    raise InvalidScheduleExpressionError(f"unsupported schedule expression {expression!r}")


class SchedulerService:
    """Fires schedules into ``queues``, ``executions``, ``functions`` and buses (``put_events``)."""

    def __init__(
        self,
        context: ServiceContext,
        *,
        queues: Queues,
        executions: Executions,
        functions: Functions,
        put_events: PutEvents,
    ) -> None:
        self._context = context
        self._queues = queues
        self._executions = executions
        self._functions = functions
        self._put_events = put_events
        self._tasks: dict[tuple[str, str], Any] = {}
        self._saved: list[tuple[str, Any]] = []
        self.fired = 0
        self.dead_lettered = 0  # firings the target refused, sent to the schedule's DLQ
        self.dropped = 0  # firings refused with no DLQ, or a DLQ that refused them too
        # The widest flexible time window of any schedule created: how much later than its time AWS may
        # fire one (the local cloud fires each at its time); the simulator's deadline bounds read it.
        self.widest_window = timedelta(0)

    def install(self) -> None:
        service = self
        original_create = EventBridgeSchedulerBackend.create_schedule
        original_delete = EventBridgeSchedulerBackend.delete_schedule

        def create_schedule(backend: Any, **kwargs: Any) -> Any:
            first_firing(
                kwargs["schedule_expression"], kwargs.get("schedule_expression_timezone"), service._now()
            )
            schedule = original_create(backend, **kwargs)
            service._note_window(kwargs.get("flexible_time_window") or {})
            service._arm(backend, schedule.group_name, schedule.name)
            return schedule

        def delete_schedule(backend: Any, group_name: str | None, name: str) -> None:
            original_delete(backend, group_name, name)
            task = service._tasks.pop((group_name or "default", name), None)
            if task is not None:
                service._context.loop.cancel(task)

        self._saved = [("create_schedule", original_create), ("delete_schedule", original_delete)]
        setattr(EventBridgeSchedulerBackend, "create_schedule", create_schedule)  # noqa: B010 - a patch
        setattr(EventBridgeSchedulerBackend, "delete_schedule", delete_schedule)  # noqa: B010

    def uninstall(self) -> None:
        for name, original in self._saved:
            setattr(EventBridgeSchedulerBackend, name, original)
        self._saved = []

    def _now(self) -> datetime:
        return self._context.clock.now()

    def pending(self) -> int:
        return len(self._tasks)

    def _note_window(self, window: dict[str, Any]) -> None:
        if window.get("Mode") == "FLEXIBLE":
            width = timedelta(minutes=int(window.get("MaximumWindowInMinutes") or 0))
            self.widest_window = max(self.widest_window, width)

    def _arm(self, backend: Any, group: str, name: str, after: datetime | None = None) -> None:
        schedule = backend.get_schedule(group, name)
        due, _period = first_firing(
            schedule.schedule_expression, schedule.schedule_expression_timezone, after or self._now()
        )
        key = (group, name)
        self._tasks[key] = self._context.loop.call_at(
            due, f"fire schedule {name}", lambda: self._fire(backend, group, name)
        )

    def _fire(self, backend: Any, group: str, name: str) -> None:
        self._tasks.pop((group, name), None)
        try:
            schedule = backend.get_schedule(group, name)
        except Exception:
            return
        if schedule.state == "DISABLED":
            return
        self.fired += 1
        self._context.ledger.trace("schedule", self._now(), name)
        assumed, refusal = self._authorize(schedule)
        if refusal is None:
            self._deliver(schedule.target)
            if self._context.faults().duplicate_firing(name):  # Scheduler invokes at least once
                self._context.ledger.trace("schedule duplicated", self._now(), name)
                self._deliver(schedule.target)
        else:
            self._dead_letter(schedule, refusal, role_assumed=assumed)
        _first, period = first_firing(
            schedule.schedule_expression, schedule.schedule_expression_timezone, self._now()
        )
        if period is not None:
            self._arm(backend, group, name)
        elif (schedule.action_after_completion or "NONE") == "DELETE":
            backend.delete_schedule(group, name)

    def _authorize(self, schedule: Any) -> tuple[bool, str | None]:
        """(whether Scheduler could assume the schedule's role, why it cannot reach the target or None).

        Scheduler assumes the schedule's execution role — its trust policy must admit
        ``scheduler.amazonaws.com``, which names the schedule *group* as ``aws:SourceArn`` — and calls the
        target with it. A refusal is not retried.
        """
        access = self._context.access
        target = schedule.target
        role = target.get("RoleArn")
        hop = f"schedule {schedule.name} -> {target['Arn'].split(':')[-1]}"
        if not role:
            return False, "the schedule has no execution role"
        group_arn = schedule.arn.rsplit(":", 1)[0] + f":schedule-group/{schedule.group_name}"
        verdict = access.may_assume(role, service=_SCHEDULER, source_arn=group_arn, hop=hop)
        if not verdict.allowed:
            return False, verdict.reason
        verdict = access.role_may(role, *_target_call(target), hop=hop)
        return True, None if verdict.allowed else verdict.reason

    def _dead_letter(self, schedule: Any, reason: str, *, role_assumed: bool) -> None:
        """Send the refused firing to the schedule's DLQ, with the role's own permissions.

        Scheduler sends to the DLQ with the same execution role: when it could not assume the role, the
        firing is lost (InvocationsFailedToBeSentToDeadLetterCount).
        """
        context = self._context
        target = schedule.target
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        role = target.get("RoleArn")
        if dlq and role and role_assumed:
            hop = f"schedule {schedule.name} -> dead-letter queue {dlq.split(':')[-1]}"
            verdict = context.access.role_may(role, "sqs", "SendMessage", {"QueueUrl": dlq}, hop=hop)
            if verdict.allowed:
                self._queues.send(
                    dlq,
                    target.get("Input", "{}"),
                    attributes={"ERROR_CODE": "AccessDenied", "ERROR_MESSAGE": reason[:256]},
                )
                self.dead_lettered += 1
                context.ledger.trace("schedule dead-lettered", self._now(), schedule.name, reason)
                return
        self.dropped += 1
        context.ledger.trace("schedule dropped", self._now(), schedule.name, reason)

    def _deliver(self, target: dict[str, Any]) -> None:
        arn: str = target["Arn"]
        payload = target.get("Input", "{}")
        service = arn.split(":")[2]
        if service == "events":
            parameters = target.get("EventBridgeParameters") or {}
            self._put_events(
                [
                    {
                        "EventBusName": arn,
                        "Source": parameters.get("Source", "aws.scheduler"),
                        "DetailType": parameters.get("DetailType", "Scheduled Event"),
                        "Detail": payload,
                    }
                ]
            )
        elif service == "sqs":
            self._queues.send(arn, payload)
        elif service == "states":
            self._executions.start_from_event(arn, payload)
        elif service == "lambda":
            function = self._functions.by_arn(arn)
            if function is not None:
                self._functions.invoke(function.name, json.loads(payload))
        else:
            raise InvalidScheduleExpressionError(f"the local cloud cannot deliver a schedule to {arn}")


_SCHEDULER = "scheduler.amazonaws.com"


def _target_call(target: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The API call Scheduler makes to the target with the schedule's role."""
    arn: str = target["Arn"]
    service = arn.split(":")[2]
    if service == "events":
        parameters = target.get("EventBridgeParameters") or {}
        entry = {
            "EventBusName": arn,
            "Source": parameters.get("Source", "aws.scheduler"),
            "DetailType": parameters.get("DetailType", "Scheduled Event"),
        }
        return "events", "PutEvents", {"Entries": [entry]}
    if service == "sqs":
        return "sqs", "SendMessage", {"QueueUrl": arn}
    if service == "states":
        return "stepfunctions", "StartExecution", {"stateMachineArn": arn}
    if service == "lambda":
        return "lambda", "Invoke", {"FunctionName": arn}
    return service, "Unknown", {}
