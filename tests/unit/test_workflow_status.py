"""The status API's reads of the controller's store: the type an id names, from the projection alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.factories import create_pk_sk_table
from workflow_core.item_table import ItemTable
from workflow_core.workflow_state import STATE_SK, WorkflowState, WorkflowStatus, history_sk, workflow_pk
from workflow_core.workflow_status import load_status, load_workflow_type

REGION = "eu-west-1"


@pytest.fixture
def table() -> Iterator[ItemTable]:
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name=REGION)
        create_pk_sk_table(resource, "workflows")
        yield ItemTable(
            "workflows",
            client=_Recording(boto3.client("dynamodb", region_name=REGION)),
            resource_table=lambda: resource.Table("workflows"),
        )


class _Recording:
    """A client that notes the operations called on it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def _record(table: Any, workflow_type: str) -> None:
    moment = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    state = WorkflowState(
        workflow_id="w-1",
        workflow_type=workflow_type,
        definition_version=1,
        status=WorkflowStatus.RUNNING,
        version=1,
        created_at=moment,
        updated_at=moment,
        subject={"id": "w-1"},
        steps={},
    )
    table.put_item(
        Item={
            "pk": workflow_pk("w-1"),
            "sk": STATE_SK,
            "version": 1,
            "document": state.model_dump_json(by_alias=True),
        }
    )
    table.put_item(
        Item={"pk": workflow_pk("w-1"), "sk": history_sk("e-1"), "seq": 1, "record": '{"eventId":"e-1"}'}
    )


def test_the_type_an_id_names_is_the_projection_s(table: ItemTable) -> None:
    assert load_workflow_type(table, "w-1") is None  # nothing recorded yet
    _record(table, "billing")
    calls = table._client.calls
    calls.clear()
    assert load_workflow_type(table, "w-1") == "billing"
    assert calls == ["get_item"]  # the projection alone: no query over the history
    status = load_status(table, "w-1")  # the whole document says the same
    assert status is not None
    assert status["workflowType"] == "billing"
    assert status["timeline"] == [{"eventId": "e-1"}]
