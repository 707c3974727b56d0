"""Grants a test's own resources need, as they would in AWS (the local cloud enforces them)."""

from __future__ import annotations

import json
from typing import Any


def admit_rule_to_queue(sqs: Any, queue_url: str, queue_arn: str, rule_arn: str) -> None:
    """The queue policy EventBridge needs to deliver ``rule_arn``'s events to the queue."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
