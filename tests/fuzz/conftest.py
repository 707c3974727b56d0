"""The fuzz suite's settings and its one local cloud.

Hypothesis runs derandomized (the same examples on every run and machine), without its example
database (nothing written under ``.hypothesis`` in CI) and without deadlines (a handler's cold path
is not a failure); ``max_examples`` is kept small so the whole suite stays under a minute on two
cores. ``HYPOTHESIS_PROFILE=fuzz-deep`` searches longer and at random, for a run by hand.

Every module shares one :class:`LocalCloud` (package scope: starting one costs seconds) on which an
order and an onboarding have already run to the end, so each consumer has events it really received.
Each example compares the app's state before and after, so what earlier examples left behind never
decides a later one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.e2e.conftest import cdk_out
from tests.fuzz.support import FuzzApp
from workflowkit import LocalCloud

settings.register_profile(
    "fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz-deep",
    parent=settings.get_profile("fuzz"),
    derandomize=False,
    max_examples=2000,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fuzz"))

__all__ = ["app", "cdk_out"]


@pytest.fixture(scope="package")
def app(cdk_out: Path) -> Iterator[FuzzApp]:
    with LocalCloud(cdk_out=cdk_out, seed=11) as cloud:
        fuzz_app = FuzzApp(cloud)
        fuzz_app.run_reference_workflows()
        yield fuzz_app
