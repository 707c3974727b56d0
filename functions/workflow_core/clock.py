"""The one clock the runtime reads.

Deadlines, timestamps and schedules all read :func:`now`, so the local cloud can run the whole system
on virtual time by installing its own clock; in AWS it is the system clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Clock = system_clock


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _clock()


def install(clock: Clock) -> Clock:
    """Replace the clock; returns the previous one so callers can restore it."""
    global _clock
    previous, _clock = _clock, clock
    return previous
