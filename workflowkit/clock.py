"""Virtual time for the local cloud.

Everything reads the same virtual now: the Lambdas (``datetime.now``), moto (SQS visibility timeouts,
Step Functions timestamps) and the local cloud's own scheduler. freezegun supplies it; only the event
loop moves it, forward, to the time of the next due task. Nothing sleeps.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import freezegun
from freezegun import api as freezegun_api
from freezegun.api import FrozenDateTimeFactory, StepTickTimeFactory, TickingDateTimeFactory

from workflowkit import frozen_reads

# Real time, for handler durations and wall time. Kept inside a tuple on purpose: freezegun replaces
# every module attribute that *is* time.perf_counter, but does not look into containers.
_REAL_CLOCKS = (time.perf_counter,)


def real_perf_counter() -> float:
    return _REAL_CLOCKS[0]()


# The real datetime class, in a tuple for the same reason: the local cloud's own moments are plain
# datetimes (freezegun's FakeDatetime builds a new object in Python for every sum and difference: the
# event loop's due times alone cost a percent of a run). They equal, compare with and print as the
# handlers' FakeDatetime values of the same moment.
_REAL_DATETIME = (datetime,)


def _plain(moment: datetime) -> datetime:
    plain = _REAL_DATETIME[0]
    if type(moment) is plain:
        return moment
    return plain(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        moment.tzinfo,
        fold=moment.fold,
    )


def _process_started() -> float:
    """The moment this process started, on :func:`real_perf_counter`'s clock: from the kernel's record
    of the process (``/proc``, Linux), else the moment this module was imported.

    The record is clock ticks after boot, read against the clock that counts from boot
    (``CLOCK_BOOTTIME``): ``/proc/stat``'s boot time is whole seconds of the epoch, and adding the ticks
    to it put the start up to a second before the process existed."""
    now_perf = real_perf_counter()
    try:
        now_since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        with open("/proc/self/stat", encoding="ascii") as stat:
            # Field 22 (after the parenthesised command name): start time, in clock ticks after boot.
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        started_since_boot = ticks / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError, IndexError):  # no CLOCK_BOOTTIME or no /proc: not Linux
        return now_perf
    return now_perf - max(0.0, now_since_boot - started_since_boot)


_PROCESS_STARTED = _process_started()
_ORIGIN_CLAIMED = False


def run_origin() -> float:
    """Where a run's wall time starts: the process's own start for the first run of a process (the
    interpreter's start-up and the imports count), the moment it is asked for after that (a second
    run in one process, a test session's)."""
    global _ORIGIN_CLAIMED  # noqa: PLW0603 - one process, one start
    if _ORIGIN_CLAIMED:
        return real_perf_counter()
    _ORIGIN_CLAIMED = True
    return _PROCESS_STARTED


DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _settle_lazy_modules() -> None:
    """Run freezegun's module scan once before freezing.

    The scan reads every attribute of every loaded module, which makes lazily importing packages
    (Powertools' parser models, for one) import submodules; imported after ``datetime`` is replaced,
    their pydantic models could not be built. Scanning first imports them with the real ``datetime``
    and fills freezegun's cache, so the freeze itself only patches.
    """
    seen = -1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading every attribute trips every deprecation warning
        while seen != len(sys.modules):
            seen = len(sys.modules)
            for module in list(sys.modules.values()):
                if module is not None and getattr(module, "__name__", None) not in ("datetime", "time"):
                    freezegun_api._get_cached_module_attributes(module)


class VirtualClock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._start = start
        self._freezer: Any = None
        self._factory: FrozenDateTimeFactory | StepTickTimeFactory | TickingDateTimeFactory | None = None
        # The frozen moment, kept here too: the loop asks for it tens of thousands of times per run, and
        # freezegun's now() builds a new datetime each time. Only advance_to moves the frozen time.
        self._now: datetime | None = None

    def __enter__(self) -> VirtualClock:
        self._freeze(self._start)
        return self

    def _freeze(self, moment: datetime) -> None:
        # No ignore list: the default one makes every now() walk the call stack.
        freezegun.configure(default_ignore_list=[])
        _settle_lazy_modules()
        frozen_reads.install()
        try:
            self._freezer = freezegun.freeze_time(moment, tick=False)
            self._factory = self._freezer.start()
        except BaseException:
            self._freezer = None
            frozen_reads.uninstall()  # no freeze to stop later: undo the install now
            raise
        self._now = _plain(datetime.now(UTC))

    @contextlib.contextmanager
    def thawed(self) -> Iterator[None]:
        """Real ``datetime`` for a moment, then virtual time again from where it stood.

        For imports after the start (a deployment's cold starts): pydantic cannot build models on
        freezegun's datetime class, and modules imported meanwhile are patched when time freezes again.
        """
        moment = self.now()
        self.__exit__()
        try:
            yield
        finally:
            self._freeze(moment)

    def __exit__(self, *exc: object) -> None:
        if self._freezer is not None:
            self._freezer.stop()
            self._freezer = None
            frozen_reads.uninstall()
        self._now = None

    @property
    def running(self) -> bool:
        return self._freezer is not None

    @property
    def start(self) -> datetime:
        return self._start

    def now(self) -> datetime:
        return self._now if self._now is not None else datetime.now(UTC)

    def elapsed(self) -> timedelta:
        return self.now() - self._start

    def advance_to(self, moment: datetime) -> None:
        if moment > self.now():
            assert self._factory is not None
            self._factory.move_to(moment)
            self._now = _plain(datetime.now(UTC))

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self.advance_to(self.now() + timedelta(seconds=seconds))
