"""What the local cloud keeps for long is kept compactly, and reads back exactly as kept.

A run of 100,000 workflows holds every execution history and every archived event it made (Step
Functions keeps a history 90 days, an archive its events for its retention): a finished execution's
history is packed, an archive's events are spooled to disk. Neither may change what a reader sees.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from workflowkit.asl.history import EXECUTION_STARTED, EXECUTION_SUCCEEDED, History, Text
from workflowkit.execution_history import page
from workflowkit.spool import Blobs, Spool

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def a_history() -> History:
    history = History()
    history.add(EXECUTION_STARTED, 0, AT, (Text('{"a": 1}'), "arn:aws:iam::123456789012:role/r"))
    history.add("PassStateEntered", 1, AT, ("Pass", {"a": 1, "amount": Decimal("2.50"), "items": [1, 2]}))
    history.add("PassStateExited", 2, AT, ("Pass", {"a": 1}))
    history.add(EXECUTION_SUCCEEDED, 3, AT, ({"a": 1},))
    return history


def test_a_packed_history_renders_exactly_as_before_and_keeps_its_length() -> None:
    # GIVEN an ended execution's history, rendered before it is packed
    history = a_history()
    before = list(history.rendered())
    # WHEN it is packed
    history.pack()
    # THEN it reads the same, with or without execution data, as often as asked
    assert list(history.rendered()) == before
    assert list(history.rendered()) == before
    assert list(history.rendered(include_data=False)) == a_history_without_data()
    assert len(history) == 4


def a_history_without_data() -> list[dict[str, object]]:
    return list(a_history().rendered(include_data=False))


def test_a_packed_history_unpacks_for_good_when_its_events_are_used() -> None:
    # GIVEN a packed history
    history = a_history()
    history.pack()
    # WHEN something appends to it (its events list)
    history.add("ExecutionRedriven", 4, AT)
    # THEN nothing kept is lost and the new event follows
    assert [event["type"] for event in history.rendered()][-2:] == [EXECUTION_SUCCEEDED, "ExecutionRedriven"]
    assert len(history) == 5


def test_a_history_holding_what_cannot_be_pickled_stays_as_it_is() -> None:
    history = History()
    history.add("PassStateEntered", 0, AT, ("Pass", lambda: None))
    history.pack()
    assert len(history.events) == 1


def test_a_spool_gives_back_every_record_in_sequence() -> None:
    # GIVEN records appended to a spool, one of them before it was made
    spool = Spool([{"id": "0"}])
    for n in range(1, 500):
        spool.append({"id": str(n), "detail": {"n": n, "at": AT}})
    # THEN it counts, iterates and indexes them as a list would
    assert len(spool) == 500
    assert spool
    records = list(spool)
    assert [r["id"] for r in records] == [str(n) for n in range(500)]
    assert records[7]["detail"] == {"n": 7, "at": AT}
    assert spool[-1]["id"] == "499"
    assert spool[0] == {"id": "0"}
    with pytest.raises(IndexError):
        spool[500]
    assert not Spool()


def test_a_spool_appended_to_from_several_threads_keeps_every_record_whole() -> None:
    # GIVEN one spool that threads append to at once, switching as often as the interpreter allows
    # (a list's append is one step; a record's length and bytes are two writes at a seek)
    spool = Spool()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def append(tag: str) -> None:
        for n in range(1500):
            spool.append({"tag": tag, "n": n, "pad": "x" * (n % 40)})

    try:
        threads = [threading.Thread(target=append, args=(tag,)) for tag in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    # THEN every record reads back whole, each thread's in the sequence it appended them
    records = list(spool)
    assert len(records) == 6000
    for tag in "abcd":
        assert [r["n"] for r in records if r["tag"] == tag] == list(range(1500))


def test_reading_a_packed_history_a_page_at_a_time_keeps_it_packed() -> None:
    # GIVEN an ended execution's history, packed, and its pages as read before packing
    arn = "arn:aws:states:us-east-1:123456789012:execution:m:e"
    forward = page(a_history(), arn, max_results=3, reverse=False, next_token=None, include_data=True)
    backward = page(a_history(), arn, max_results=2, reverse=True, next_token=None, include_data=False)
    history = a_history()
    history.pack()
    # WHEN GetExecutionHistory reads it, forwards and in reverse, page by page
    assert page(history, arn, max_results=3, reverse=False, next_token=None, include_data=True) == forward
    assert page(history, arn, max_results=2, reverse=True, next_token=None, include_data=False) == backward
    last = page(
        history, arn, max_results=3, reverse=False, next_token=forward["nextToken"], include_data=True
    )
    assert [event["id"] for event in last["events"]] == [4]
    # THEN it is still kept packed: a read is not an append (History.events unpacks for good)
    assert history.packed
    assert len(history) == 4


def test_blobs_give_back_each_byte_string_by_its_handle() -> None:
    # GIVEN byte strings of several sizes kept on disk, from several threads at once
    blobs = Blobs()
    written: dict[int, bytes] = {}
    lock = threading.Lock()

    def keep(n: int) -> None:
        for m in range(50):
            data = bytes([n]) * (m * 37 + n)
            handle = blobs.append(data)
            with lock:
                written[handle] = data

    threads = [threading.Thread(target=keep, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN each reads back whole by its handle, none overwritten by another
    assert len(written) == 200
    assert all(blobs.read(handle) == data for handle, data in written.items())
    assert blobs.size == sum(len(data) for data in written.values())


def test_a_history_packed_on_disk_renders_exactly_as_before_and_keeps_its_length() -> None:
    # GIVEN an ended execution's history, rendered before it is packed
    history = a_history()
    before = list(history.rendered())
    # WHEN it is packed on disk
    blobs = Blobs()
    history.pack(blobs)
    # THEN its events are not in memory, and it reads the same, as often as asked
    assert blobs.size > 0
    assert history.packed
    assert list(history.rendered()) == before
    assert list(history.rendered()) == before
    assert len(history) == 4
    # AND appending unpacks it for good, nothing lost
    history.add("ExecutionRedriven", 4, AT)
    assert [event["type"] for event in history.rendered()][-2:] == [EXECUTION_SUCCEEDED, "ExecutionRedriven"]
