"""The accounts service: opens a verified customer's account, closes it when the onboarding is undone."""

from accounts.provisioning import AccountsService

__all__ = ["AccountsService"]
