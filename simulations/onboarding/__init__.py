"""The customer onboarding workflow's simulation: its scenarios, driver and invariants as a simulator
plug-in (``workflowkit simulate --workflow onboarding``)."""

from __future__ import annotations

from typing import Any

from simulations.onboarding.driver import OnboardingDriver
from simulations.onboarding.invariants import check_all
from simulations.onboarding.scenarios import DEFAULT_MIX, SCENARIOS
from workflowkit.simulator import WorkflowPlugin


def declaration() -> Any:
    """The onboarding declaration, from the app's code (first on sys.path while a cloud runs)."""
    from onboarding_workflow import ONBOARDING_WORKFLOW  # noqa: PLC0415 - the app's own code

    return ONBOARDING_WORKFLOW


PLUGIN = WorkflowPlugin[OnboardingDriver](
    name="onboarding",
    unit="customers",
    scenarios=SCENARIOS,
    default_mix=DEFAULT_MIX,
    driver=OnboardingDriver,
    declaration=declaration,
    invariants=check_all,
)

__all__ = ["PLUGIN", "OnboardingDriver"]
