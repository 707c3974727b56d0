"""A listener's record of the notices it sent: one item per announcement, so a redelivery sends none twice.

An item is written PENDING before the message goes out (``attribute_not_exists``: of two deliveries of
one event, one writes it) and marked SENT with the message id after. A redelivery that finds it SENT
sends nothing and announces again; one that finds it PENDING sends again (the first delivery may have
died before or after SNS took the message: at least once, never silently none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from workflow_core import clock

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"  # refused for good by the channel; a redelivery tries again (the cause may be fixed)


def notice_pk(event_id: str) -> str:
    return f"NOTICE#{event_id}"


class NoticeLedger:
    def __init__(self, table: Any) -> None:
        self.table = table

    def record(self, event_id: str, fields: Mapping[str, Any]) -> str:
        """Write the notice of ``event_id`` PENDING with ``fields``; returns its status after this call."""
        try:
            self.table.put_item(
                Item={
                    "pk": notice_pk(event_id),
                    **fields,
                    "status": PENDING,
                    "createdAt": clock.now().isoformat(),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self.table.get_item(Key={"pk": notice_pk(event_id)}, ConsistentRead=True)["Item"]
            return str(item["status"])
        return PENDING

    def mark_sent(self, event_id: str, message_id: str) -> None:
        try:
            self.table.update_item(
                Key={"pk": notice_pk(event_id)},
                UpdateExpression="SET #status = :sent, messageId = :message_id, sentAt = :now",
                # From PENDING, or from FAILED when a redelivery got it out after all.
                ConditionExpression="#status <> :sent",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sent": SENT,
                    ":message_id": message_id,
                    ":now": clock.now().isoformat(),
                },
            )
        except ClientError as error:
            # A concurrent delivery of the same event marked it first: the notice is sent either way.
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def mark_failed(self, event_id: str, error_code: str) -> None:
        """Keep the channel's refusal on the notice."""
        try:
            self.table.update_item(
                Key={"pk": notice_pk(event_id)},
                UpdateExpression="SET #status = :failed, errorCode = :code, failedAt = :now",
                ConditionExpression="#status <> :sent",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":failed": FAILED,
                    ":sent": SENT,
                    ":code": error_code,
                    ":now": clock.now().isoformat(),
                },
            )
        except ClientError as error:
            # A concurrent delivery of the same event sent it meanwhile: the SENT record stands.
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
