"""``ChaosFaults``: a fault profile, injected at every hop of the local cloud, from the run's seed.

Each fault draws from a ``random.Random`` of its own, seeded from the run's seed and the fault's name:
never the loop's, so a run without faults keeps its trace, a run with them repeats for its seed, and one
fault's rate changes no other fault's draws. A fault with rate 0 draws nothing.

Transient faults are bounded where AWS's own redelivery has a limit, so that they delay a workflow and
never decide it: a queue message loses at most :data:`FAILURES_PER_MESSAGE` receives to injected
failures (redrive moves a message to its DLQ after ``maxReceiveCount``, and each failure costs a
visibility timeout, 3 minutes, against steps' deadlines of 5 minutes and more), an EventBridge delivery
at most :data:`DROPS_PER_DELIVERY` attempts (its retry policy allows 8), a Step Functions task at most
:data:`FAILURES_PER_TASK` (its ``Retry`` allows 3 or more). A fault that outlasts a deadline is a fault
of its own, ``never_answers``, whose outcome the simulator expects of the workflows it hits (see
:mod:`workflowkit.chaos.silence`).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workflowkit.chaos.log import FaultLog
from workflowkit.chaos.profiles import FaultProfile
from workflowkit.chaos.silence import Silence, correlation_id
from workflowkit.fastpath import ServiceError
from workflowkit.faults import (
    NO_RECEIVE_FAULTS,
    Faults,
    InjectedFaultError,
    QueueMessage,
    ReceiveFaults,
    TransactionConflicts,
)
from workflowkit.lambdas import HandlerError

if TYPE_CHECKING:
    from workflowkit.cloud import LocalCloud

FAILURES_PER_MESSAGE = 1
DROPS_PER_DELIVERY = 2
FAILURES_PER_TASK = 1
DUPLICATES_PER_MESSAGE = 1
DELAY_SECONDS = (1.0, 30.0)
# What each service answers a throttled call with (its model's error code and HTTP status).
THROTTLED = {
    "dynamodb": ("ProvisionedThroughputExceededException", 400),
    "sns": ("Throttled", 429),
    "scheduler": ("ThrottlingException", 429),
    "lambda": ("TooManyRequestsException", 429),
}
DEFAULT_THROTTLED = ("ThrottlingException", 400)
_CONDITIONAL_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


class ChaosFaults(Faults):
    """Injects ``profile`` with draws seeded by ``seed``; :meth:`attach` it to the cloud it runs in."""

    def __init__(self, profile: FaultProfile, *, seed: int) -> None:
        self.profile = profile
        self.seed = seed
        self.log = FaultLog()
        self._rates = {fault: profile.rate(fault) for fault in profile.rates}
        self._streams = {fault: random.Random(f"workflowkit-faults/{seed}/{fault}") for fault in self._rates}
        self._spent: Counter[str] = Counter()  # injected failures per message, delivery, task
        conflict_seed = random.Random(f"workflowkit-faults/{seed}/conflict").getrandbits(32)
        self._conflicts = TransactionConflicts(rate=profile.rate("conflict"), seed=conflict_seed)
        self._silenced_services: dict[str, dict[str, Silence]] = {}  # service -> workflow -> silence
        self._silenced_machines: list[Silence] = []
        self.silenced_hits: dict[str, Silence] = {}  # workflow -> the silence that hit it
        self._services: dict[str, str] = {}  # function name -> service name
        self._raced: set[str] = set()  # invocations (request ids) a concurrent duplicate raced
        self._ghost = False  # a concurrent duplicate runs: it takes no faults of its own
        self._cloud: LocalCloud | None = None
        self._attributed: tuple[Any, tuple[str, ...]] | None = None

    def attach(self, cloud: LocalCloud) -> None:
        """Take the running cloud's runtime and clock (for timeouts, races and the log's times)."""
        self._cloud = cloud
        self._services = {
            name: spec.environment.get("POWERTOOLS_SERVICE_NAME", name)
            for name, spec in cloud.lambdas.functions.items()
        }

    def silence(self, silence: Silence) -> None:
        """From now on, ``silence.workflow_id``'s runner of ``silence.step`` never answers it."""
        if silence.service is not None:
            self._silenced_services.setdefault(silence.service, {})[silence.workflow_id] = silence
        if silence.state_machine is not None:
            self._silenced_machines.append(silence)

    # --- EventBridge and Scheduler ---------------------------------------------------------------------
    def before_delivery(self, event: dict[str, Any], target: str) -> None:
        key = f"delivery/{event.get('id')}/{target}"
        if self._draw("drop") and self._spend(key, DROPS_PER_DELIVERY):
            self._record("drop", f"deliver {event.get('detail-type')} -> {target}", _event_workflows(event))
            raise InjectedFaultError("delivery attempt lost (injected)")

    def delivery_delay(self, event: dict[str, Any], target: str) -> float:
        if not self._draw("delay"):
            return 0.0
        self._record("delay", f"deliver {event.get('detail-type')} -> {target}", _event_workflows(event))
        return self._streams["delay"].uniform(*DELAY_SECONDS)

    def duplicate_delivery(self, event: dict[str, Any], target: str) -> bool:
        if not self._draw("duplicate"):
            return False
        self._record("duplicate", f"deliver {event.get('detail-type')} -> {target}", _event_workflows(event))
        return True

    def duplicate_firing(self, schedule_name: str) -> bool:
        if not self._draw("duplicate"):
            return False
        self._record("duplicate", f"schedule {schedule_name}")
        return True

    # --- SQS event-source mappings ---------------------------------------------------------------------
    def receive(self, queue: str, function_name: str, messages: Sequence[QueueMessage]) -> ReceiveFaults:
        ignored = self._ignored(function_name, messages)
        lost = frozenset(
            m.id
            for m in messages
            if m.id not in ignored
            and self._draw("drop")
            and self._spend(f"message/{m.id}", FAILURES_PER_MESSAGE)
        )
        for message in messages:
            if message.id in lost:
                self._record("drop", f"receive from {queue}", _message_workflows([message]))
        if not lost and not ignored:
            return NO_RECEIVE_FAULTS
        return ReceiveFaults(lost=lost, ignored=ignored)

    def delete_lost(self, queue: str, message: QueueMessage) -> bool:
        if not (self._draw("duplicate") and self._spend(f"duplicate/{message.id}", DUPLICATES_PER_MESSAGE)):
            return False
        self._record("duplicate", f"delete from {queue} lost", _message_workflows([message]))
        return True

    def _ignored(self, function_name: str, messages: Sequence[QueueMessage]) -> frozenset[str]:
        silences = self._silenced_services.get(self._services.get(function_name, function_name))
        if not silences:
            return frozenset()
        ignored = set()
        for message in messages:
            for silence in silences.values():
                if silence.asks_consumer(message.body):
                    ignored.add(message.id)
                    self._hit(silence, f"{self._services.get(function_name)} ignores it")
        return frozenset(ignored)

    # --- Step Functions ----------------------------------------------------------------------------------
    def starting_execution(self, execution_name: str, state_machine_arn: str, execution_input: Any) -> None:
        for silence in self._silenced_machines:
            if silence.runs_machine(state_machine_arn, execution_input):
                self._hit(silence, f"execution {execution_name} never runs")
                raise InjectedFaultError(f"{silence.fault}: the runner of {silence.step} never answers")

    def before_invoke_api(self, function_name: str, event: Any) -> None:
        if self._ghost:
            return
        if self._draw("crash_before") and self._spend_task(function_name, event):
            self._record("crash_before", f"invoke {function_name}")
            raise _client_error("ServiceException", 500, "Service error (injected)", "Invoke")
        if self._draw("throttle") and self._spend_task(function_name, event):
            self._record("throttle", f"invoke {function_name}")
            raise _client_error("TooManyRequestsException", 429, "Rate exceeded (injected)", "Invoke")

    def after_invoke_api(self, function_name: str, event: Any) -> None:
        if not self._ghost and self._draw("crash_after") and self._spend_task(function_name, event):
            self._record("crash_after", f"invoke {function_name}: response lost")
            # The function ran; its answer never reached the caller (the SDK's connection failed).
            raise _client_error("SdkClientException", 500, "Unable to read the response (injected)", "Invoke")

    # --- handlers ----------------------------------------------------------------------------------------
    def before_handler(self, function_name: str, event: Any) -> None:
        ids = _batch(event)
        if ids is None or self._ghost:
            return  # only queue-fed invocations crash here: a task's crash is its Invoke API's
        if self._draw("crash_before") and self._spend_all(ids, FAILURES_PER_MESSAGE):
            self._record("crash_before", f"{self._service(function_name)} batch", self._workflows_of(event))
            raise InjectedFaultError("crashed before its work (injected)")

    def after_handler(self, function_name: str, event: Any) -> None:
        ids = _batch(event)
        if ids is None or self._ghost:
            return
        if self._draw("crash_after") and self._spend_all(ids, FAILURES_PER_MESSAGE):
            self._record("crash_after", f"{self._service(function_name)} batch", self._workflows_of(event))
            raise InjectedFaultError("crashed after its work (injected)")

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        if self._ghost or self._cloud is None:
            return
        current = self._cloud.lambdas.current
        if current is None:
            return
        where = f"{self._service(current.function_name)}: {service}.{operation}"
        if self._draw("throttle"):
            code, status = THROTTLED.get(service, DEFAULT_THROTTLED)
            self._record("throttle", where, self._call_workflows(current.event, params))
            raise ServiceError(code, "Rate exceeded (injected)", status=status)
        ids = _batch(current.event)
        if ids is None:
            return  # timeouts and races: queue-fed handlers only (their retry is redelivery)
        if self._draw("timeout") and self._spend_all(ids, FAILURES_PER_MESSAGE):
            self._record("timeout", where, self._workflows_of(current.event))  # the whole batch fails
            self._cloud.lambdas.stop_at_timeout()
        if (
            _conditional_write(operation, params)
            and current.aws_request_id not in self._raced
            and self._draw("race")
        ):
            self._raced.add(current.aws_request_id)
            duplicate = _records_written(current.event, params)
            self._record("race", where, _record_workflows(duplicate))
            self._run_concurrent_duplicate(current.function_name, duplicate)

    def _run_concurrent_duplicate(self, function_name: str, event: Any) -> None:
        """The message being written for, delivered to a second invocation too (SQS delivers at least
        once), runs to its end before this invocation's conditional write lands. Its answer is
        nobody's: the queue deletes the message by this invocation's outcome."""
        assert self._cloud is not None
        self._ghost = True
        try:
            self._cloud.lambdas.invoke(function_name, event)
        except HandlerError:
            pass  # it failed as a concurrent invocation may; what it wrote stays written
        finally:
            self._ghost = False

    def dynamodb_item(self, operation: str, table: str, key: dict[str, Any]) -> str | None:
        if self._ghost:
            return None
        answer = self._conflicts.dynamodb_item(operation, table, key)
        if answer is not None:
            self.log.counts["conflict"] += 1
        return answer

    # --- reading -----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Injections per fault (every fault of the profile listed, 0 if it never fired)."""
        counts = {fault: 0 for fault, rate in self._rates.items() if rate > 0}
        counts.update(self.log.counts)
        return counts

    # --- drawing -----------------------------------------------------------------------------------------
    def _draw(self, fault: str) -> bool:
        rate = self._rates.get(fault, 0.0)
        return rate > 0 and self._streams[fault].random() < rate

    def _spend(self, key: str, limit: int) -> bool:
        if self._spent[key] >= limit:
            return False
        self._spent[key] += 1
        return True

    def _spend_all(self, message_ids: Iterable[str], limit: int) -> bool:
        """One failure for every message of a batch, if each has one left (a crash fails them all)."""
        keys = [f"message/{message_id}" for message_id in message_ids]
        if any(self._spent[key] >= limit for key in keys):
            return False
        for key in keys:
            self._spent[key] += 1
        return True

    def _spend_task(self, function_name: str, event: Any) -> bool:
        # A task's retries invoke the same function with the same payload.
        payload = json.dumps(event, sort_keys=True, default=str)
        return self._spend(f"task/{function_name}/{payload}", FAILURES_PER_TASK)

    def _hit(self, silence: Silence, where: str) -> None:
        """A silenced runner was asked to act: counted once per workflow, logged every time."""
        first = silence.workflow_id not in self.silenced_hits
        self.silenced_hits.setdefault(silence.workflow_id, silence)
        self.log.record(
            self._now(), silence.fault, f"{silence.step}: {where}", (silence.workflow_id,), count=first
        )

    def _workflows_of(self, event: Any) -> tuple[str, ...]:
        """The workflows of a batch's records (the last batch's answer kept: faults come in bursts)."""
        if self._attributed is None or self._attributed[0] is not event:
            self._attributed = (event, _record_workflows(event))
        return self._attributed[1]

    def _call_workflows(self, event: Any, params: Any) -> tuple[str, ...]:
        """The workflows of the batch a call is made for: those the call names (its key, its entries),
        else every workflow of the batch (a call keyed by a hash names none)."""
        workflows = self._workflows_of(event)
        if len(workflows) < 2:
            return workflows
        written = json.dumps(params, default=str)
        named = tuple(workflow for workflow in workflows if workflow in written)
        return named or workflows

    def _record(self, fault: str, where: str, workflows: tuple[str, ...] = ()) -> None:
        self.log.record(self._now(), fault, where, workflows)

    def _now(self) -> Any:
        return self._cloud.clock.now() if self._cloud is not None else None

    def _service(self, function_name: str) -> str:
        return self._services.get(function_name, function_name)


