"""One command run as a benchmark measures it: its wall time from start to exit, and its peak memory.

The command runs under a fresh helper process whose ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the
command's own peak (what ``/usr/bin/time -v`` calls "Maximum resident set size"): measured in the
benchmark's process, one run's peak would hide the next one's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Runs the command, passes its output through, reports its wall time and peak memory on stderr's last line.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - started
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
figures = {"seconds": seconds, "peak_kb": peak, "returncode": done.returncode}
sys.stderr.write("\\n" + json.dumps(figures) + "\\n")
"""


@dataclass
class MeasuredRun:
    seconds: float  # from starting the command to its exit
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(command: list[str], *, cwd: Path) -> MeasuredRun:
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], cwd=cwd, capture_output=True, text=True, check=False
    )
    *output, last = completed.stderr.rstrip().splitlines() or [""]
    try:
        measured = json.loads(last)
    except ValueError:
        raise SystemExit(f"measuring {' '.join(command)} failed:\n{completed.stderr[-3000:]}") from None
    return MeasuredRun(
        measured["seconds"],
        measured["peak_kb"] / 1024,
        measured["returncode"],
        completed.stdout,
        "\n".join(output),
    )
