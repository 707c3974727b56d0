"""freezegun's ``time.time()`` and ``datetime.now(tz)``, worked out once per frozen moment.

Under the virtual clock every reading of the time goes through freezegun: ``time.time()`` for each log
record, ``datetime.now(UTC)`` for each timestamp the functions and moto write. freezegun computes each
reading afresh (a ``timegm`` over a ``timetuple``; a ``fromutc``, a sum and a new ``FakeDatetime``), yet
the local cloud's time stands still between the moments the event loop moves it to, so most readings
repeat the one before. These replacements remember the last result per kind of reading and give it
again while freezegun's current moment is the same object: a frozen factory returns its one moment until
it moves, and a ticking one returns a new object every time, so it is never served a remembered value.
``datetime`` values are immutable, so handing the same one out twice is safe.

Everything else is freezegun's: the ignore-list check first, then, on a miss, its own formula applied to
the one moment read (reading it twice would move an auto-ticking clock twice).
:func:`install` puts them in place before a freeze (``freezegun``'s ``start`` patches ``time.time`` with
whatever ``fake_time`` is then) and :func:`uninstall` takes them away after it.
"""

from __future__ import annotations

import calendar
import threading
from datetime import datetime, timedelta, tzinfo
from typing import Any

from freezegun import api as freezegun_api

_FREEZEGUN_FAKE_TIME = freezegun_api.fake_time
_FREEZEGUN_NOW = freezegun_api.FakeDatetime.__dict__["now"]

# (moment, seconds): the latest time.time() reading. A tuple is replaced whole, so threads see either
# the old pair or the new one.
_time_memo: list[tuple[datetime, float] | None] = [None]
# (class, tz) -> (moment, offset, result): the latest datetime.now(tz) reading of each kind.
_now_memo: dict[tuple[type, int], tuple[datetime, timedelta, tzinfo | None, datetime]] = {}
_KINDS_KEPT = 64
_lock = threading.Lock()
_installs = [0]


def fake_time() -> float:
    """freezegun's ``fake_time``: seconds since the epoch of the current moment (remembered per moment).

    The moment is read once, and the seconds worked out from it by freezegun's own formula: a second
    reading (freezegun's ``fake_time`` itself) would move an auto-ticking clock once more, and its
    ignore-list check would look at this module's caller instead of the reader's.
    """
    if freezegun_api._should_use_real_time():
        return freezegun_api.real_time()
    moment = freezegun_api.get_current_time()
    memo = _time_memo[0]
    if memo is not None and memo[0] is moment:
        return memo[1]
    seconds = calendar.timegm(moment.timetuple()) + moment.microsecond / 1000000.0
    _time_memo[0] = (moment, seconds)
    return seconds


def _now(cls: Any, tz: tzinfo | None = None) -> datetime:
    """freezegun's ``FakeDatetime.now`` (remembered per moment, offset and zone; the moment read once)."""
    moment = cls._time_to_freeze()
    if moment is None:  # not frozen: real time, computed every time
        return _FREEZEGUN_NOW.__func__(cls, tz)  # type: ignore[no-any-return]
    offset = cls._tz_offset()
    key = (cls, id(tz))
    memo = _now_memo.get(key)
    if memo is not None and memo[0] is moment and memo[2] is tz and memo[1] == offset:
        return memo[3]
    # freezegun's FakeDatetime.now, on the moment already read.
    shifted = tz.fromutc(moment.replace(tzinfo=tz)) + offset if tz else moment + offset
    result: datetime = freezegun_api.datetime_to_fakedatetime(shifted)
    if len(_now_memo) >= _KINDS_KEPT:
        _now_memo.clear()
    # The zone is kept in the entry: its id cannot be reused by another zone while the entry holds it.
    _now_memo[key] = (moment, offset, tz, result)
    return result


def install() -> None:
    """Put the remembering readings in freezegun's place (before a freeze starts: it patches with them).

    Installs nest: each :func:`install` is undone by one :func:`uninstall`, the last one restores
    freezegun's own.
    """
    with _lock:
        if _installs[0] == 0:
            freezegun_api.fake_time = fake_time
            freezegun_api.FakeDatetime.now = classmethod(_now)  # type: ignore[method-assign,assignment]
        _installs[0] += 1


def uninstall() -> None:
    """Undo one :func:`install` (after the freeze stopped)."""
    with _lock:
        if _installs[0] == 0:
            return
        _installs[0] -= 1
        if _installs[0] == 0:
            freezegun_api.fake_time = _FREEZEGUN_FAKE_TIME
            freezegun_api.FakeDatetime.now = _FREEZEGUN_NOW  # type: ignore[method-assign]
            _time_memo[0] = None
            _now_memo.clear()
