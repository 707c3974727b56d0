"""EventBridge delivery on the local cloud: PutEvents -> matching rules -> every target type.

Replaces moto's ``put_events`` (which delivers only to SQS and raises for Lambda and Step Functions
targets). Entries are validated as EventBridge does, recorded in the ledger, matched against every
enabled rule of the bus, and each match becomes a delivery task on the event loop: SQS queues, Step
Functions state machines, Lambda functions, other buses and archives. A failed delivery is retried
with backoff within the target's ``RetryPolicy`` and then sent to the target's dead-letter queue.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from moto.events.exceptions import ValidationException

from workflowkit.context import Executions, Functions, Queues, ServiceContext
from workflowkit.entries import RequestRefusedError, check_request, entry_error
from workflowkit.patterns import matches_json
from workflowkit.patterns.objects import load, members
from workflowkit.spool import Spool
from workflowkit.targets import target_input

# EventBridge's defaults when a target has no RetryPolicy.
DEFAULT_MAX_ATTEMPTS = 185
DEFAULT_MAX_AGE = timedelta(hours=24)
ARCHIVE_RULE_PREFIX = "Events-Archive-"  # the managed rule moto (like EventBridge) adds per archive


class DeliveryError(Exception):
    """A target could not take the event (missing resource, throttled, rejected)."""


class TargetAccessDeniedError(DeliveryError):
    """The target's resource policy, key policy or role does not let EventBridge deliver."""


_EVENTS = "events.amazonaws.com"
# Targets EventBridge reaches with its own identity, under the target's resource policy.
_RESOURCE_ACTIONS = {"sqs": "sqs:SendMessage", "lambda": "lambda:InvokeFunction", "sns": "sns:Publish"}


