"""The notification service: tells the customer how their order's workflow ended."""

from notification.notices import TEMPLATES, NotificationService

__all__ = ["TEMPLATES", "NotificationService"]
