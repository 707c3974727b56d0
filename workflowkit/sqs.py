"""SQS on the local cloud: sending through moto's backend, and Lambda event-source mappings.

A mapping polls its queue on the event loop: it receives up to ``BatchSize`` messages (hidden for the
queue's visibility timeout on virtual time; one whose receive count reached ``maxReceiveCount`` moves
to the dead-letter queue instead: :mod:`workflowkit.queues`), invokes the function with an SQS batch,
deletes what succeeded, and leaves the batch item failures to reappear when their visibility timeout
ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moto.core.utils import unix_time
from moto.sqs.models import SQSBackend

from workflowkit import queues
from workflowkit.build import EventSourceMapping
from workflowkit.context import Functions, ServiceContext
from workflowkit.lambdas import HandlerError

# A message the function answered for but listed in its ``batchItemFailures`` response.
BATCH_ITEM_FAILURE = "reported as a batch item failure"


@dataclass
class _Poller:
    mapping: EventSourceMapping
    queue_name: str
    scheduled_at: datetime | None = None


def _retention_check(backend: SQSBackend, queue_name: str, message: Any) -> bool:
    """moto's check, without computing every attribute of the queue (which counts all its messages).

    Called once per received message; moto's version builds the whole attribute map each time, which
    made a receive cost O(queue depth) per message.
    """
    queue: Any = backend.get_queue(queue_name)  # moto sets the attribute from the queue's attributes
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return bool(retain_until > unix_time())


class SqsService:
    """``functions`` runs the mappings' functions; ``queue_changed`` is told each time a queue's depth
    may have changed (the alarms on it)."""

    def __init__(
        self,
        context: ServiceContext,
        *,
        functions: Functions,
        queue_changed: Callable[[str], None],
    ) -> None:
        self._context = context
        self._functions = functions
        self._queue_changed = queue_changed
        self._pollers: dict[str, _Poller] = {}
        self._original_retention: Any = None

    def install(self, mappings: list[EventSourceMapping]) -> None:
        """Start the app's event-source mappings (once its queues exist)."""
        for mapping in mappings:
            if mapping.enabled:
                name = mapping.queue_arn.split(":")[-1]
                self._pollers[name] = _Poller(mapping, name)
        self._original_retention = SQSBackend.__dict__["is_message_valid_based_on_retention_period"]
        setattr(SQSBackend, "is_message_valid_based_on_retention_period", _retention_check)  # noqa: B010

    def update(self, mappings: list[EventSourceMapping]) -> None:
        """Take a stack update's mappings: a removed or disabled one stops polling (its queue keeps its
        messages), a new one starts on what its queue already holds, a changed one polls with its new
        settings from its next poll on."""
        wanted = {m.queue_arn.split(":")[-1]: m for m in mappings if m.enabled}
        for name in [name for name in self._pollers if name not in wanted]:
            self._pollers.pop(name).scheduled_at = None  # a poll already due finds itself superseded
        for name, mapping in wanted.items():
            poller = self._pollers.get(name)
            if poller is None:
                poller = self._pollers[name] = _Poller(mapping, name)
                self._reschedule(poller)
            else:
                poller.mapping = mapping

    def uninstall(self) -> None:
        if self._original_retention is not None:
            setattr(SQSBackend, "is_message_valid_based_on_retention_period", self._original_retention)  # noqa: B010
            self._original_retention = None

    @property
    def backend(self) -> Any:
        return self._context.backends("sqs")

    def has_consumer(self, queue_arn: str) -> bool:
        return queue_arn.rsplit(":", maxsplit=1)[-1] in self._pollers

    # --- sending ------------------------------------------------------------------------------------
    def send(
        self,
        queue_arn_or_name: str,
        body: str,
        *,
        group_id: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        name = queue_arn_or_name.rsplit(":", maxsplit=1)[-1].rsplit("/", maxsplit=1)[-1]
        message_attributes = {
            key: {"DataType": "String", "StringValue": value} for key, value in (attributes or {}).items()
        }
        dedup = hashlib.sha256(body.encode()).hexdigest() if name.endswith(".fifo") else None
        queues.send_message(
            self.backend,
            name,
            body,
            now_ms=self._now_ms(),
            message_attributes=message_attributes or None,
            group_id=group_id,
            deduplication_id=dedup,
        )
        self._wake(name)
        self._queue_changed(name)

    # --- polling ------------------------------------------------------------------------------------
    def _wake(self, queue_name: str, at: datetime | None = None) -> None:
        poller = self._pollers.get(queue_name)
        if poller is None:
            return
        context = self._context
        due = (
            at
            or context.clock.now()
            + timedelta(seconds=poller.mapping.batching_window_seconds)
            + context.network_latency()
        )
        if poller.scheduled_at is not None and poller.scheduled_at <= due:
            return
        poller.scheduled_at = due
        context.loop.call_at(due, f"poll {queue_name}", lambda: self._poll(poller, due))

    def _poll(self, poller: _Poller, due: datetime) -> None:
        if poller.scheduled_at != due:
            return  # superseded by an earlier poll
        poller.scheduled_at = None
        if not self._may_poll(poller):
            return  # Lambda cannot read the queue: the messages wait there, as in AWS
        queue = self.backend.get_queue(poller.queue_name)
        dlq = queue.dead_letter_queue
        dlq_before = {m.id for m in dlq._messages} if dlq is not None else set()
        messages = queues.receive_messages(
            self.backend, poller.queue_name, count=poller.mapping.batch_size, now_ms=self._now_ms()
        )
        if dlq is not None:
            self._record_dead_letters(poller.queue_name, dlq, dlq_before)
        if messages:
            self._process(poller, queue, messages)
        self._reschedule(poller)

    def _may_poll(self, poller: _Poller) -> bool:
        """The event source mapping reads and deletes with the function's role (and its key grants)."""
        access = self._context.access
        role = access.function_role(poller.mapping.function_name)
        if role is None:
            return True
        queue = {"QueueUrl": poller.mapping.queue_arn}
        hop = f"event source mapping {poller.queue_name} -> {poller.mapping.function_name}"
        return all(
            access.role_may(role, "sqs", operation, queue, hop=hop).allowed
            for operation in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        )

    def _process(self, poller: _Poller, queue: Any, messages: list[Any]) -> None:
        context = self._context
        backends = context.backends
        function = poller.mapping.function_name
        faults = context.faults()
        injected = faults.receive(poller.queue_name, function, messages)
        invoked = [m for m in messages if m.id not in injected.lost and m.id not in injected.ignored]
        failed: set[str] = set()
        # Why a message failed: the handler's error, or (the function answered) that it named the message
        # in ``batchItemFailures``. Dead-letter causes repeat it (simulator.invariants.nothing_lost).
        outcome = BATCH_ITEM_FAILURE
        if invoked:
            batch = {"Records": [_record(m, queue, backends.account, backends.region) for m in invoked]}
            try:
                result = self._functions.invoke(function, batch)
            except HandlerError as error:
                failed = {m.id for m in invoked}
                outcome = f"{error.error_type}: {error.message}"
            else:
                if poller.mapping.report_batch_item_failures and isinstance(result, dict):
                    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures") or []}
        now = context.clock.now()
        label = f"queue:{poller.queue_name}"
        for message in messages:
            eventbridge_id = _eventbridge_id(message)
            if message.id in injected.lost:
                # Never handed to the function: back after its visibility timeout, one receive used up.
                context.ledger.attempt(eventbridge_id, label, now, ok=False, detail="receive lost")
                continue
            ok = message.id not in failed
            context.ledger.attempt(eventbridge_id, label, now, ok=ok, detail="" if ok else outcome)
            if ok:
                if not faults.delete_lost(poller.queue_name, message):
                    queues.delete_message(self.backend, poller.queue_name, message)
                context.ledger.processed(eventbridge_id, label, now)

    def _record_dead_letters(self, queue_name: str, dlq: Any, before: set[str]) -> None:
        context = self._context
        now = context.clock.now()
        for message in dlq._messages:
            if message.id not in before:
                context.ledger.dead_lettered(
                    _eventbridge_id(message),
                    f"queue:{queue_name}",
                    now,
                    dlq=dlq.name,
                    reason=f"receive count reached maxReceiveCount on {queue_name}",
                )
                self._wake(dlq.name)
                self._queue_changed(dlq.name)

    def _reschedule(self, poller: _Poller) -> None:
        """Poll again now if a receive would return messages, else when the first one could."""
        now = self._context.clock.now()
        next_ms = queues.next_delivery_ms(self.backend, poller.queue_name, now_ms=now.timestamp() * 1000)
        if next_ms is None:
            return
        due = datetime.fromtimestamp(next_ms / 1000, tz=now.tzinfo)
        self._wake(poller.queue_name, at=max(due, now))

    def _now_ms(self) -> float:
        # moto keeps message moments in epoch milliseconds read from the (virtual) clock.
        return self._context.clock.now().timestamp() * 1000

    def in_flight(self) -> int:
        total = 0
        for name in self._pollers:
            queue = self.backend.get_queue(name)
            total += len(queue._messages)
        return total


def _eventbridge_id(message: Any) -> str:
    try:
        body = json.loads(message.body)
    except ValueError:
        return str(message.id)
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        return str(body["id"])
    return str(message.id)


def _record(message: Any, queue: Any, account: str, region: str) -> dict[str, Any]:
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(int(message.sent_timestamp)) if message.sent_timestamp else "0",
        "SenderId": account,
        "ApproximateFirstReceiveTimestamp": str(int(message.approximate_first_receive_timestamp or 0)),
    }
    message_attributes = {
        key: {
            "stringValue": value.get("string_value") or value.get("StringValue"),
            "dataType": value.get("data_type") or value.get("DataType", "String"),
        }
        for key, value in (message.message_attributes or {}).items()
    }
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.queue_arn,
        "awsRegion": region,
    }
