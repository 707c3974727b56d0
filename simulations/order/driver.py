"""The order workflow's driver: stock the shelves, submit orders, read workflows back.

Everything goes through the app's own entry points and tables, exactly as in the cloud: orders are
POSTed to the HTTP API (or put on the bus as ``OrderSubmitted``), stock is written in the inventory
table's item format, status is read with the same reader the status API uses.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from simulations.order.scenarios import SCENARIOS, initial_stock, order_for
from workflowkit.cloud import LocalCloud
from workflowkit.simulator import Driver

# Names of the stack outputs the driver reads (infra/stacks/workflow_stack.py declares them).
OUTPUT_BUS = "EventBusName"
OUTPUT_WORKFLOWS = "WorkflowsTableName"
OUTPUT_INVENTORY = "InventoryTableName"
ORDER_SOURCE = "commerce.orders"
WORKFLOW_TYPE = "order"  # the declaration's name: the status documents' ``workflowType``
START_PATH = f"/start/{WORKFLOW_TYPE}"  # the front door's start route


class OrderDriver(Driver):
    def __init__(self, cloud: LocalCloud) -> None:
        self._cloud = cloud
        dynamodb = boto3.resource("dynamodb", region_name=cloud.region)
        self._workflows = dynamodb.Table(cloud.outputs[OUTPUT_WORKFLOWS])
        self._inventory = dynamodb.Table(cloud.outputs[OUTPUT_INVENTORY])
        self._events = cloud.client("events")
        self.stocked: dict[str, int] = {}  # what went on the shelves: the stock invariant's baseline

    # --- the simulator's driver ------------------------------------------------------------------------
    def seed(self) -> None:
        """Every SKU the scenarios order, stocked far above demand (and the sold-out one at 0)."""
        self.stock()

    def submit(self, scenario: str, workflow_id: str) -> None:
        """POST the scenario's order, ``workflow_id`` its order id."""
        self.submit_http(order_for(SCENARIOS[scenario], workflow_id))

    def stock(self, stock: dict[str, int] | None = None) -> None:
        """Put stock on the shelves (the inventory table's ``SKU#<sku>`` items)."""
        for sku, available in sorted((stock or initial_stock()).items()):
            self._inventory.put_item(
                Item={"pk": f"SKU#{sku}", "sku": sku, "available": available, "reserved": 0}
            )
            self.stocked[sku] = available

    def stock_level(self, sku: str) -> dict[str, int]:
        item = self._inventory.get_item(Key={"pk": f"SKU#{sku}"}, ConsistentRead=True)["Item"]
        return {"available": int(item["available"]), "reserved": int(item["reserved"])}

    def submit_http(self, order: dict[str, Any]) -> dict[str, Any]:
        """POST the order to the front door as an IAM-authorised caller; returns the API response."""
        response = self._cloud.http("POST", START_PATH, order)
        if response["statusCode"] != 202:
            raise RuntimeError(f"POST {START_PATH} answered {response['statusCode']}: {response.get('body')}")
        return response

    def submit_event(self, order: dict[str, Any], *, event_id: str, schema_version: int = 2) -> None:
        """Put an ``OrderSubmitted`` event on the bus, as another system would."""
        detail = {
            "metadata": {
                "eventId": event_id,
                "correlationId": order["orderId"],
                "schemaVersion": schema_version,
                "occurredAt": self._cloud.clock.now().isoformat(),
                "producer": "orders.external",
            },
            "data": order,
        }
        self.put(ORDER_SOURCE, "OrderSubmitted", detail)

    def put(self, source: str, detail_type: str, detail: dict[str, Any] | str) -> dict[str, Any]:
        """One PutEvents entry on the app's bus."""
        body = detail if isinstance(detail, str) else json.dumps(detail)
        response: dict[str, Any] = self._events.put_events(
            Entries=[
                {
                    "EventBusName": self._cloud.outputs[OUTPUT_BUS],
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": body,
                }
            ]
        )
        return response

    def status(self, workflow_id: str) -> dict[str, Any] | None:
        """The status document the status API returns (state, steps, timeline); None when there is no
        such order (another workflow's instance of that id included)."""
        # Imported from the app's own code asset, which the local cloud put first on sys.path.
        from workflow_core.workflow_status import load_status  # noqa: PLC0415

        status: dict[str, Any] | None = load_status(self._workflows, workflow_id)
        if status is not None and status.get("workflowType") != WORKFLOW_TYPE:
            return None
        return status

    def all_statuses(self) -> dict[str, dict[str, Any]]:
        """Every order's status document (the table may hold other workflows' instances too)."""
        ids: set[str] = set()
        kwargs: dict[str, Any] = {"ProjectionExpression": "pk"}
        while True:
            page = self._workflows.scan(**kwargs)
            ids.update(str(item["pk"]).removeprefix("WF#") for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        statuses = {}
        for workflow_id in sorted(ids):
            status = self.status(workflow_id)
            if status is not None:
                statuses[workflow_id] = status
        return statuses
