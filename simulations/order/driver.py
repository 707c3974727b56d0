"""The order workflow's driver: stock the shelves, submit orders, decide manual bookings, read workflows back.

Everything goes through the app's own entry points and tables, exactly as in the cloud: orders are
POSTed to the HTTP API (or put on the bus as ``OrderSubmitted``), a carrier desk confirms or declines a
manual booking through the callback route as an IAM principal holding only the desk's approver policy,
stock is written in the inventory table's item format, status is read with the same reader the status
API uses.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3

from simulations.order.scenarios import SCENARIOS, initial_stock, order_for, shelf_of, shelf_skus
from workflowkit.cloud import LocalCloud
from workflowkit.principals import ApiPrincipal
from workflowkit.simulator.front_door import FrontDoorDriver

# Names of the stack outputs the driver reads (infra/stacks/workflow_stack.py declares them).
OUTPUT_BUS = "EventBusName"
OUTPUT_WORKFLOWS = "WorkflowsTableName"
OUTPUT_INVENTORY = "InventoryTableName"
# The approver policy of the declaration's ``carrier-desk`` (order v2's shipping step).
OUTPUT_CARRIER_DESK = "CarrierDeskApproverPolicyArn"
ORDER_SOURCE = "commerce.orders"
WORKFLOW_TYPE = "order"  # the declaration's name: the status documents' ``workflowType``
START_PATH = f"/start/{WORKFLOW_TYPE}"  # the front door's start route
SHIPPING_STEP = "shipping"
# When the carrier desk answers a manual booking: well inside the step's 24 h, long after the booking.
DESK_ANSWERS_AFTER = timedelta(hours=2)
DESK_REASON = {"complete": None, "reject": "no capacity on the next sailing"}
DESK_RETRY_AFTER = timedelta(minutes=5)
DESK_TRIES = 5


def subject_for(scenario: str, workflow_id: str) -> dict[str, Any]:
    return order_for(SCENARIOS[scenario], workflow_id)


class OrderDriver(FrontDoorDriver):
    def __init__(self, cloud: LocalCloud) -> None:
        super().__init__(cloud, workflow=WORKFLOW_TYPE, subject_for=subject_for)
        dynamodb = boto3.resource("dynamodb", region_name=cloud.region)
        self._inventory = dynamodb.Table(cloud.outputs[OUTPUT_INVENTORY])
        self.stocked: dict[str, int] = {}  # what went on the shelves: the stock invariant's baseline
        # Every decision the desk took: (order id, verdict, HTTP status); the decisions invariant reads it.
        self.desk_decisions: list[tuple[str, str, int]] = []

    # --- the simulator's driver ------------------------------------------------------------------------
    def seed(self) -> None:
        """Shelf 0, tens of units per SKU (the sold-out SKU at 0); later shelves when their orders come."""
        self.stock()

    def submit(self, scenario: str, workflow_id: str) -> None:
        """POST the scenario's order, ``workflow_id`` its order id; the desk answers later if it does.

        The order's shelf is stocked when its first order arrives (once, then never refilled)."""
        shelf = shelf_of(workflow_id)
        if not any(sku in self.stocked for sku in shelf_skus(shelf)):
            self.stock(initial_stock(shelf))
        self.submit_http(order_for(SCENARIOS[scenario], workflow_id))
        verdict = SCENARIOS[scenario].carrier_decision
        if verdict is not None:
            self._cloud.loop.call_later(
                DESK_ANSWERS_AFTER,
                f"carrier desk {verdict} {workflow_id}",
                lambda: self.carrier_desk_decides(workflow_id, verdict),
            )

    def carrier_desk_decides(self, order_id: str, verdict: str, *, tries: int = DESK_TRIES) -> None:
        """The carrier desk confirms (``complete``) or declines (``reject``) the order's manual booking.

        A 5xx (a decision claimed but not delivered yet) is tried again later, as the front door asks; every
        final answer is kept for the decisions invariant, which reports any other than 202. An order that
        never reached shipping (its shelf was empty) has no booking on the desk: nothing to decide.
        """
        if not self._booking_ever_made(order_id):
            return
        status, _ = self.decide(
            order_id,
            SHIPPING_STEP,
            "complete" if verdict == "complete" else "reject",
            principal=self.carrier_desk(),
            reason=DESK_REASON.get(verdict),
        )
        if status >= 500 and tries > 1:
            self._cloud.loop.call_later(
                DESK_RETRY_AFTER,
                f"carrier desk {verdict} {order_id} again",
                lambda: self.carrier_desk_decides(order_id, verdict, tries=tries - 1),
            )
            return
        self.desk_decisions.append((order_id, verdict, status))

    def _booking_ever_made(self, order_id: str) -> bool:
        workflow = self.status(order_id) or {}
        shipping: dict[str, Any] = workflow.get("steps", {}).get(SHIPPING_STEP) or {}
        return bool(shipping.get("status", "PENDING") != "PENDING")

    def carrier_desk(self) -> ApiPrincipal:
        """A session of the carrier desk's role, holding its approver policy and nothing else."""
        return self._cloud.principal("carrier-desk", OUTPUT_CARRIER_DESK, kind="role")

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
        return self.start(order)

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
