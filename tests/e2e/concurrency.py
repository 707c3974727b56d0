"""Concurrent invocations on the local cloud, with the interleaving forced, never hoped for.

- :class:`HeldQueue` pauses one function's SQS event source mapping: what the bus routes to its queue
  waits there until the test receives it and delivers it, record by record, on threads of its own, as
  concurrent pollers would (the batch result is honoured as the mapping honours it: records that
  succeeded are deleted, failed ones come back after the visibility timeout once the mapping resumes).
- :class:`Interleaving` makes threads wait for each other at chosen calls: before a handler's AWS call
  (the local cloud's fault seam) or inside a transaction's window between prepare and commit (the
  DynamoDB engine's ``on_prepared``).
- :func:`history_problems` reads a workflow's event-sourced store and says what is wrong with it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from workflowkit import LocalCloud
from workflowkit.faults import Faults

WAIT = 30.0  # seconds a thread may wait for another before the test calls it a hang
Params = dict[str, Any]
CallPredicate = Callable[[str, str, Params], bool]


class HeldQueue:
    """The event source mapping of the function whose handler lives in ``handler_module``, paused."""

    def __init__(self, cloud: LocalCloud, handler_module: str) -> None:
        assert cloud.app is not None
        self._cloud = cloud
        self.function = next(
            name
            for name, spec in cloud.lambdas.functions.items()
            if spec.handler.startswith(f"{handler_module}.")
        )
        self._mapping = next(m for m in cloud.app.mappings if m.function_name == self.function)
        self.queue_name = self._mapping.queue_arn.rsplit(":", maxsplit=1)[-1]
        self._sqs = boto3.client("sqs", region_name=cloud.region)
        self._url = self._sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        cloud.sqs.update([m for m in cloud.app.mappings if m is not self._mapping])

    def resume(self) -> None:
        """The mapping polls again, from what the queue holds (failed records once they are visible)."""
        assert self._cloud.app is not None
        self._cloud.sqs.update(self._cloud.app.mappings)

    def receive(self) -> list[dict[str, Any]]:
        """Every visible message, as Lambda records (now in flight for the queue's visibility timeout)."""
        records: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return records
            records.extend(self._record(message) for message in messages)

    def receive_again(self, record: dict[str, Any]) -> dict[str, Any]:
        """The same message received once more while ``record`` is still being handled (at least once)."""
        self._sqs.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )
        self._cloud.run_for(timedelta(seconds=1))  # visible again from the next moment on
        received = self.receive()
        assert [r["messageId"] for r in received] == [record["messageId"]], "other messages were waiting"
        return received[0]

    def deliver(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke the function with ``records`` as one batch, as the mapping does; returns its result."""
        result = self._cloud.lambdas.invoke(self.function, {"Records": records})
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures") or []}
        now = self._cloud.clock.now()
        label = f"queue:{self.queue_name}"
        for record in records:
            eventbridge_id = json.loads(record["body"])["id"]
            ok = record["messageId"] not in failed
            self._cloud.ledger.attempt(
                eventbridge_id, label, now, ok=ok, detail="" if ok else "batch item failure"
            )
            if ok:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=record["receiptHandle"])
                self._cloud.ledger.processed(eventbridge_id, label, now)
        return dict(result or {})

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", "0"),
                "SenderId": attributes.get("SenderId", self._cloud.account),
                "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
            },
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._mapping.queue_arn,
            "awsRegion": self._cloud.region,
        }


def detail_type(record: dict[str, Any]) -> str:
    return str(json.loads(record["body"])["detail-type"])


def event_id(record: dict[str, Any]) -> str:
    return str(json.loads(record["body"])["detail"]["metadata"]["eventId"])


# --- forcing an interleaving --------------------------------------------------------------------------
def dynamodb(operation: str, *, sk: str | None = None) -> CallPredicate:
    """A DynamoDB call of ``operation`` (on an item whose sort key is ``sk``, when given)."""

    def matches(service: str, called: str, params: Params) -> bool:
        if service != "dynamodb" or called != operation:
            return False
        return sk is None or params.get("Key", {}).get("sk") == {"S": sk}

    return matches


def not_dynamodb(service: str, _operation: str, _params: Params) -> bool:
    """Any call to another service: once a handler makes one, its DynamoDB commit is behind it."""
    return service != "dynamodb"


@dataclass
class _Cue:
    thread: str
    matches: CallPredicate
    nth: int
    action: Callable[[], None]
    seen: int = 0


@dataclass
class Interleaving(Faults):
    """Actions run on a named thread at its n-th matching call (``cloud.faults``), or in its transaction's
    window (``engine.on_prepared``). An action typically signals one event and waits for another."""

    cues: list[_Cue] = field(default_factory=list)
    windows: dict[str, list[Callable[[], None]]] = field(default_factory=dict)
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (thread, service, operation)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, thread: str, matches: CallPredicate, action: Callable[[], None], *, nth: int = 1) -> None:
        """Before ``thread``'s ``nth`` call that ``matches``, run ``action`` on it."""
        self.cues.append(_Cue(thread, matches, nth, action))

    def in_window(self, thread: str, *actions: Callable[[], None]) -> None:
        """Inside ``thread``'s first, second, ... TransactWriteItems windows, run these actions in turn."""
        self.windows[thread] = list(actions)

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        thread = threading.current_thread().name
        due: list[_Cue] = []
        with self._lock:
            self.calls[(thread, service, operation)] += 1
            for cue in self.cues:
                if cue.thread == thread and cue.matches(service, operation, params):
                    cue.seen += 1
                    if cue.seen == cue.nth:
                        due.append(cue)
        for cue in due:
            cue.action()

    def on_prepared(self, _items: list[tuple[str, dict[str, Any]]]) -> None:
        actions = self.windows.get(threading.current_thread().name)
        if actions:
            actions.pop(0)()


def signal_then_wait(signal: threading.Event, wait_for: threading.Event) -> Callable[[], None]:
    def action() -> None:
        signal.set()
        if not wait_for.wait(WAIT):
            raise TimeoutError("the other thread never got there")

    return action


def wait(wait_for: threading.Event | threading.Barrier) -> Callable[[], None]:
    def action() -> None:
        if isinstance(wait_for, threading.Barrier):
            wait_for.wait(WAIT)
        elif not wait_for.wait(WAIT):
            raise TimeoutError("the other thread never got there")

    return action


class Invocation(threading.Thread):
    """One invocation of a held queue's function with ``records``, on a thread named ``name``."""

    def __init__(self, queue: HeldQueue, name: str, records: list[dict[str, Any]]) -> None:
        super().__init__(name=name)
        self.queue, self.records = queue, records
        self.done = threading.Event()
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.queue.deliver(self.records)
        except BaseException as error:
            self.error = error
        finally:
            self.done.set()

    def failed_records(self) -> list[str]:
        assert self.error is None, self.error
        assert self.result is not None
        return [f["itemIdentifier"] for f in self.result.get("batchItemFailures") or []]


def run_together(*invocations: Invocation) -> None:
    for invocation in invocations:
        invocation.start()
    for invocation in invocations:
        invocation.join(WAIT * 2)
        assert not invocation.is_alive(), f"{invocation.name} hung"
        assert invocation.error is None, f"{invocation.name}: {invocation.error!r}"


# --- the event-sourced store --------------------------------------------------------------------------
def workflow_items(cloud: LocalCloud, workflow_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the projection, the history items in sequence order) of one workflow."""
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(cloud.outputs["WorkflowsTableName"])
    items = table.query(KeyConditionExpression=Key("pk").eq(f"WF#{workflow_id}"), ConsistentRead=True)[
        "Items"
    ]
    state = next(i for i in items if i["sk"] == "STATE")
    history = sorted((i for i in items if str(i["sk"]).startswith("EVT#")), key=lambda i: int(i["seq"]))
    return state, history


def history_problems(cloud: LocalCloud, workflow_id: str, handled: list[str]) -> list[str]:
    """What is wrong with a workflow's store after the controller handled the events ``handled`` (ids).

    Complete: one history item per handled event. Ordered: sequence numbers 1..n, each once, each
    record's status before the one the previous record left. Reflected: the projection's version is
    the last sequence number, and the projection's status and step statuses are what the history's
    changes, folded in sequence order, leave; so an update made from a stale read and written over
    another shows up here.
    """
    state, history = workflow_items(cloud, workflow_id)
    records = [json.loads(item["record"]) for item in history]
    problems: list[str] = []
    recorded = Counter(record["eventId"] for record in records)
    problems += [f"{e} has no history item" for e in handled if e not in recorded]
    problems += [f"{e} has {n} history items" for e, n in recorded.items() if n > 1]
    seqs = [int(item["seq"]) for item in history]
    if seqs != list(range(1, len(history) + 1)):
        problems.append(f"sequence numbers are {seqs}, not 1..{len(history)}")
    if int(state["version"]) != len(history):
        problems.append(f"the projection is version {state['version']} after {len(history)} events")
    status: str | None = None
    steps: dict[str, str] = {}
    for record in records:
        if record["statusBefore"] != status:
            problems.append(f"{record['eventId']} was decided on {record['statusBefore']}, not {status}")
        status = record["statusAfter"]
        for step, change in record["stepChanges"].items():
            before, after = change.split("->")
            if steps.get(step, "NONE") != before:
                problems.append(
                    f"{record['eventId']} moved {step} from {before}, not {steps.get(step, 'NONE')}"
                )
            steps[step] = after
    document = json.loads(state["document"])
    if document["status"] != status:
        problems.append(f"the projection is {document['status']}; the history leaves it {status}")
    projected = {name: step["status"] for name, step in document["steps"].items()}
    if projected != steps:
        problems.append(f"the projection's steps are {projected}; the history leaves {steps}")
    return problems
