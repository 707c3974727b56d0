"""The ledger: every event published on a bus, where it went, and how each delivery ended.

An event is *accounted for* when every target its rules matched ended in a final outcome: processed
(the consumer succeeded, the execution started, the message was accepted by a plain queue) or
dead-lettered. One that matched targets but has an open delivery at quiescence is *unaccounted*.
The entries, in sequence, are also the run's trace: their hash is the determinism check.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from sys import intern
from typing import Any

from workflowkit.spool import Blobs

# How many events, last published (or changed), the ledger keeps as objects; older ones are pickled to
# disk (workflowkit.spool.Blobs) and read back when asked for. A run of 100,000 workflows publishes a
# million events, each with its deliveries: as objects they were the largest part of what the run kept
# after its tables. Below this many events (a run of some thousands of workflows) nothing is packed.
HOT_EVENTS = 65_536


class Outcome(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    DEAD_LETTERED = "dead_lettered"
    DROPPED = "dropped"  # retries exhausted and no dead-letter queue: lost, as in EventBridge


# Slots, and the names events share (buses, sources, types, targets, rules) interned: the ledger keeps
# every event of the run, millions in a 100,000-workflow run.
@dataclass(slots=True)
class Delivery:
    target: str  # a readable target name: "queue:<name>", "statemachine:<name>", "lambda:<name>"
    attempts: int = 0
    outcome: Outcome = Outcome.PENDING
    detail: str = ""
    # Why it was dead-lettered: the queue it went to, and the last error a failed attempt reported.
    dead_letter_queue: str = ""
    last_error: str = ""


@dataclass(slots=True)
class LedgerEvent:
    eventbridge_id: str
    bus: str
    source: str
    detail_type: str
    event_id: str | None
    correlation_id: str | None
    published_at: datetime
    rules: list[str] = field(default_factory=list)
    deliveries: dict[str, Delivery] = field(default_factory=dict)

    @property
    def accounted(self) -> bool:
        return all(d.outcome in (Outcome.PROCESSED, Outcome.DEAD_LETTERED) for d in self.deliveries.values())


def _packed(event: LedgerEvent) -> bytes:
    deliveries = tuple(
        (d.target, d.attempts, d.outcome.value, d.detail, d.dead_letter_queue, d.last_error)
        for d in event.deliveries.values()
    )
    fields = (event.eventbridge_id, event.bus, event.source, event.detail_type, event.event_id)
    return pickle.dumps((*fields, event.correlation_id, event.published_at, event.rules, deliveries), -1)


def _unpacked(data: bytes) -> LedgerEvent:
    eventbridge_id, bus, source, detail_type, event_id, correlation_id, at, rules, deliveries = pickle.loads(
        data
    )
    return LedgerEvent(
        eventbridge_id=eventbridge_id,
        bus=intern(bus),
        source=intern(source),
        detail_type=intern(detail_type),
        event_id=event_id,
        correlation_id=correlation_id,
        published_at=at,
        rules=[intern(rule) for rule in rules],
        deliveries={
            intern(target): Delivery(intern(target), attempts, Outcome(outcome), detail, queue, error)
            for target, attempts, outcome, detail, queue, error in deliveries
        },
    )


# Values: an event, or the handle (int) of one packed on disk.
class LedgerEvents(dict[str, Any]):
    """The ledger's events by EventBridge id, in the sequence they were published: a dict to every reader.

    The latest :data:`HOT_EVENTS` are kept as objects, older ones packed on disk; a packed one is read
    back afresh on each read, a copy. So an event is changed only through :meth:`take`, which keeps it
    as an object again (the :class:`Ledger`'s own methods do). Reads go through ``[]``, ``get``,
    ``values``, ``items`` and iteration, which ``dict(...)`` uses too, since iteration is overridden.
    """

    def __init__(self) -> None:
        super().__init__()
        self._latest: deque[str] = deque()
        self._blobs: Blobs | None = None
        # correlation id -> its events' ids, in sequence: a few workflows' events are found without
        # reading back every event (a correlation id is set when an event is published, never changed)
        self._by_correlation: dict[str, list[str]] = {}

    def add(self, event: LedgerEvent) -> None:
        eventbridge_id = event.eventbridge_id
        if eventbridge_id in self:  # the same id again: the event it names now is this one
            replaced = self[eventbridge_id].correlation_id
            if replaced is not None:
                self._by_correlation[replaced].remove(eventbridge_id)
        super().__setitem__(eventbridge_id, event)
        if event.correlation_id is not None:
            self._by_correlation.setdefault(event.correlation_id, []).append(eventbridge_id)
        self._remember(eventbridge_id)

    def __setitem__(self, eventbridge_id: str, event: LedgerEvent) -> None:
        if event.eventbridge_id != eventbridge_id:
            raise KeyError(f"{eventbridge_id} is not the id of the event given for it")
        self.add(event)

    def of_correlation(self, correlation_id: str) -> list[LedgerEvent]:
        """The events of one correlation id, in sequence."""
        return [self[eventbridge_id] for eventbridge_id in self._by_correlation.get(correlation_id, ())]

    def __eq__(self, other: object) -> bool:
        """Equal to a mapping of the same ids to equal events (what they are, not where they lie)."""
        if not isinstance(other, dict) or len(other) != len(self):
            return False
        return all(key in other and other[key] == event for key, event in self.items())

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # a mutable mapping, as dict

    def pop(self, eventbridge_id: str, *default: Any) -> Any:
        raise TypeError("the ledger's events are never removed")

    def setdefault(self, eventbridge_id: str, default: Any = None) -> Any:
        raise TypeError("the ledger's events are added through Ledger")

    def __delitem__(self, eventbridge_id: str) -> None:
        raise TypeError("the ledger's events are never removed")

    def popitem(self) -> tuple[str, Any]:
        raise TypeError("the ledger's events are never removed")

    def clear(self) -> None:
        raise TypeError("the ledger's events are never removed")

    def update(self, *others: Any, **more: Any) -> None:
        raise TypeError("the ledger's events are added through Ledger")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_events_from, (list(self.values()),))

    def take(self, eventbridge_id: str) -> LedgerEvent | None:
        """The event, kept as an object from now on: the one to change."""
        stored = super().get(eventbridge_id)
        if type(stored) is not int:
            return stored
        event = self._read(stored)
        super().__setitem__(eventbridge_id, event)
        self._remember(eventbridge_id)
        return event

    def __getitem__(self, eventbridge_id: str) -> LedgerEvent:
        return self._read(super().__getitem__(eventbridge_id))

    def get(self, eventbridge_id: str, default: Any = None) -> Any:
        stored = super().get(eventbridge_id)
        return default if stored is None else self._read(stored)

    def __iter__(self) -> Iterator[str]:
        return iter(list(super().keys()))

    def values(self) -> Iterator[LedgerEvent]:  # type: ignore[override]
        return (self._read(stored) for stored in list(super().values()))

    def items(self) -> Iterator[tuple[str, LedgerEvent]]:  # type: ignore[override]
        return ((key, self._read(stored)) for key, stored in list(super().items()))

    def _read(self, stored: LedgerEvent | int) -> LedgerEvent:
        if type(stored) is not int:
            assert isinstance(stored, LedgerEvent)
            return stored
        assert self._blobs is not None
        return _unpacked(self._blobs.read(stored))

    def _remember(self, eventbridge_id: str) -> None:
        latest = self._latest
        latest.append(eventbridge_id)
        if len(latest) > HOT_EVENTS:
            oldest = latest.popleft()
            event = super().get(oldest)
            if type(event) is LedgerEvent:
                if self._blobs is None:
                    self._blobs = Blobs()
                super().__setitem__(oldest, self._blobs.append(_packed(event)))


def _events_from(events: list[LedgerEvent]) -> LedgerEvents:
    kept = LedgerEvents()
    for event in events:
        kept.add(event)
    return kept


class Ledger:
    def __init__(self) -> None:
        self.events = LedgerEvents()
        self._trace = hashlib.sha256()
        self.trace_entries = 0
        self.counters: Counter[str] = Counter()
        self.published_by_type: Counter[str] = Counter()
        self.on_publish: Callable[[], None] | None = None  # e.g. a progress display

    # --- recording ----------------------------------------------------------------------------------
    def published(
        self, *, eventbridge_id: str, bus: str, entry: dict[str, Any], detail: dict[str, Any], at: datetime
    ) -> LedgerEvent:
        raw_metadata = detail.get("metadata")
        metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
        event = LedgerEvent(
            eventbridge_id=eventbridge_id,
            bus=intern(bus),
            source=intern(entry.get("Source", "")),
            detail_type=intern(entry.get("DetailType", "")),
            event_id=metadata.get("eventId"),
            correlation_id=metadata.get("correlationId"),
            published_at=at,
        )
        self.events.add(event)
        self.counters["published"] += 1
        self.published_by_type[event.detail_type] += 1
        if self.on_publish is not None:
            self.on_publish()
        self.trace("publish", at, event.detail_type, event.event_id)
        return event

    def matched(self, eventbridge_id: str, rule: str, target: str) -> None:
        event = self.events.take(eventbridge_id)
        if event is None:
            raise KeyError(eventbridge_id)
        if rule not in event.rules:
            event.rules.append(intern(rule))
        if target not in event.deliveries:
            target = intern(target)
            event.deliveries[target] = Delivery(target)

    def attempt(self, eventbridge_id: str, target: str, at: datetime, *, ok: bool, detail: str = "") -> None:
        delivery = self._delivery(eventbridge_id, target)
        delivery.attempts += 1
        delivery.detail = detail
        if not ok:
            delivery.last_error = detail
        self.counters["delivery_attempts"] += 1
        self.trace("attempt", at, target, eventbridge_id, "ok" if ok else "failed")

    def processed(self, eventbridge_id: str, target: str, at: datetime) -> None:
        delivery = self._delivery(eventbridge_id, target)
        if delivery.outcome is Outcome.PENDING:
            delivery.outcome = Outcome.PROCESSED
            self.counters["delivered"] += 1
            self.trace("processed", at, target, eventbridge_id)

    def dead_lettered(self, eventbridge_id: str, target: str, at: datetime, *, dlq: str, reason: str) -> None:
        delivery = self._delivery(eventbridge_id, target)
        if delivery.outcome is Outcome.PENDING:
            delivery.outcome = Outcome.DEAD_LETTERED
            delivery.detail = f"{dlq}: {reason}"
            delivery.dead_letter_queue = dlq
            delivery.last_error = delivery.last_error or reason
            self.counters["dead_lettered"] += 1
            self.trace("dead_lettered", at, target, eventbridge_id, dlq)

    def dropped(self, eventbridge_id: str, target: str, at: datetime, *, reason: str) -> None:
        delivery = self._delivery(eventbridge_id, target)
        delivery.outcome = Outcome.DROPPED
        delivery.detail = reason
        self.counters["dropped"] += 1
        self.trace("dropped", at, target, eventbridge_id)

    def trace(self, *parts: Any) -> None:
        """Fold one step into the run's trace hash (virtual times, names and ids only: no wall time)."""
        line = json.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts], default=str)
        self._trace.update(line.encode())
        self._trace.update(b"\n")
        self.trace_entries += 1

    def _delivery(self, eventbridge_id: str, target: str) -> Delivery:
        event = self.events.take(eventbridge_id)
        if event is None:
            # A message that did not come through a bus (sent straight to a queue): track it too.
            event = LedgerEvent(eventbridge_id, "", "", "", None, None, datetime.min)
            self.events.add(event)
        delivery = event.deliveries.get(target)
        if delivery is None:
            target = intern(target)
            delivery = event.deliveries[target] = Delivery(target)
        return delivery

    # --- reading -------------------------------------------------------------------------------------
    @property
    def trace_sha256(self) -> str:
        return self._trace.hexdigest()

    def unaccounted(self) -> list[LedgerEvent]:
        return [e for e in self.events.values() if not e.accounted]

    def dead_letters(self) -> list[tuple[LedgerEvent, Delivery]]:
        return [
            (e, d)
            for e in self.events.values()
            for d in e.deliveries.values()
            if d.outcome is Outcome.DEAD_LETTERED
        ]

    def for_correlation(self, correlation_id: str) -> list[LedgerEvent]:
        return self.events.of_correlation(correlation_id)

    def by_correlation(self, only: Iterable[str] | None = None) -> dict[str, list[LedgerEvent]]:
        """Events by correlation id, in sequence; ``only``: just those of these ids (a run of many
        reads a few workflows' events, and the others' need not be read back)."""
        grouped: dict[str, list[LedgerEvent]] = {}
        if only is not None:
            for correlation_id in dict.fromkeys(only):
                events = self.events.of_correlation(correlation_id) if correlation_id else []
                if events:
                    grouped[correlation_id] = events
            return grouped
        for event in self.events.values():
            if event.correlation_id:
                grouped.setdefault(event.correlation_id, []).append(event)
        return grouped
