"""One item per workflow subject that a step creates and its compensation undoes (decision 0011).

The consumers of the shipped workflows share one rule for a step that does something and an undo that
takes it back, under at-least-once delivery and reordering:

- the undo records ``undoneThrough``, the highest step attempt it undid (the item's own attempt or the
  request's ``stepAttempt``, whichever is higher, only ever raised);
- an undo that arrives before the step's effect leaves a *tombstone* carrying it;
- a trigger for attempt N creates the item only if none is live and N > ``undoneThrough``: the rule is
  the write's condition, so a concurrent undo and trigger cannot both win. A trigger of an undone
  attempt is refused (the caller publishes nothing).

:class:`UndoableRecords` is that rule over a DynamoDB table whose items carry ``status``, ``attempt``
and ``undoneThrough``; the service names its live and undone statuses and adds its own fields. It knows
no domain. Every write is conditional; a lost race is re-read, and after a few a
:class:`~workflow_core.errors.ConcurrentUpdateError` lets SQS redeliver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from workflow_core.errors import ConcurrentUpdateError

RACE_RETRIES = 3  # re-reads after losing a race to another writer of the same item

# A new item, or one over an undone item for an attempt no undo has named. An item written before
# ``undoneThrough`` existed counts its own attempt as undone.
NEW_OR_NOT_UNDONE_ATTEMPT = (
    "attribute_not_exists(pk) OR (#status = :undone_status AND "
    "(#undone < :attempt OR (attribute_not_exists(#undone) AND #attempt < :attempt)))"
)

UndoKind = Literal["undone", "tombstone", "already_undone"]


@dataclass(frozen=True)
class Undo:
    """What an undo found and did: ``undone`` (the live item is now undone), ``tombstone`` (nothing was
    there; a tombstone now refuses the late trigger) or ``already_undone`` (an earlier undo did it)."""

    kind: UndoKind
    item: Mapping[str, Any] | None  # the item as it was before this undo (None for a tombstone)


class UndoableRecords:
    """Create, read and undo items ``pk=<prefix><subject id>`` with the attempt rule above."""

    def __init__(self, table: Any, *, prefix: str, live: str, undone: str) -> None:
        self._table = table  # a boto3 DynamoDB Table resource
        self._prefix = prefix
        self.live = live
        self.undone = undone

    def pk(self, subject_id: str) -> str:
        return f"{self._prefix}{subject_id}"

    def load(self, subject_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"pk": self.pk(subject_id)}, ConsistentRead=True).get("Item")
        return dict(item) if item else None

    def undone_through(self, item: Mapping[str, Any]) -> int:
        """The highest step attempt an undo named; 0 while nothing was undone."""
        recorded = item.get("undoneThrough")
        if recorded is not None:
            return int(recorded)
        return int(item.get("attempt", 1)) if item.get("status") == self.undone else 0

    def may_create_over(self, item: Mapping[str, Any] | None, attempt: int) -> bool:
        """Only a trigger for an attempt that no undo named may create over an undone item."""
        return item is None or (item.get("status") == self.undone and self.undone_through(item) < attempt)

    def create(self, subject_id: str, attempt: int, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        """Write the live item for ``attempt``; None when it was written, else the item that refused it
        (live already, or undone through this attempt)."""
        item = {**fields, "pk": self.pk(subject_id), "status": self.live, "attempt": attempt}
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression=NEW_OR_NOT_UNDONE_ATTEMPT,
                ExpressionAttributeNames={
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                ExpressionAttributeValues={":undone_status": self.undone, ":attempt": attempt},
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            racer = self.load(subject_id)
            if racer is None or self.may_create_over(racer, attempt):
                # Not what refused the write: the item changed after it. SQS redelivers the trigger.
                raise ConcurrentUpdateError(f"{self.pk(subject_id)} changed while it was created") from None
            return racer
        return None

    def undo(
        self, subject_id: str, *, step_attempt: int, fields: Mapping[str, Any], refuse: str | None = None
    ) -> Undo | Mapping[str, Any]:
        """Undo the subject's item for every attempt up to ``step_attempt``, adding ``fields``.

        ``refuse``: a status the undo must not touch (returned as the item, for the caller to report as
        a failed undo). Otherwise returns what was found and done (:class:`Undo`).
        """
        for _ in range(RACE_RETRIES):
            item = self.load(subject_id)
            if item is None:
                if self._tombstone(subject_id, step_attempt, fields):
                    return Undo("tombstone", None)
            elif refuse is not None and item.get("status") == refuse:
                return item
            elif item.get("status") == self.undone:
                if self._raise_undone_through(subject_id, item, step_attempt):
                    return Undo("already_undone", item)
            elif self._undo_live(subject_id, item, step_attempt, fields):
                return Undo("undone", item)
        raise ConcurrentUpdateError(f"{self.pk(subject_id)} kept changing while it was undone")

    def _tombstone(self, subject_id: str, step_attempt: int, fields: Mapping[str, Any]) -> bool:
        item = {
            **fields,
            "pk": self.pk(subject_id),
            "status": self.undone,
            "attempt": step_attempt,
            "undoneThrough": step_attempt,
        }
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _condition_failed(error):
                return False  # the item appeared meanwhile: re-read and undo it
            raise
        return True

    def _raise_undone_through(self, subject_id: str, item: Mapping[str, Any], step_attempt: int) -> bool:
        """Record that an undone item's ``step_attempt`` is undone too; False on a race."""
        if self.undone_through(item) >= step_attempt:
            return True
        try:
            self._table.update_item(
                Key={"pk": self.pk(subject_id)},
                UpdateExpression="SET #undone = :step_attempt",
                ConditionExpression="#status = :undone_status AND #attempt = :attempt AND "
                "(attribute_not_exists(#undone) OR #undone < :step_attempt)",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#attempt": "attempt",
                    "#undone": "undoneThrough",
                },
                ExpressionAttributeValues={
                    ":undone_status": self.undone,
                    ":attempt": int(item.get("attempt", 1)),
                    ":step_attempt": step_attempt,
                },
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def _undo_live(
        self, subject_id: str, item: Mapping[str, Any], step_attempt: int, fields: Mapping[str, Any]
    ) -> bool:
        """Move the live item (of its attempt) to undone; False when a concurrent writer changed it."""
        attempt = int(item.get("attempt", 1))
        updates = {**fields, "undoneThrough": max(attempt, step_attempt)}
        names = {
            "#status": "status",
            "#attempt": "attempt",
            **{f"#f{i}": name for i, name in enumerate(updates)},
        }
        values = {
            ":undone_status": self.undone,
            ":from": item["status"],
            ":attempt": attempt,
            **{f":f{i}": value for i, value in enumerate(updates.values())},
        }
        assignments = ", ".join(f"#f{i} = :f{i}" for i in range(len(updates)))
        try:
            self._table.update_item(
                Key={"pk": self.pk(subject_id)},
                UpdateExpression=f"SET #status = :undone_status, {assignments}",
                ConditionExpression="#status = :from AND #attempt = :attempt",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True


def _condition_failed(error: ClientError) -> bool:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code == "ConditionalCheckFailedException"
