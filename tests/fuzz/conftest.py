"""The fuzz suite's one local cloud (hypothesis's ``ci`` profile, in tests/conftest.py, drives it).

Every module shares one :class:`LocalCloud` (package scope: starting one costs seconds) on which an
order and an onboarding have already run to the end and another of each waits on a person's decision
(tests/fuzz/support.py), so each consumer has events it really received and each callback route a step
that waits.
Each example compares the app's state before and after, so what earlier examples left behind never
decides a later one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import cdk_out
from tests.fuzz.support import FuzzApp
from workflowkit import LocalCloud

__all__ = ["app", "cdk_out"]


@pytest.fixture(scope="package")
def app(cdk_out: Path) -> Iterator[FuzzApp]:
    with LocalCloud(cdk_out=cdk_out, seed=11) as cloud:
        fuzz_app = FuzzApp(cloud)
        fuzz_app.run_reference_workflows()
        yield fuzz_app
