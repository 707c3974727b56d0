"""A driver for any workflow: instances start through the front door, statuses come from its reader.

``POST /start/<workflow>`` with a subject, as a client would; the status document is read with the
app's own reader (``workflow_core.workflow_status``) and only this workflow's instances are listed, so
several workflows can share a stack's table. A plug-in gives the subject of each scenario. Decisions on
callback steps go through the callback routes as an IAM principal (``cloud.principal``), whose policies
the local cloud enforces as API Gateway would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import boto3

from workflowkit.cloud import LocalCloud
from workflowkit.principals import ApiPrincipal
from workflowkit.simulator.invariants import PackedStatuses, Status, Statuses
from workflowkit.simulator.invariants import base as invariants_base
from workflowkit.simulator.plugin import Driver

# Names of the stack outputs this driver reads (the stack declares them).
OUTPUT_BUS = "EventBusName"
OUTPUT_WORKFLOWS = "WorkflowsTableName"

# How often a start answered 5xx is tried (a client's retries).
START_TRIES = 3

SubjectFor = Callable[[str, str], dict[str, Any]]  # (scenario, workflow id) -> the start event's data
Verdict = Literal["complete", "reject"]


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
        """``POST /start/<workflow>`` as an IAM-authorised caller; returns the API response.

        A 5xx (the front door could not read or publish: a throttled call past its client's retries, say)
        is tried again at once, as a client does (a start is idempotent: the controller starts one
        workflow per subject), up to :data:`START_TRIES` times."""
        path = f"/start/{self._workflow}"
        for _ in range(START_TRIES):
            response = self._cloud.http("POST", path, subject)
            if response["statusCode"] < 500:
                break
        if response["statusCode"] != 202:
            raise RuntimeError(f"POST {path} answered {response['statusCode']}: {response.get('body')}")
        return response

    def decide(
        self,
        workflow_id: str,
        step: str,
        decision: Verdict,
        *,
        principal: ApiPrincipal,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """``POST /workflows/<id>/steps/<step>/complete|reject`` as ``principal``; returns the status code and
        the JSON body (403 ``{"message": "Forbidden"}`` when its policies do not allow the route)."""
        body: dict[str, Any] = {}
        if reason is not None:
            body["reason"] = reason
        if details is not None:
            body["details"] = details
        response = self._cloud.http(
            "POST",
            f"/workflows/{workflow_id}/steps/{step}/{decision}",
            body,
            caller=principal.arn,
            caller_policies=principal.policies,
        )
        answer: dict[str, Any] = response.get("json") or {}
        return int(response["statusCode"]), answer

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
        # Many: packed as they are read, never all parsed at once (invariants.base.PackedStatuses).
        statuses: Statuses = PackedStatuses() if len(ids) >= invariants_base.PACK_STATUSES_FROM else {}
        for workflow_id in sorted(ids):
            status = self.status(workflow_id)
            if status is not None:
                statuses[workflow_id] = status
        return statuses
