"""A driver for any workflow: instances start through the front door, statuses come from its reader.

``POST /start/<workflow>`` with a subject, as a client would; the status document is read with the
app's own reader (``workflow_core.workflow_status``) and only this workflow's instances are listed, so
several workflows can share a stack's table. A plug-in gives the subject of each scenario.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3

from workflowkit.cloud import LocalCloud
from workflowkit.simulator.invariants import Status, Statuses
from workflowkit.simulator.plugin import Driver

# Names of the stack outputs this driver reads (the stack declares them).
OUTPUT_BUS = "EventBusName"
OUTPUT_WORKFLOWS = "WorkflowsTableName"

SubjectFor = Callable[[str, str], dict[str, Any]]  # (scenario, workflow id) -> the start event's data


class FrontDoorDriver(Driver):
    def __init__(self, cloud: LocalCloud, *, workflow: str, subject_for: SubjectFor) -> None:
        self._cloud = cloud
        self._workflow = workflow
        self._subject_for = subject_for
        self._table = boto3.resource("dynamodb", region_name=cloud.region).Table(
            cloud.outputs[OUTPUT_WORKFLOWS]
        )
        self._events = cloud.client("events")

    def seed(self) -> None:
        """Nothing to seed; a plug-in whose steps need data overrides this."""

    def submit(self, scenario: str, workflow_id: str) -> None:
        self.start(self._subject_for(scenario, workflow_id))

    def start(self, subject: dict[str, Any]) -> dict[str, Any]:
        """``POST /start/<workflow>`` as an IAM-authorised caller; returns the API response."""
        path = f"/start/{self._workflow}"
        response = self._cloud.http("POST", path, subject)
        if response["statusCode"] != 202:
            raise RuntimeError(f"POST {path} answered {response['statusCode']}: {response.get('body')}")
        return response

    def put(self, source: str, detail_type: str, detail: dict[str, Any] | str) -> dict[str, Any]:
        body = detail if isinstance(detail, str) else json.dumps(detail)
        entry = {
            "EventBusName": self._cloud.outputs[OUTPUT_BUS],
            "Source": source,
            "DetailType": detail_type,
            "Detail": body,
        }
        response: dict[str, Any] = self._events.put_events(Entries=[entry])
        return response

    def status(self, workflow_id: str) -> Status | None:
        # Imported from the app's own code asset, which the local cloud put first on sys.path.
        from workflow_core.workflow_status import load_status  # noqa: PLC0415

        status: Status | None = load_status(self._table, workflow_id)
        if status is not None and status.get("workflowType") != self._workflow:
            return None
        return status

    def all_statuses(self) -> Statuses:
        """Every instance of this workflow (the table may hold other workflows' instances too)."""
        ids: set[str] = set()
        kwargs: dict[str, Any] = {"ProjectionExpression": "pk"}
        while True:
            page = self._table.scan(**kwargs)
            ids.update(str(item["pk"]).removeprefix("WF#") for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        statuses: Statuses = {}
        for workflow_id in sorted(ids):
            status = self.status(workflow_id)
            if status is not None:
                statuses[workflow_id] = status
        return statuses
