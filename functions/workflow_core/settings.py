"""Environment variable names, read once at cold start. The CDK stack sets exactly these."""

from __future__ import annotations

import os

EVENT_BUS_NAME = "EVENT_BUS_NAME"
WORKFLOW_TABLE_NAME = "WORKFLOW_TABLE_NAME"
IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
INVENTORY_TABLE_NAME = "INVENTORY_TABLE_NAME"
SHIPMENTS_TABLE_NAME = "SHIPMENTS_TABLE_NAME"
NOTIFICATIONS_TABLE_NAME = "NOTIFICATIONS_TABLE_NAME"
PAYMENTS_TABLE_NAME = "PAYMENTS_TABLE_NAME"
PAYMENT_STATE_MACHINE_ARN = "PAYMENT_STATE_MACHINE_ARN"
SCHEDULE_GROUP_NAME = "SCHEDULE_GROUP_NAME"
SCHEDULER_ROLE_ARN = "SCHEDULER_ROLE_ARN"
# Where EventBridge Scheduler dead-letters a deadline it could not deliver (each schedule's DeadLetterConfig).
SCHEDULE_DEAD_LETTER_QUEUE_ARN = "SCHEDULE_DEAD_LETTER_QUEUE_ARN"
EVENT_BUS_ARN = "EVENT_BUS_ARN"
ESCALATION_TOPIC_ARN = "ESCALATION_TOPIC_ARN"
CUSTOMER_TOPIC_ARN = "CUSTOMER_TOPIC_ARN"


def required(name: str) -> str:
    """The value of a required variable; a missing one is a deployment error, reported by name."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value