def _client_error(code: str, status: int, message: str, operation: str) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


def _batch(event: Any) -> list[str] | None:
    """The message ids of an SQS batch event; None for any other event."""
    if not isinstance(event, dict):
        return None
    records = event.get("Records")
    if not isinstance(records, list) or not records or records[0].get("eventSource") != "aws:sqs":
        return None
    return [str(record.get("messageId")) for record in records]


def _event_workflows(event: dict[str, Any]) -> tuple[str, ...]:
    workflow = correlation_id(event)
    return (workflow,) if workflow else ()


def _message_workflows(messages: Sequence[QueueMessage]) -> tuple[str, ...]:
    return _bodies_workflows(m.body for m in messages)


def _record_workflows(event: Any) -> tuple[str, ...]:
    if _batch(event) is None:
        return ()
    return _bodies_workflows(str(record.get("body", "")) for record in event["Records"])


def _bodies_workflows(bodies: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for body in bodies:
        try:
            workflow = correlation_id(json.loads(body))
        except ValueError:
            continue
        if workflow and workflow not in found:
            found.append(workflow)
    return tuple(found)


def _records_written(event: dict[str, Any], params: Any) -> dict[str, Any]:
    """The batch's records whose workflow the write names (its key, its values), as a batch of their
    own; the whole batch when the write names none (an idempotency record keyed by a hash, say)."""
    written = json.dumps(params, default=str)
    records = [
        record
        for record in event["Records"]
        if (workflow := _bodies_workflows([str(record.get("body", ""))])) and workflow[0] in written
    ]
    return {**event, "Records": records} if records else event


def _conditional_write(operation: str, params: Any) -> bool:
    if not isinstance(params, dict):
        return False
    if operation in _CONDITIONAL_WRITES:
        return "ConditionExpression" in params or "Expected" in params
    if operation == "TransactWriteItems":
        return any(
            "ConditionCheck" in item or "ConditionExpression" in next(iter(item.values()), {})
            for item in params.get("TransactItems", [])
            if isinstance(item, dict)
        )
    return False
