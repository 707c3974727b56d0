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

    As moto's receive (and SQS): a message whose receive count reached the redrive policy's
    ``maxReceiveCount`` moves to the dead-letter queue instead; a FIFO group with a message in flight
    delivers nothing more until that message is done. The returned messages are moto's own objects.
    """
    queue: Any = backend.get_queue(queue_name)
    visibility_ms = int(queue.visibility_timeout or 0) * 1000
    retention_ms = int(queue.message_retention_period) * 1000
    dead_letter_queue = queue.dead_letter_queue
    max_receives = queue.redrive_policy["maxReceiveCount"] if dead_letter_queue is not None else None
    pending_groups = queue.pending_message_groups if queue.fifo_queue else set()
    received: list[Message] = []
    to_dead_letters: list[Message] = []
    for message in queue._messages:
        if not (now_ms > message.visible_at and now_ms >= message.delayed_until):
            continue  # in flight or delayed
        queue.pending_messages.discard(message)  # in flight before, its visibility timed out
        if queue.fifo_queue and message.group_id in pending_groups:
            continue
        if max_receives is not None and message.approximate_receive_count >= int(max_receives):
            to_dead_letters.append(message)
            continue
        if message.sent_timestamp + retention_ms < now_ms:
            continue  # past the retention period: SQS deletes it, it is never received
        queue.pending_messages.add(message)
        _mark_received(message, now_ms=now_ms, visibility_ms=visibility_ms)
        if queue.fifo_queue and message.group_id is not None:
            pending_groups.add(message.group_id)
        received.append(message)
        if len(received) >= count:
            break
    for message in to_dead_letters:
        queue._messages.remove(message)
        dead_letter_queue.add_message(message)
    return received


def delete_message(backend: SQSBackend, queue_name: str, message: Message) -> None:
    """Delete a message this poller received (by identity: the poller holds moto's own object)."""
    queue: Any = backend.get_queue(queue_name)
    queue._messages.remove(message)
    queue.pending_messages.discard(message)
    queue.deleted_messages.update(message.all_receipt_handles)


def _mark_received(message: Message, *, now_ms: float, visibility_ms: int) -> None:
    if not message.approximate_first_receive_timestamp:
        message.approximate_first_receive_timestamp = int(now_ms)
    message.approximate_receive_count += 1
    if visibility_ms:
        message.visible_at = now_ms + visibility_ms
    message._old_receipt_handles.append(message.receipt_handle)  # type: ignore[arg-type]
    # Opaque, unique, drawn from moto's seeded random (as its own handles are): one draw, not 185.
    message.receipt_handle = f"{mock_random.getrandbits(256):064x}"
