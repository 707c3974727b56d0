"""The controller's event-sourced store in DynamoDB.

Each handled event is one transaction: append the history item (condition: the event id is new, which
deduplicates redeliveries) and put the projection (condition: the version read is still current,
which serialises concurrent events of one workflow). The history item also holds the decision's
actions and whether they ran, so a crash between commit and effects is repaired on redelivery.

A commit DynamoDB cancels for contention (another transaction in progress on one of the items, or
throttling: ``workflow_core.contention.is_contention``) wrote nothing and leaves with its
``ClientError``; so does ``mark_effects_done`` refused with ``TransactionConflictException``. The
service decides what to do about them (docs/decisions/0019).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from controller.actions import Action, action_from_dict, action_to_dict
from workflow_core import attribute_values
from workflow_core.catalog import DomainEvent
from workflow_core.workflow_state import STATE_SK, WorkflowState, history_sk, workflow_pk


class DuplicateEventError(Exception):
    """The event is already in the workflow's history."""


class VersionConflictError(Exception):
    """The projection changed since it was read."""


@dataclass(frozen=True)
class HistoryEntry:
    actions: list[Action]
    effects_done: bool


@dataclass(frozen=True)
class Snapshot:
    """The projection as read, with the version the commit must still find."""

    state: WorkflowState | None
    version: int


class WorkflowStore:
    def __init__(self, *, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def load(self, workflow_id: str) -> Snapshot:
        response = self._client.get_item(
            TableName=self._table,
            Key=_key(workflow_pk(workflow_id), STATE_SK),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return Snapshot(None, 0)
        state = WorkflowState.model_validate_json(item["document"]["S"])
        return Snapshot(state, int(item["version"]["N"]))

    def history_entry(self, workflow_id: str, event_id: str) -> HistoryEntry | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=_key(workflow_pk(workflow_id), history_sk(event_id)),
            ConsistentRead=True,
            ProjectionExpression="actions, effectsDone",
        )
        item = response.get("Item")
        if item is None:
            return None
        actions = [action_from_dict(a) for a in json.loads(item["actions"]["S"])]
        return HistoryEntry(actions=actions, effects_done=item["effectsDone"]["BOOL"])

    def commit(
        self,
        *,
        workflow_id: str,
        snapshot: Snapshot,
        new_state: WorkflowState | None,
        event: DomainEvent,
        record: dict[str, Any],
        actions: list[Action],
    ) -> int:
        """Append the event to the history and put the new projection; returns the new version."""
        version = snapshot.version + 1
        record = {**record, "seq": version}
        history_item = {
            "pk": workflow_pk(workflow_id),
            "sk": history_sk(event.event_id),
            "seq": version,
            "detailType": event.detail_type,
            "record": json.dumps(record, separators=(",", ":"), default=str),
            "actions": json.dumps([action_to_dict(a) for a in actions], separators=(",", ":")),
            "effectsDone": not actions,
        }
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _serialize(history_item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if new_state is not None:
            new_state.version = version
            state_item = {
                "pk": workflow_pk(workflow_id),
                "sk": STATE_SK,
                "version": version,
                "status": new_state.status.value,
                "document": new_state.model_dump_json(by_alias=True),
            }
            put: dict[str, Any] = {"TableName": self._table, "Item": _serialize(state_item)}
            if snapshot.state is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "version = :expected"
                put["ExpressionAttributeValues"] = {":expected": {"N": str(snapshot.version)}}
            items.insert(0, {"Put": put})
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            _raise_conflict(error, has_state=new_state is not None)
            raise
        return version

    def mark_effects_done(self, workflow_id: str, event_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_key(workflow_pk(workflow_id), history_sk(event_id)),
            UpdateExpression="SET effectsDone = :done",
            ExpressionAttributeValues={":done": {"BOOL": True}},
        )


def _raise_conflict(error: ClientError, *, has_state: bool) -> None:
    """The cancellation as the service handles it; returns (the ClientError goes on) for anything else.

    A condition that failed is decisive even when another item was busy: the event is in the history
    (a duplicate) or the projection moved on (a version conflict). Only a cancellation with no failed
    condition can be contention, which the caller recognises on the ClientError itself.
    """
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return
    reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
    history_reason = reasons[-1] if reasons else None
    if history_reason == "ConditionalCheckFailed":
        raise DuplicateEventError() from error
    if has_state and reasons and reasons[0] == "ConditionalCheckFailed":
        raise VersionConflictError() from error


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.serialize_item(item)
