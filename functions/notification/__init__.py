"""The notification service: tells the customer their order is confirmed (the order workflow's notify
step) and how their order's workflow ended."""

from notification.notices import TEMPLATES, NotificationService

__all__ = ["TEMPLATES", "NotificationService"]
