"""Shards fork only from a process with one thread: a thread the threading module does not know of (one
started with ``_thread``, or by a C library) may hold a lock the forked child then waits on forever, so
it counts too (Python warns: "This process is multi-threaded, use of fork() may lead to deadlocks")."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import _thread, threading, time
from workflowkit.simulator.shards import _may_fork
alone = _may_fork()
started = threading.Event()
_thread.start_new_thread(lambda: (started.set(), time.sleep(60)), ())
started.wait()
print(alone, threading.active_count(), _may_fork())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc: Linux")
def test_a_thread_the_threading_module_does_not_know_of_keeps_shards_from_forking() -> None:
    # GIVEN a fresh process, alone, then with a thread started by _thread
    out = subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True).stdout
    alone, known_threads, with_thread = out.split()
    # THEN alone it may fork; with the thread (which threading does not count) it may not
    assert (alone, known_threads, with_thread) == ("True", "1", "False")
