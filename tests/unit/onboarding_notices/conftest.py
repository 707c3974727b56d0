"""Fixtures shared by the onboarding services' tests (tests/unit/onboarding/onboarding_support.py)."""

from tests.unit.onboarding.onboarding_support import aws, fixed_clock, onboarding_deployed, publisher

__all__ = ["aws", "fixed_clock", "onboarding_deployed", "publisher"]
