"""The ledger keeps its latest events as objects and older ones packed on disk (workflowkit.ledger
HOT_EVENTS): what a reader sees, and what the ledger's own methods change, is the same either way."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from workflowkit import ledger as ledger_module
from workflowkit.ledger import Ledger, LedgerEvent, Outcome

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def a_ledger(events: int) -> Ledger:
    ledger = Ledger()
    for n in range(events):
        entry = {"Source": "app.sequence", "DetailType": f"Step{n % 3}"}
        detail = {"metadata": {"eventId": f"e-{n}", "correlationId": f"w-{n % 2}"}}
        ledger.published(
            eventbridge_id=f"eb-{n}", bus="bus", entry=entry, detail=detail, at=AT + timedelta(n)
        )
        ledger.matched(f"eb-{n}", "rule-a", "queue:consumer")
    return ledger


def as_rows(ledger: Ledger) -> list[tuple[object, ...]]:
    return [
        (
            e.eventbridge_id,
            e.bus,
            e.source,
            e.detail_type,
            e.event_id,
            e.correlation_id,
            e.published_at,
            tuple(e.rules),
            tuple(
                (t, d.attempts, d.outcome, d.detail, d.dead_letter_queue, d.last_error)
                for t, d in e.deliveries.items()
            ),
        )
        for e in ledger.events.values()
    ]


def change(ledger: Ledger) -> None:
    ledger.attempt("eb-0", "queue:consumer", AT, ok=False, detail="boom")
    ledger.dead_lettered("eb-0", "queue:consumer", AT, dlq="dlq", reason="boom")
    ledger.matched("eb-1", "rule-b", "lambda:other")
    ledger.processed("eb-1", "queue:consumer", AT)
    ledger.attempt("direct-1", "queue:plain", AT, ok=True)


def test_packed_events_read_and_change_as_events_kept_as_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the same events in a ledger that keeps them all as objects and in one that packs all but two
    kept = a_ledger(6)
    change(kept)
    monkeypatch.setattr(ledger_module, "HOT_EVENTS", 2)
    packed = a_ledger(6)
    # THEN the older ones are on disk (an int in memory saying where)
    assert sum(type(dict.get(packed.events, f"eb-{n}")) is int for n in range(6)) == 4
    # WHEN the ledger's methods change packed events (and one that never came through a bus)
    change(packed)
    # THEN every reader sees what it sees of the ledger that packed nothing, in the same sequence
    assert as_rows(packed) == as_rows(kept)
    assert list(packed.events) == list(kept.events)
    assert [e.eventbridge_id for e in packed.unaccounted()] == [e.eventbridge_id for e in kept.unaccounted()]
    assert [(e.eventbridge_id, d.target) for e, d in packed.dead_letters()] == [("eb-0", "queue:consumer")]
    assert {k: [e.event_id for e in v] for k, v in packed.by_correlation().items()} == {
        k: [e.event_id for e in v] for k, v in kept.by_correlation().items()
    }
    assert packed.trace_sha256 == kept.trace_sha256
    # AND a copy of the mapping holds events, not where they lie
    assert all(isinstance(event, LedgerEvent) for event in dict(packed.events).values())
    assert packed.events["eb-1"].deliveries["queue:consumer"].outcome is Outcome.PROCESSED
    assert packed.events.get("missing") is None


def test_packed_events_compare_and_group_by_what_they_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the same events kept as objects and mostly packed
    kept = a_ledger(6)
    monkeypatch.setattr(ledger_module, "HOT_EVENTS", 2)
    packed = a_ledger(6)
    # THEN the mappings are equal, and equal a plain copy
    assert packed.events == kept.events
    assert packed.events == dict(packed.events)
    # AND one workflow's events are found without reading back the others
    reads: list[int] = []
    blobs = packed.events._blobs
    assert blobs is not None
    original_read = blobs.read
    monkeypatch.setattr(blobs, "read", lambda handle: reads.append(handle) or original_read(handle))
    assert [e.event_id for e in packed.for_correlation("w-0")] == ["e-0", "e-2", "e-4"]
    assert packed.by_correlation([]) == {}
    assert len(reads) == 2  # e-0 and e-2 are on disk; e-4 is one of the latest two
    # AND the mapping pickles as the events it holds
    assert pickle.loads(pickle.dumps(packed.events)) == kept.events


def test_the_events_are_changed_only_through_the_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a ledger with events packed
    monkeypatch.setattr(ledger_module, "HOT_EVENTS", 2)
    packed = a_ledger(4)
    # THEN nothing removes an event, and an event set again under its id moves to its new workflow
    for remove in (lambda: packed.events.pop("eb-0"), packed.events.clear, packed.events.popitem):
        with pytest.raises(TypeError):
            remove()
    with pytest.raises(TypeError):
        del packed.events["eb-0"]
    moved = packed.events["eb-0"]
    moved.correlation_id = "w-9"
    packed.events["eb-0"] = moved
    assert [e.eventbridge_id for e in packed.for_correlation("w-0")] == ["eb-2"]
    assert [e.eventbridge_id for e in packed.for_correlation("w-9")] == ["eb-0"]
