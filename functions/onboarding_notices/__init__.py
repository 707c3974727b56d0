"""Onboarding notices: tells compliance officers what awaits their decision, and customers how it ended."""

from onboarding_notices.notices import OnboardingNotices
from onboarding_notices.templates import TEMPLATES

__all__ = ["TEMPLATES", "OnboardingNotices"]
