"""The event-source mapping's queue operations behave as SQS: FIFO groups, retention, redrive, deletes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.backends import get_backend

from workflowkit import queues

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def backend() -> Iterator[Any]:
    with mock_aws():
        yield get_backend("sqs")[ACCOUNT][REGION]  # type: ignore[index]


def _queue(backend: Any, name: str, **attributes: str) -> Any:
    boto3.client("sqs", region_name=REGION).create_queue(QueueName=name, Attributes=attributes)
    return backend.get_queue(name)


def _send(backend: Any, name: str, body: str, now_ms: float, group: str | None = None) -> Any:
    dedup = body if name.endswith(".fifo") else None
    return queues.send_message(backend, name, body, now_ms=now_ms, group_id=group, deduplication_id=dedup)


def test_a_fifo_group_with_a_message_in_flight_waits_for_it(backend: Any) -> None:
    _queue(backend, "orders.fifo", FifoQueue="true", VisibilityTimeout="30")
    _send(backend, "orders.fifo", "m1", 1_000, group="g")
    _send(backend, "orders.fifo", "m2", 1_000, group="g")
    _send(backend, "orders.fifo", "m3", 1_000, group="other")

    first = queues.receive_messages(backend, "orders.fifo", count=1, now_ms=2_000)
    assert [m.body for m in first] == ["m1"]

    # m2 must wait for m1; m3 (another group) may go now.
    assert queues.next_delivery_ms(backend, "orders.fifo", now_ms=2_000) == 2_000
    second = queues.receive_messages(backend, "orders.fifo", count=10, now_ms=2_000)
    assert [m.body for m in second] == ["m3"]

    # Nothing deliverable now: the next chance is m1's visibility timing out, not "now" again.
    next_ms = queues.next_delivery_ms(backend, "orders.fifo", now_ms=2_000)
    assert next_ms is not None
    assert next_ms > 2_000 + 29_000
    assert queues.receive_messages(backend, "orders.fifo", count=10, now_ms=2_000) == []

    # m1 done: m2 goes.
    queues.delete_message(backend, "orders.fifo", first[0])
    assert queues.next_delivery_ms(backend, "orders.fifo", now_ms=2_001) == 2_001
    assert [m.body for m in queues.receive_messages(backend, "orders.fifo", count=10, now_ms=2_001)] == ["m2"]


def test_one_batch_may_carry_several_messages_of_a_group_in_order(backend: Any) -> None:
    _queue(backend, "orders.fifo", FifoQueue="true")
    for body in ("m1", "m2", "m3"):
        _send(backend, "orders.fifo", body, 1_000, group="g")
    batch = queues.receive_messages(backend, "orders.fifo", count=10, now_ms=2_000)
    assert [m.body for m in batch] == ["m1", "m2", "m3"]


def test_a_message_past_retention_is_deleted_not_retried(backend: Any) -> None:
    queue = _queue(backend, "q", MessageRetentionPeriod="60")
    _send(backend, "q", "old", 0)

    assert queues.next_delivery_ms(backend, "q", now_ms=60_000) is None
    assert queues.receive_messages(backend, "q", count=10, now_ms=60_000) == []
    assert queue._messages == []


def test_maxreceivecount_moves_the_message_to_the_dead_letter_queue(backend: Any) -> None:
    dlq = _queue(backend, "dlq")
    _queue(
        backend,
        "q",
        VisibilityTimeout="10",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 2}),
    )
    _send(backend, "q", "poison", 0)
    now = 1.0
    for _ in range(2):
        assert len(queues.receive_messages(backend, "q", count=1, now_ms=now)) == 1
        now += 10_001  # not deleted: visible again after the timeout
    assert queues.receive_messages(backend, "q", count=1, now_ms=now) == []
    assert [m.body for m in dlq._messages] == ["poison"]


def test_deleting_a_message_already_gone_is_harmless(backend: Any) -> None:
    queue = _queue(backend, "q")
    _send(backend, "q", "m", 0)
    (message,) = queues.receive_messages(backend, "q", count=1, now_ms=1)
    queues.delete_message(backend, "q", message)
    queues.delete_message(backend, "q", message)
    assert queue._messages == []


def test_a_deleted_messages_receipt_handle_is_remembered_as_a_digest_and_deletes_again(backend: Any) -> None:
    # GIVEN a message received and deleted by the poller
    queue = _queue(backend, "q")
    _send(backend, "q", "m", 0)
    (message,) = queues.receive_messages(backend, "q", count=1, now_ms=1)
    handle = message.receipt_handle
    queues.delete_message(backend, "q", message)
    # THEN its handle is kept as a 16-byte digest, not as its ~185 characters
    assert handle in queue.deleted_messages
    assert "another handle" not in queue.deleted_messages
    assert all(type(kept) is bytes and len(kept) == 16 for kept in queue.deleted_messages)
    # AND DeleteMessage with it succeeds again, as SQS's does for a handle already used
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.delete_message(QueueUrl=sqs.get_queue_url(QueueName="q")["QueueUrl"], ReceiptHandle=handle)
    # AND a handle never given out is still refused
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=sqs.get_queue_url(QueueName="q")["QueueUrl"], ReceiptHandle="x" * 185)
