"""Nothing lost: every event published on the bus was consumed by what it was published for.

- an event whose delivery never ended (still open, or dropped after its retries) is lost;
- an event that matched no rule reached nobody: lost, unless its type is declared an announcement
  (``EventType(announcement=True)``: published for whoever cares, nothing must act on it). A misrouted
  event, or one whose rule is missing, is caught here;
- a dead-lettered delivery, or an event parked where the stack keeps events no workflow could route,
  was not consumed: a person must act on it. Each is reported with its cause (the queue it went to and
  the last error), unless the run's scenarios expect dead letters.
"""

from __future__ import annotations

from collections.abc import Collection

from workflowkit.ledger import Ledger, LedgerEvent, Outcome
from workflowkit.simulator.invariants.base import Violation

INVARIANT = "nothing lost"


def check_nothing_lost(
    ledger: Ledger,
    *,
    announcements: Collection[str],
    parking_targets: Collection[str] = (),
    dead_letters_expected: bool = False,
) -> list[Violation]:
    violations = []
    for event in ledger.events.values():
        name = _name(event)
        if not event.accounted:
            detail = ", ".join(f"{t}: {d.outcome.value} ({d.detail})" for t, d in event.deliveries.items())
            violations.append(Violation(INVARIANT, name, f"delivery never ended: {detail}"))
        elif not event.deliveries and event.detail_type not in announcements:
            violations.append(
                Violation(INVARIANT, name, f"matched no rule (source {event.source!r}): nothing consumed it")
            )
        elif not dead_letters_expected:
            violations.extend(
                Violation(INVARIANT, name, cause) for cause in dead_letter_causes(event, parking_targets)
            )
    return violations


def dead_letter_causes(event: LedgerEvent, parking_targets: Collection[str] = ()) -> list[str]:
    """Why each of ``event``'s deliveries was not consumed: "dead-lettered in <queue> by <target>: <error>"
    or "parked in <queue>: no workflow rule routed it"."""
    causes = []
    for target, delivery in event.deliveries.items():
        if delivery.outcome is Outcome.DEAD_LETTERED:
            causes.append(
                f"dead-lettered in {delivery.dead_letter_queue or '?'} by {target}: {delivery.last_error}"
            )
        elif target in parking_targets and delivery.outcome is Outcome.PROCESSED:
            causes.append(f"parked in {target.removeprefix('queue:')}: no workflow rule routed it")
    return causes


def _name(event: LedgerEvent) -> str:
    return f"{event.detail_type or 'message'} {event.event_id or event.eventbridge_id}"
