"""Fixtures shared by the onboarding services' tests (tests/unit/onboarding/onboarding_support.py).

The task Lambda reads its table's name at import, as at a cold start: set before any test imports it.
"""

import os

from tests.unit.onboarding.onboarding_support import aws, fixed_clock, onboarding_deployed, publisher

os.environ.setdefault("VERIFICATIONS_TABLE_NAME", "verifications-test")

__all__ = ["aws", "fixed_clock", "onboarding_deployed", "publisher"]
