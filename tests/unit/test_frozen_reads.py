"""The virtual clock's remembered time readings equal freezegun's own, moment by moment."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import freezegun
import pytest
from freezegun import api as freezegun_api

from workflowkit import frozen_reads

EAST = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture(autouse=True)
def _settled() -> None:
    # What the virtual clock does before it freezes: freezegun's module scan reads every attribute of
    # every module, and a lazily importing package (Powertools') would build pydantic models while
    # datetime is freezegun's.
    from workflowkit.clock import _settle_lazy_modules  # noqa: PLC0415

    _settle_lazy_modules()


@pytest.fixture
def remembering() -> Iterator[None]:
    frozen_reads.install()
    try:
        yield
    finally:
        frozen_reads.uninstall()


def _readings() -> tuple[float, int, datetime, datetime, datetime, datetime]:
    return (
        time.time(),
        time.time_ns(),
        datetime.now(),
        datetime.now(UTC),
        datetime.now(EAST),
        datetime.now(tz=UTC),
    )


def _freezegun_readings() -> tuple[float, int, datetime, datetime, datetime, datetime]:
    now = frozen_reads._FREEZEGUN_NOW.__func__
    cls = freezegun_api.FakeDatetime
    seconds = frozen_reads._FREEZEGUN_FAKE_TIME()
    return (seconds, int(seconds * 1e9), now(cls), now(cls, UTC), now(cls, EAST), now(cls, UTC))


@pytest.mark.usefixtures("remembering")
def test_each_reading_is_freezegun_s_at_every_moment_the_clock_moves_to() -> None:
    with freezegun.freeze_time("2026-01-05 09:00:00", tick=False) as frozen:
        for step in (0, 0.25, 1, 86_400, 0.000001, 3600):
            frozen.tick(timedelta(seconds=step))
            first = _readings()
            assert first == _freezegun_readings()
            assert _readings() == first  # read again at the same moment: the remembered values
            # The kinds are not mixed up: a naive, a UTC and a +05:30 reading each keep their zone.
            assert first[2].tzinfo is None
            assert first[3].tzinfo is UTC
            assert first[4].utcoffset() == EAST.utcoffset(None)


@pytest.mark.usefixtures("remembering")
def test_a_ticking_clock_is_never_served_a_remembered_reading() -> None:
    with freezegun.freeze_time("2026-01-05 09:00:00", tick=True):
        readings = [datetime.now(UTC) for _ in range(50)]
        seconds = [time.time() for _ in range(50)]
    assert readings == sorted(readings)
    assert readings[0] < readings[-1]
    assert seconds == sorted(seconds)
    assert seconds[0] < seconds[-1]


def _ticking_steps() -> list[Any]:
    """How far an auto-ticking clock moved from each reading to the next, and the readings' types."""
    with freezegun.freeze_time("2026-01-05 09:00:00", auto_tick_seconds=1):
        readings = [time.time(), datetime.now(UTC), time.time(), datetime.now(), datetime.now(EAST)]
    moments = [r if isinstance(r, float) else r.replace(tzinfo=r.tzinfo or UTC).timestamp() for r in readings]
    # The steps, not the moments: whatever else reads the clock before the first reading (freezegun's own
    # start, a module imported meanwhile) moves where the readings begin, not how far each one moves it.
    return [later - earlier for earlier, later in itertools.pairwise(moments)] + [
        (type(r), getattr(r, "tzinfo", None)) for r in readings
    ]


def test_an_auto_ticking_clock_moves_once_a_reading_as_freezegun_s_does() -> None:
    expected = _ticking_steps()
    assert expected[:4] == [1.0, 1.0, 1.0, 1.0]  # freezegun's own: one tick a reading
    frozen_reads.install()
    try:
        assert _ticking_steps() == expected
    finally:
        frozen_reads.uninstall()


def _ignored_reading() -> float:
    freezegun.configure(extend_ignore_list=["workflow"])
    try:
        with freezegun.freeze_time("2026-01-05 09:00:00"):
            return time.time()
    finally:
        freezegun.configure(default_ignore_list=[])


def test_an_ignore_list_is_judged_on_the_reader_s_stack() -> None:
    # "workflow" names this module's package too: only the reader (the test) may decide real time or not.
    assert _ignored_reading() == 1767603600.0
    frozen_reads.install()
    try:
        assert _ignored_reading() == 1767603600.0
    finally:
        frozen_reads.uninstall()


@pytest.mark.usefixtures("remembering")
def test_the_freeze_s_zone_offset_counts() -> None:
    with freezegun.freeze_time("2026-01-05 09:00:00", tz_offset=2):
        naive = datetime.now()
        assert naive == datetime(2026, 1, 5, 11, 0)
    with freezegun.freeze_time("2026-01-05 09:00:00", tz_offset=-3):
        assert datetime.now() == datetime(2026, 1, 5, 6, 0)  # same moment, another offset: not the last one
    # Two freezes of one naive datetime share the very moment object: only the offset tells them apart.
    moment = datetime(2026, 1, 5, 9, 0)
    with freezegun.freeze_time(moment, tz_offset=0):
        assert datetime.now() == moment
        with freezegun.freeze_time(moment, tz_offset=4):
            assert datetime.now() == datetime(2026, 1, 5, 13, 0)
        assert datetime.now() == moment


def test_uninstall_gives_freezegun_its_own_readings_back() -> None:
    own_time, own_now = freezegun_api.fake_time, freezegun_api.FakeDatetime.__dict__["now"]
    frozen_reads.install()
    frozen_reads.install()
    assert freezegun_api.fake_time is frozen_reads.fake_time
    frozen_reads.uninstall()
    assert freezegun_api.fake_time is frozen_reads.fake_time  # one install still stands
    frozen_reads.uninstall()
    assert freezegun_api.fake_time is own_time
    assert freezegun_api.FakeDatetime.__dict__["now"] is own_now
    frozen_reads.uninstall()  # one too many: nothing to undo
    assert freezegun_api.fake_time is own_time


def test_the_virtual_clock_reads_through_them_and_moves() -> None:
    from workflowkit.clock import VirtualClock  # noqa: PLC0415

    with VirtualClock() as clock:
        assert freezegun_api.fake_time is frozen_reads.fake_time
        before = datetime.now(UTC)
        clock.advance(90)
        assert datetime.now(UTC) - before == timedelta(seconds=90)
        assert time.time() == pytest.approx(datetime.now(UTC).timestamp())
    assert freezegun_api.fake_time is not frozen_reads.fake_time
