"""Packed status documents read as the documents they were, one at a time."""

from __future__ import annotations

import pickle

import pytest

from workflowkit.simulator.invariants import PackedStatuses, Status, in_sequence


def documents() -> dict[str, Status]:
    return {
        f"wf-{n}": {
            "status": "COMPLETED" if n % 2 else "FAILED",
            "createdAt": "2026-01-05T09:00:00Z",
            "steps": {"payment": {"status": "COMPLETED", "attempt": 1, "output": None}},
            "compensatedSteps": [],
            "timeline": [{"eventId": f"e-{n}", "amount": 12.5, "ok": True}],
        }
        for n in (3, 1, 2)
    }


def test_packed_statuses_read_back_every_document_as_kept() -> None:
    # GIVEN documents packed
    plain = documents()
    packed = PackedStatuses(plain.items())
    # THEN they are on disk (in memory, an int a document saying where)
    assert all(type(where) is int for where in dict.values(packed))
    # AND every way of reading gives the documents back, keys in the same sequence
    assert len(packed) == 3
    assert "wf-1" in packed
    assert list(packed) == list(plain)
    assert packed["wf-2"] == plain["wf-2"]
    assert packed.get("wf-3") == plain["wf-3"]
    assert packed.get("wf-9", {}) == {}
    assert dict(packed.items()) == plain
    assert list(packed.values()) == list(plain.values())
    assert dict(packed) == plain
    assert {**packed} == plain
    assert list(in_sequence(packed)) == sorted(plain.items())


def test_a_document_changed_after_reading_is_not_changed_in_the_packed_statuses() -> None:
    packed = PackedStatuses(documents().items())
    packed["wf-1"]["status"] = "FAILED"
    assert packed["wf-1"]["status"] == "COMPLETED"


def test_packed_statuses_travel_between_processes_packed() -> None:
    packed = PackedStatuses(documents().items())
    again = pickle.loads(pickle.dumps(packed))
    assert isinstance(again, PackedStatuses)
    assert dict(again) == documents()


def test_packed_statuses_equal_what_they_hold_not_where_it_lies() -> None:
    # GIVEN two documents of the same packed length, packed in different sequences
    same_length = {"wf-1": {"status": "COMPLETED"}, "wf-2": {"status": "CANCELLED"}}
    swapped = {"wf-1": {"status": "CANCELLED"}, "wf-2": {"status": "COMPLETED"}}
    one = PackedStatuses(same_length.items())
    # THEN equality compares the documents
    assert one == PackedStatuses(reversed(list(same_length.items())))
    assert one == same_length
    assert one != PackedStatuses(swapped.items())
    assert one != swapped
    # AND pop, popitem and update deal in documents, not where they lie
    assert one.pop("wf-1") == {"status": "COMPLETED"}
    assert one.pop("wf-9", None) is None
    one.update({"wf-3": {"status": "FAILED"}})
    one |= {"wf-4": {"status": "FAILED"}}
    assert one.popitem() == ("wf-4", {"status": "FAILED"})
    assert dict(one) == {"wf-2": {"status": "CANCELLED"}, "wf-3": {"status": "FAILED"}}
    # AND setdefault, whose result callers change in place, is refused: a document read is a copy
    with pytest.raises(TypeError):
        one.setdefault("wf-2", {})