def _role_call(service: str, arn: str, event: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The API call a role-based target makes with its role: (service, operation, params)."""
    if service == "states":
        return "stepfunctions", "StartExecution", {"stateMachineArn": arn}
    if service == "events":
        entry = {"EventBusName": arn, "Source": event["source"], "DetailType": event["detail-type"]}
        return "events", "PutEvents", {"Entries": [entry]}
    if service == "lambda":
        return "lambda", "Invoke", {"FunctionName": arn}
    return service, "Unknown", {}


class EventBridgeDelivery:
    """Delivers to ``queues``, ``executions`` and ``functions``, and to buses through itself."""

    def __init__(
        self,
        context: ServiceContext,
        *,
        queues: Queues,
        executions: Executions,
        functions: Functions,
    ) -> None:
        self._context = context
        self._queues = queues
        self._executions = executions
        self._functions = functions
        self.failed_to_dead_letter = 0

    def publish(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PutEvents on the local cloud's own account and region (what a bus target or a schedule does)."""
        return self.put_events(self._context.backends("events"), entries)

    # --- the PutEvents API ---------------------------------------------------------------------------
    def put_events(self, backend: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            check_request(entries)
        except RequestRefusedError as refused:
            raise ValidationException(str(refused)) from None
        results: list[dict[str, Any]] = []
        for entry in entries:
            error, detail = entry_error(entry)
            if error:
                results.append(error)
                continue
            refusal = self._context.access.entry_refusal(entry)
            if refusal is not None:  # EventBridge refuses the entry, not the call: the others go on
                results.append({"ErrorCode": "AccessDeniedException", "ErrorMessage": refusal})
                continue
            event_id = str(uuid.UUID(int=self._context.loop.random.getrandbits(128), version=4))
            results.append({"EventId": event_id})
            self._route(backend, entry, detail, event_id)
        return results

    def _route(self, backend: Any, entry: dict[str, Any], detail: dict[str, Any], event_id: str) -> None:
        context = self._context
        bus_name = backend._normalize_event_bus_arn(entry.get("EventBusName"))
        if bus_name not in backend.event_buses:
            # EventBridge answers an entry for a bus that does not exist with an event id, and drops it.
            return
        bus = backend.describe_event_bus(bus_name)
        now = context.clock.now()
        event = {
            "version": "0",
            "id": event_id,
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": backend.account_id,
            "time": _event_time(entry.get("Time"), now),
            "region": backend.region_name,
            "resources": entry.get("Resources", []),
            "detail": detail,
        }
        context.ledger.published(eventbridge_id=event_id, bus=bus_name, entry=entry, detail=detail, at=now)
        for rule_name in sorted(bus.rules):
            rule = bus.rules[rule_name]
            raw_pattern = rule.event_pattern._raw_pattern
            if rule.state != "ENABLED" or not raw_pattern:
                continue  # disabled, or a scheduled rule
            sources, detail_types = _exact_fields(raw_pattern)
            if (sources is not None and entry["Source"] not in sources) or (
                detail_types is not None and entry["DetailType"] not in detail_types
            ):
                continue  # the pattern names other exact sources or detail types: it cannot match
            if not matches_json(raw_pattern, event):
                continue
            for target in rule.targets:
                if _is_archive(target):
                    archive = backend.archives.get(rule_name.removeprefix(ARCHIVE_RULE_PREFIX))
                    if archive is not None:
                        if type(archive.events) is not Spool:  # kept on disk (workflowkit.spool)
                            archive.events = Spool(archive.events)
                        archive.events.append(event)
                    continue
                label = _target_label(target["Arn"])
                context.ledger.matched(event_id, rule_name, label)
                self._schedule_delivery(rule, target, event, label, attempt=1)

    # --- scheduled rules -------------------------------------------------------------------------------
    def arm_scheduled_rule(self, backend: Any, rule: Any) -> None:
        """Fire a ``rate(...)`` rule every period, as background work (it never keeps a run alive)."""
        period = rate_period(rule.scheduled_expression)
        loop = self._context.loop

        def fire() -> None:
            current = backend.describe_event_bus(rule.event_bus_name).rules.get(rule.name)
            if current is not rule:
                return  # deleted or replaced: its schedule ends with it
            if rule.state == "ENABLED":
                self._fire_scheduled(backend, rule)
            loop.call_later(period, f"scheduled rule {rule.name}", fire, background=True)

        loop.call_later(period, f"scheduled rule {rule.name}", fire, background=True)

    def _fire_scheduled(self, backend: Any, rule: Any) -> None:
        context = self._context
        now = context.clock.now()
        event_id = str(uuid.UUID(int=context.loop.random.getrandbits(128), version=4))
        event = {
            "version": "0",
            "id": event_id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": backend.account_id,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": backend.region_name,
            "resources": [rule.arn],
            "detail": {},
        }
        entry = {"Source": "aws.events", "DetailType": "Scheduled Event"}
        context.ledger.published(
            eventbridge_id=event_id, bus=rule.event_bus_name, entry=entry, detail={}, at=now
        )
        for target in rule.targets:
            label = _target_label(target["Arn"])
            context.ledger.matched(event_id, rule.name, label)
            self._schedule_delivery(rule, target, event, label, attempt=1)

    # --- delivering ----------------------------------------------------------------------------------
    def _schedule_delivery(
        self,
        rule: Any,
        target: dict[str, Any],
        event: dict[str, Any],
        label: str,
        *,
        attempt: int,
        duplicate: bool = False,
    ) -> None:
        context = self._context
        if attempt == 1:
            faults = context.faults()
            delay = context.network_latency() + timedelta(seconds=faults.delivery_delay(event, label))
            # At least once: EventBridge may hand a target the same event again, as a delivery of its own.
            if not duplicate and faults.duplicate_delivery(event, label):
                self._schedule_delivery(rule, target, event, label, attempt=1, duplicate=True)
        else:
            delay = _backoff(attempt)
        context.loop.call_later(
            delay,
            f"deliver {event['detail-type']} -> {label}",
            lambda: self._deliver(rule, target, event, label, attempt),
        )

    def _deliver(
        self, rule: Any, target: dict[str, Any], event: dict[str, Any], label: str, attempt: int
    ) -> None:
        context = self._context
        now = context.clock.now()
        payload = target_input(target, event, rule_name=rule.name)
        try:
            context.faults().before_delivery(event, label)
            self._authorize(rule.arn, target, event)
            settled = self._send(target, payload, event)
        except Exception as error:
            context.ledger.attempt(
                event["id"], label, now, ok=False, detail=f"{type(error).__name__}: {error}"
            )
            self._retry_or_dead_letter(rule, target, event, label, attempt, error)
            return
        if settled:
            context.ledger.attempt(event["id"], label, now, ok=True)
            context.ledger.processed(event["id"], label, now)
        else:
            # In a consumer's queue: the consumer's receives are the attempts that count.
            context.ledger.trace("enqueued", now, label, event["id"])

    def _authorize(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        """What AWS checks before EventBridge hands an event to a target; raises to fail the delivery.

        Queues, functions and topics are reached as ``events.amazonaws.com`` under the target's resource
        policy (and the key policy of an encrypted queue or topic); state machines and other buses
        through the target's role, which EventBridge must be trusted to assume and which must allow
        the call.
        """
        access = self._context.access
        arn: str = target["Arn"]
        service = arn.split(":")[2]
        hop = f"rule {rule_arn.rsplit('/', 1)[-1]} -> {_target_label(arn)}"
        role = target.get("RoleArn")
        if role:
            verdict = access.may_assume(role, service=_EVENTS, source_arn=rule_arn, hop=hop)
            if verdict.allowed:
                verdict = access.role_may(role, *_role_call(service, arn, event), hop=hop)
        elif service in _RESOURCE_ACTIONS:
            verdict = access.service_may(
                _EVENTS, _RESOURCE_ACTIONS[service], arn, source_arn=rule_arn, hop=hop
            )
        else:
            return
        if not verdict.allowed:
            raise TargetAccessDeniedError(verdict.reason)

    def _send(self, target: dict[str, Any], payload: str, event: dict[str, Any]) -> bool:
        """Hand the payload to the target; True when that alone settles the delivery."""
        arn: str = target["Arn"]
        service = arn.split(":")[2]
        if service == "sqs":
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            self._queues.send(arn, payload, group_id=group_id)
            # A queue with a consumer settles the event when the consumer deletes or dead-letters it.
            return not self._queues.has_consumer(arn)
        if service == "states":
            self._executions.start_from_event(arn, payload)
            return True
        if service == "lambda":
            function = self._functions.by_arn(arn)
            if function is None:
                raise DeliveryError(f"no function {arn}")
            self._functions.invoke(function.name, json.loads(payload))
            return True
        if service == "events":
            self.publish(
                [
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "EventBusName": arn,
                    }
                ]
            )
            return True
        raise DeliveryError(f"the local cloud cannot deliver to {arn}")

    def _retry_or_dead_letter(  # noqa: PLR0917 - one delivery's whole context
        self,
        rule: Any,
        target: dict[str, Any],
        event: dict[str, Any],
        label: str,
        attempt: int,
        error: Exception,
    ) -> None:
        context = self._context
        policy = target.get("RetryPolicy") or {}
        max_attempts = 1 + int(policy.get("MaximumRetryAttempts", DEFAULT_MAX_ATTEMPTS))
        max_age = timedelta(
            seconds=int(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE.total_seconds()))
        )
        age = context.clock.now() - context.ledger.events[event["id"]].published_at
        if attempt < max_attempts and age + _backoff(attempt + 1) <= max_age:
            self._schedule_delivery(rule, target, event, label, attempt=attempt + 1)
            return
        dlq_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        now = context.clock.now()
        if not dlq_arn:
            context.ledger.dropped(event["id"], label, now, reason=str(error))
            return
        # EventBridge sends to the target's DLQ as itself: the DLQ's policy and key must allow it too.
        hop = f"rule {rule.name} -> dead-letter queue {dlq_arn.split(':')[-1]}"
        verdict = context.access.service_may(
            _EVENTS, "sqs:SendMessage", dlq_arn, source_arn=rule.arn, hop=hop
        )
        if not verdict.allowed:
            self.failed_to_dead_letter += 1  # the InvocationsFailedToBeSentToDlq metric
            context.ledger.dropped(
                event["id"], label, now, reason=f"{error}; and not sent to the DLQ: {verdict.reason}"
            )
            return
        self._queues.send(
            dlq_arn,
            json.dumps(event),
            attributes={
                "RULE_ARN": rule.arn,
                "TARGET_ARN": target["Arn"],
                "ERROR_CODE": type(error).__name__,
                "ERROR_MESSAGE": str(error)[:256],
            },
        )
        context.ledger.dead_lettered(event["id"], label, now, dlq=dlq_arn.split(":")[-1], reason=str(error))


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_period(expression: str) -> timedelta:
    """The period of a ``rate(N unit)`` schedule expression."""
    match = _RATE.match(expression.strip())
    if match is None:
        # cron(...) needs a calendar evaluator the local cloud does not have yet: refuse loudly
        # rather than silently never firing.
        raise ValueError(f"the local cloud fires rate(...) rules only, not {expression!r}")
    count, unit = int(match.group(1)), match.group(2)
    if count < 1 or (count == 1) == unit.endswith("s"):
        # EventBridge wants "rate(1 minute)" and "rate(5 minutes)": singular for one, plural otherwise.
        raise ValueError(f"invalid schedule expression {expression!r}")
    return timedelta(seconds=count * _UNIT_SECONDS[unit])


@lru_cache(maxsize=4096)
def _exact_fields(raw_pattern: str) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """The exact values a pattern allows for ``source`` and ``detail-type`` (None: not only exact strings,
    or not named): an event with another value cannot match it, whatever the rest of the pattern says.

    Read as the matcher reads it (:mod:`workflowkit.patterns`): a key given twice keeps the later value,
    and an ``$or`` branch that writes the field again overrides what came before it, so a field any
    ``$or`` of the pattern names (at any depth, to be safe) is not prefiltered."""
    try:
        pattern = members(load(raw_pattern))
    except ValueError:
        return None, None
    if pattern is None:
        return None, None
    alternatives = [value for key, value in pattern if key == "$or"]

    def exact(name: str) -> frozenset[str] | None:
        written = [value for key, value in pattern if key == name]
        if not written or any(_names(alternative, name) for alternative in alternatives):
            return None
        values = written[-1]
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            return frozenset(values)
        return None

    return exact("source"), exact("detail-type")


def _names(node: Any, name: str) -> bool:
    """Whether ``name`` is a key anywhere in ``node`` (pattern text parsed by ``patterns.objects.load``)."""
    fields = members(node)
    if fields is not None:
        return any(key == name or _names(value, name) for key, value in fields)
    if isinstance(node, list):
        return any(_names(item, name) for item in node)
    return False


def _is_archive(target: dict[str, Any]) -> bool:
    parts = target["Arn"].split(":")
    return parts[2] == "events" and (len(parts) < 6 or not parts[5])


def _target_label(arn: str) -> str:
    parts = arn.split(":")
    service, resource = parts[2], parts[-1]
    kind = {"sqs": "queue", "states": "statemachine", "lambda": "lambda", "events": "bus"}.get(
        service, service
    )
    return f"{kind}:{resource.split('/')[-1]}"


def _backoff(attempt: int) -> timedelta:
    """EventBridge retries with exponential backoff (and jitter, kept out for determinism)."""
    return timedelta(seconds=min(300, 2 ** (attempt - 1)))


def _event_time(given: Any, now: datetime) -> str:
    """The event's ``time``: the entry's ``Time`` (epoch seconds on the wire) or now, as ISO 8601."""
    if isinstance(given, int | float):
        return datetime.fromtimestamp(given, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(given, str) and given:
        return given
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")
