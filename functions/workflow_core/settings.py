"""Environment variable names, read once at cold start. The CDK stack sets exactly these."""

from __future__ import annotations

import json
import os

EVENT_BUS_NAME = "EVENT_BUS_NAME"
WORKFLOW_TABLE_NAME = "WORKFLOW_TABLE_NAME"
IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
# The controller's state machines: JSON {"<workflow>/<machine>": "<arn>"} (controller.decide.flow_key).
STATE_MACHINE_ARNS = "STATE_MACHINE_ARNS"
SCHEDULE_GROUP_NAME = "SCHEDULE_GROUP_NAME"
SCHEDULER_ROLE_ARN = "SCHEDULER_ROLE_ARN"
# Where EventBridge Scheduler dead-letters a deadline it could not deliver (each schedule's DeadLetterConfig).
SCHEDULE_DEAD_LETTER_QUEUE_ARN = "SCHEDULE_DEAD_LETTER_QUEUE_ARN"
EVENT_BUS_ARN = "EVENT_BUS_ARN"
ESCALATION_TOPIC_ARN = "ESCALATION_TOPIC_ARN"
# The front door's table of decisions taken through the callback routes, and of the task tokens state
# machines leave there for a decision (docs/decisions/0029).
CALLBACKS_TABLE_NAME = "CALLBACKS_TABLE_NAME"


def required(name: str) -> str:
    """The value of a required variable; a missing one is a deployment error, reported by name."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def json_mapping(name: str) -> dict[str, str]:
    """A required variable holding a JSON object of strings."""
    value = json.loads(required(name))
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise RuntimeError(f"environment variable {name} must be a JSON object of strings")
    return value
