"""A progress line on stderr while workflows finish (only where stderr is a terminal)."""

from __future__ import annotations

import sys

from workflowkit.clock import real_perf_counter


class Progress:
    def __init__(self, total: int, *, enabled: bool | None = None) -> None:
        self._total = total
        self._enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        if not self._enabled:
            return
        now = real_perf_counter()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        width = 30
        filled = int(width * done / self._total) if self._total else width
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self._total} workflows finished"
        )
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()
