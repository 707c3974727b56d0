"""The customer onboarding workflow: its declaration and its event contracts."""

from onboarding_workflow.declaration import (
    ACCOUNT,
    COMPLIANCE_OFFICERS,
    ONBOARDING_WORKFLOW,
    PREFERENCES,
    REVIEW,
    VERIFY,
)

__all__ = ["ACCOUNT", "COMPLIANCE_OFFICERS", "ONBOARDING_WORKFLOW", "PREFERENCES", "REVIEW", "VERIFY"]
