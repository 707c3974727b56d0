"""moto's SQS queue operations for the event-source mappings, without O(queue depth) work per message.

moto's ``send_message`` builds every queue attribute (counting the queue's messages, each count a clock
reading through freezegun) to read one flag; its ``receive_message`` reads the clock twice per queued
message, deep-copies each message it returns, and draws a 185-character receipt handle one random
character at a time; its ``delete_message`` scans the queue twice. With a few hundred messages in
flight that was a third of a simulation's wall time. These functions do the same things to moto's own
``Queue`` and ``Message`` objects (so ``GetQueueAttributes``, ``ReceiveMessage`` and the rest still see
one consistent queue), with one reading of the virtual clock per call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from moto.moto_api._internal import mock_random
from moto.sqs.exceptions import InvalidParameterValue
from moto.sqs.models import MAXIMUM_MESSAGE_DELAY, Message, SQSBackend


def send_message(
    backend: SQSBackend,
    queue_name: str,
    body: str,
    *,
    now_ms: float,
    message_attributes: dict[str, Any] | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
) -> Message:
    queue: Any = backend.get_queue(queue_name)
    backend._validate_message(
        queue,
        message_body=body,
        delay_seconds=0,
        deduplication_id=deduplication_id,
        group_id=group_id,
        validate_group_id=True,
    )
    delay_seconds = int(queue.delay_seconds or 0)
    if delay_seconds > MAXIMUM_MESSAGE_DELAY:
        raise InvalidParameterValue(f"Value {delay_seconds} for parameter DelaySeconds is invalid.")
    message = Message(str(mock_random.uuid4()), body, None)
    if queue.fifo_queue and getattr(queue, "content_based_deduplication", False):
        message.deduplication_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if deduplication_id is not None:
        message.deduplication_id = deduplication_id
        message.sequence_number = f"{mock_random.getrandbits(64):020d}"[-20:]
    if group_id is not None:
        message.group_id = group_id
    if message_attributes:
        message.message_attributes = message_attributes
    message.sent_timestamp = int(now_ms)  # type: ignore[assignment]  # moto declares it None
    if delay_seconds:
        message.delayed_until = now_ms + delay_seconds * 1000
    queue.add_message(message)
    return message


def receive_messages(backend: SQSBackend, queue_name: str, *, count: int, now_ms: float) -> list[Message]:
    """Up to ``count`` visible messages, made invisible for the queue's visibility timeout.

    As SQS: a message past the queue's retention period is deleted; a message whose receive count
    reached the redrive policy's ``maxReceiveCount`` moves to the dead-letter queue instead of being
    received; a FIFO group with a message in flight delivers nothing until that message is done (a
    batch may hold several messages of one group, in sequence). The returned messages are moto's own.
    """
    queue: Any = backend.get_queue(queue_name)
    _drop_expired(queue, now_ms)
    visibility_ms = int(queue.visibility_timeout or 0) * 1000
    dead_letter_queue = queue.dead_letter_queue
    max_receives = queue.redrive_policy["maxReceiveCount"] if dead_letter_queue is not None else None
    blocked_groups = _groups_in_flight(queue, now_ms)
    received: list[Message] = []
    to_dead_letters: list[Message] = []
    for message in queue._messages:
        if not _ready(message, now_ms):
            continue  # in flight or delayed
        queue.pending_messages.discard(message)  # in flight before, its visibility timed out
        if message.group_id in blocked_groups:
            continue
        if max_receives is not None and message.approximate_receive_count >= int(max_receives):
            to_dead_letters.append(message)
            continue
        queue.pending_messages.add(message)
        _mark_received(message, now_ms=now_ms, visibility_ms=visibility_ms)
        received.append(message)
        if len(received) >= count:
            break
    for message in to_dead_letters:
        queue._messages.remove(message)
        dead_letter_queue.add_message(message)
    return received


def next_delivery_ms(backend: SQSBackend, queue_name: str, *, now_ms: float) -> float | None:
    """When a receive could next return a message: ``now_ms``, a later moment, or None (empty queue).

    A message of a FIFO group that has one in flight waits for that one: for its deletion (after
    which the poller looks again) or its visibility timeout (counted among the in-flight moments).
    """
    queue: Any = backend.get_queue(queue_name)
    _drop_expired(queue, now_ms)
    blocked_groups = _groups_in_flight(queue, now_ms)
    earliest: float | None = None
    for message in queue._messages:
        if _ready(message, now_ms):
            if message.group_id not in blocked_groups:
                return now_ms
            continue
        # A moment _ready certainly holds (strictly after visible_at; 1 ms spares float rounding).
        ready_at = max(message.visible_at, message.delayed_until) + 1
        earliest = ready_at if earliest is None else min(earliest, ready_at)
    return earliest


def delete_message(backend: SQSBackend, queue_name: str, message: Message) -> None:
    """Delete a message this poller received (by identity: the poller holds moto's own object).

    Gone already (the handler deleted it itself with its receipt handle, or purged the queue): fine,
    as SQS's DeleteMessage is for a handle already used.
    """
    queue: Any = backend.get_queue(queue_name)
    if message in queue._messages:
        queue._messages.remove(message)
    queue.pending_messages.discard(message)
    if type(queue.deleted_messages) is not ReceiptHandleDigests:
        queue.deleted_messages = ReceiptHandleDigests(queue.deleted_messages)
    queue.deleted_messages.update(message.all_receipt_handles)


class ReceiptHandleDigests(set[bytes]):
    """moto's record of the receipt handles of a queue's deleted messages (a DeleteMessage with one of
    them succeeds again, as SQS's does), kept as 16-byte digests: a handle is ~185 characters, and a
    long run deletes millions of messages. moto's own DeleteMessage reads and adds to it the same."""

    def __init__(self, handles: Iterable[str | None] = ()) -> None:
        super().__init__(_digest(handle) for handle in handles if handle is not None)

    def add(self, handle: str) -> None:  # type: ignore[override]
        super().add(_digest(handle))

    def update(self, *handles: Iterable[str | None]) -> None:  # type: ignore[override]
        for some in handles:  # a message never received has no handle (None): nothing to record
            super().update(_digest(handle) for handle in some if handle is not None)

    def __contains__(self, handle: object) -> bool:
        return isinstance(handle, str) and super().__contains__(_digest(handle))


def _digest(handle: str) -> bytes:
    return hashlib.blake2b(handle.encode(), digest_size=16).digest()


def _ready(message: Message, now_ms: float) -> bool:
    return now_ms > message.visible_at and now_ms >= message.delayed_until


def _groups_in_flight(queue: Any, now_ms: float) -> set[str | None]:
    """FIFO groups with a message received and still invisible (none for a standard queue)."""
    if not queue.fifo_queue:
        return set()
    return {m.group_id for m in queue.pending_messages if m.group_id is not None and not _ready(m, now_ms)}


def _drop_expired(queue: Any, now_ms: float) -> None:
    # moto's rule: kept while sent + retention > now.
    retention_ms = int(queue.message_retention_period) * 1000
    expired = [m for m in queue._messages if m.sent_timestamp + retention_ms <= now_ms]
    if expired:
        queue._messages = [m for m in queue._messages if m.sent_timestamp + retention_ms > now_ms]
        queue.pending_messages.difference_update(expired)


def _mark_received(message: Message, *, now_ms: float, visibility_ms: int) -> None:
    if not message.approximate_first_receive_timestamp:
        message.approximate_first_receive_timestamp = int(now_ms)
    message.approximate_receive_count += 1
    if visibility_ms:
        message.visible_at = now_ms + visibility_ms
    message._old_receipt_handles.append(message.receipt_handle)  # type: ignore[arg-type]
    # Opaque, unique, drawn from moto's seeded random (as its own handles are): one draw, not 185.
    message.receipt_handle = f"{mock_random.getrandbits(256):064x}"
