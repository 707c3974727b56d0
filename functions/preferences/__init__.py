"""The preferences service: keeps each customer's profile (how and in which language to reach them)."""

from preferences.profiles import PreferencesService

__all__ = ["PreferencesService"]
