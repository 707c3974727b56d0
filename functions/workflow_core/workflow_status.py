"""Read side of the controller's store: the status document of one workflow (state + timeline).

Used by the status API and the CLI. The controller writes the items (see ``controller/store.py``):
one ``STATE`` item holding the projection as JSON, and one ``EVT#<eventId>`` item per handled event.
"""

from __future__ import annotations

import json
from typing import Any

from workflow_core.workflow_state import STATE_SK, WorkflowState, workflow_pk


def load_status(table: Any, workflow_id: str) -> dict[str, Any] | None:
    """The status document of ``workflow_id``, or None when the controller has not recorded it.

    ``table`` has boto3's DynamoDB ``Table`` interface (``workflow_core.item_table.ItemTable``, or the
    resource itself).
    """
    items = _query_all(table, workflow_pk(workflow_id))
    state_item = next((i for i in items if i["sk"] == STATE_SK), None)
    if state_item is None:
        return None
    state = WorkflowState.model_validate_json(state_item["document"])
    history = sorted((i for i in items if i["sk"] != STATE_SK), key=lambda i: int(i["seq"]))
    document = state.model_dump(mode="json", by_alias=True)
    document["timeline"] = [json.loads(i["record"]) for i in history]
    return document


def load_state(table: Any, workflow_id: str) -> WorkflowState | None:
    """The projection of ``workflow_id`` alone (one consistent read, no timeline); None when unrecorded."""
    item = table.get_item(Key={"pk": workflow_pk(workflow_id), "sk": STATE_SK}, ConsistentRead=True).get(
        "Item"
    )
    if item is None:
        return None
    return WorkflowState.model_validate_json(item["document"])


def load_workflow_type(table: Any, workflow_id: str) -> str | None:
    """The type of workflow ``workflow_id`` names (one consistent read of its projection); None when
    unrecorded."""
    state = load_state(table, workflow_id)
    return None if state is None else state.workflow_type


def _query_all(table: Any, pk: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": "pk"},
        "ExpressionAttributeValues": {":pk": pk},
        "ConsistentRead": True,
    }
    while True:
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
