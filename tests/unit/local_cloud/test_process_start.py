"""Wall time from the process's start: the start read from the kernel is the moment the process began,
not up to a second earlier (``/proc/stat``'s ``btime`` is whole seconds: adding the start ticks to it
put the start as much as a second before the process existed, and every run's wall time that longer)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workflowkit.clock import real_perf_counter

# /proc/self/stat counts the start in clock ticks (1/100 s on Linux): the start may read one tick early.
_TICK = 0.01


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's record is Linux's /proc")
def test_a_process_started_no_earlier_than_it_was_made() -> None:
    # GIVEN the moment before a child process is made (perf_counter: the host's monotonic clock)
    before = real_perf_counter()
    # WHEN the child reads its own start
    out = subprocess.run(
        [sys.executable, "-c", "import workflowkit.clock as c; print(repr(c._PROCESS_STARTED))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    after = real_perf_counter()
    started = float(out)
    # THEN it started after the parent asked for it, and before the parent saw it end
    assert before - _TICK <= started <= after
