"""The same faults, the same violations, when a run's status documents are kept packed.

A run of many workflows (``PACK_STATUSES_FROM`` and more) keeps its status documents packed and the
invariants read them one at a time (``workflowkit.simulator.invariants.PackedStatuses``); here every run
does, so each invariant is shown failing on its fault through that path too.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_invariants_catch_faults import *  # noqa: F403 - the same tests, statuses packed
from workflowkit.simulator.invariants import base


@pytest.fixture(autouse=True)
def statuses_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "PACK_STATUSES_FROM", 0)
