"""The order workflow's invariants, checked against its own tables after every run.

- money: a captured payment ends shipped (workflow COMPLETED) or fully refunded; never captured twice,
  never refunded twice or more than captured. "Twice" counts the gateway's *calls*, not its captures:
  the sandbox deduplicates per order, so its one capture item cannot show a second charge; its record of
  calls can (``payment.gateways.call_log``). A call is a caller (an execution) and an idempotency key;
  its retries are one call. Money taken or given back by two calls is a violation even where the
  gateway's deduplication answered the second with the first's result (docs/decisions/0037);
- shipping: a shipment still going out belongs to a completed workflow;
- stock: per SKU, stock is conserved (available + reserved = what was stocked, tens of units a shelf) and
  never negative; reserved = units of live reservations; every completed order holds its reservation and
  no other does (an undone order's was released);
- contention (:mod:`simulations.order.contention`): an order refused for ``OUT_OF_STOCK`` found its
  shelf short then, by the stock records;
- carrier decisions: every decision the desk took was accepted and is on the shipping step's record with
  who took it; a confirmed booking ships with a completed order, a declined one is cancelled and its order
  undone, never shipped;
- notify (v2): once paid, the customer's notice was attempted, and its outcome never decided the order's.

The kit's own invariants (termination, audit, nothing lost) are the simulator's
(``workflowkit.simulator.invariants``) and run after these.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

import boto3

from simulations.order.contention import check_contention
from simulations.order.driver import OUTPUT_INVENTORY, OrderDriver
from workflowkit.cloud import LocalCloud
from workflowkit.simulator import Statuses, Violation, in_sequence


def check_all(cloud: LocalCloud, driver: OrderDriver, statuses: Statuses) -> list[Violation]:
    """Money, stock, shipments: the plug-in's invariants (stock against what the driver stocked)."""
    tables = _Tables(cloud)
    return [
        *check_money(tables, statuses),
        *check_stock(tables, statuses, driver.stocked),
        *check_contention(tables.inventory, statuses, driver.stocked),
        *check_shipments(tables, statuses),
        *check_decisions(tables, statuses, driver.desk_decisions),
        *check_notify(statuses),
    ]


# The attributes the checks below read, and only those: a run of 100,000 workflows reads its tables whole
# at the end, beside everything else it keeps, and the items' other attributes (timestamps, tokens,
# executions' names) would be most of what the scans hold.
PAYMENT_ATTRIBUTES = [
    "pk",
    "sk",
    "status",
    "amountMinor",
    "paymentId",
    "operation",
    "moved",
    "state",
    "caller",
    "idempotencyKey",
    "outcome",
]
INVENTORY_ATTRIBUTES = ["pk", "status", "items", "available", "reserved", "reservedAt", "releasedAt"]
SHIPMENT_ATTRIBUTES = ["pk", "orderId", "status"]


class _Tables:
    """The tables the checks read, each read afresh (page by page) whenever a check goes through it: a
    run of 100,000 workflows would otherwise hold every payment, reservation and shipment at once."""

    def __init__(self, cloud: LocalCloud) -> None:
        dynamodb = boto3.resource("dynamodb", region_name=cloud.region)
        self.payments = _Scan(dynamodb.Table(cloud.outputs["PaymentsTableName"]), PAYMENT_ATTRIBUTES)
        self.inventory = _Scan(dynamodb.Table(cloud.outputs[OUTPUT_INVENTORY]), INVENTORY_ATTRIBUTES)
        self.shipments = _Scan(dynamodb.Table(cloud.outputs["ShipmentsTableName"]), SHIPMENT_ATTRIBUTES)


class _Scan:
    """Every item of a table, with only ``attributes`` (each named through a placeholder: several are
    DynamoDB reserved words), scanned again each time it is iterated."""

    def __init__(self, table: Any, attributes: list[str]) -> None:
        self._table = table
        self._names = {f"#a{n}": name for n, name in enumerate(attributes)}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "ConsistentRead": True,
            "ProjectionExpression": ", ".join(self._names),
            "ExpressionAttributeNames": self._names,
        }
        while True:
            page = self._table.scan(**kwargs)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _by_partition(items: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(partition key, its items) for each partition key of a scan, one at a time. A scan returns a
    partition's items together (they are stored together, by sort key); a key seen again apart from
    the others is an error here, never a silent split."""
    done: set[str] = set()
    for key, group in groupby(items, key=lambda item: str(item["pk"])):
        if key in done:
            raise AssertionError(f"the scan returned {key}'s items apart from each other")
        done.add(key)
        yield key, list(group)


CAPTURE_ITEM = "GATEWAY#capture"
REFUND_ITEM = "GATEWAY#refund"
CALL_PREFIX = "CALL#"
CAPTURE_CALLS = {"capture"}
GIVE_BACK_CALLS = {"refund", "settle"}


def check_money(tables: _Tables, statuses: dict[str, dict[str, Any]]) -> list[Violation]:
    violations = []
    per_order: list[tuple[str, list[Violation]]] = []
    # order -> (captured, the hold's status): what the documents' checks need of each order's items
    payments: dict[str, tuple[bool, Any]] = {}
    for pk, found in _by_partition(tables.payments):
        order_id = pk.removeprefix("ORDER#")
        items = {str(item["sk"]): item for item in found}
        payments[order_id] = (CAPTURE_ITEM in items, items.get("GATEWAY#authorize", {}).get("status"))
        per_order.append((order_id, _check_order_payments(order_id, items, statuses)))
    for order_id, status_document in in_sequence(statuses):
        captured, hold = payments.get(order_id, (False, None))
        if status_document["status"] == "COMPLETED" and not captured:
            violations.append(Violation("money", order_id, "completed (shipped) without a captured payment"))
        if hold == "AUTHORIZED" and status_document["status"] in ("COMPENSATED", "FAILED"):
            violations.append(
                Violation("money", order_id, f"{status_document['status']} with a hold still open")
            )
    for _, found_for_order in sorted(per_order, key=lambda pair: pair[0]):
        violations.extend(found_for_order)
    return violations


def _check_order_payments(
    order_id: str, items: dict[str, dict[str, Any]], statuses: dict[str, dict[str, Any]]
) -> list[Violation]:
    violations = _check_calls(order_id, items)
    capture = items.get(CAPTURE_ITEM)
    refund = items.get(REFUND_ITEM)
    status = statuses.get(order_id, {}).get("status")
    captured = int(capture["amountMinor"]) if capture else 0
    refunded = int(refund["amountMinor"]) if refund and refund.get("status") == "REFUNDED" else 0
    if refunded > captured:
        violations.append(Violation("money", order_id, f"refunded {refunded} of {captured} captured"))
    ledger = items.get("LEDGER")
    if ledger and (not capture or ledger.get("paymentId") != capture.get("paymentId")):
        # The books name one payment per order, and it is the one the gateway captured.
        violations.append(Violation("money", order_id, "the ledger's payment is not the captured one"))
    if capture and status != "NEEDS_ATTENTION":
        shipped = status == "COMPLETED"
        if shipped and refunded:
            violations.append(Violation("money", order_id, "shipped and refunded"))
        if not shipped and refunded != captured:
            violations.append(
                Violation("money", order_id, f"{status}: captured {captured}, refunded {refunded}")
            )
    return violations


def _check_calls(order_id: str, items: dict[str, dict[str, Any]]) -> list[Violation]:
    """One call took the money and at most one gave it back, however the gateway answered the others.

    A call moved money when an attempt was answered with a capture or a refund, its own or an earlier
    call's (``moved``), or when it is still in flight (it died mid-way: nobody can tell it did not).
    """
    calls = [item for sk, item in sorted(items.items()) if sk.startswith(CALL_PREFIX)]
    charged = [c for c in calls if c.get("operation") in CAPTURE_CALLS and _moved(c)]
    given_back = [c for c in calls if c.get("operation") in GIVE_BACK_CALLS and _moved(c)]
    violations = []
    if len(charged) > 1:
        violations.append(
            Violation("money", order_id, f"charged by {len(charged)} calls: {_callers(charged)}")
        )
    if len(given_back) > 1:
        violations.append(
            Violation("money", order_id, f"refunded by {len(given_back)} calls: {_callers(given_back)}")
        )
    if CAPTURE_ITEM in items and not charged:
        violations.append(Violation("money", order_id, "captured, but by no call the gateway recorded"))
    taken = sum(int(c.get("amountMinor", 0)) for c in charged)
    returned = sum(int(c.get("amountMinor", 0)) for c in given_back)
    if returned > taken:
        violations.append(Violation("money", order_id, f"calls gave back {returned} of {taken} taken"))
    return violations


def _moved(call: dict[str, Any]) -> bool:
    return bool(call.get("moved")) or call.get("state") == "IN_FLIGHT"


def _callers(calls: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{c.get('caller')} [{c.get('idempotencyKey')}] {c.get('outcome', c.get('state'))}" for c in calls
    )


def check_stock(
    tables: _Tables, statuses: dict[str, dict[str, Any]], stocked: dict[str, int]
) -> list[Violation]:
    violations = []
    live: dict[str, int] = defaultdict(int)
    holding: set[str] = set()
    for item in tables.inventory:
        pk = str(item["pk"])
        if not pk.startswith("RES#") or item.get("status") != "RESERVED":
            continue
        order_id = pk.removeprefix("RES#")
        holding.add(order_id)
        for line in item.get("items", []):
            live[str(line["sku"])] += int(line["quantity"])
        status = statuses.get(order_id, {}).get("status")
        if status not in ("COMPLETED", "NEEDS_ATTENTION"):
            violations.append(Violation("stock", order_id, f"reservation still held by a {status} workflow"))
    for order_id, status_document in in_sequence(statuses):
        if status_document["status"] == "COMPLETED" and order_id not in holding:
            violations.append(
                Violation("stock", order_id, "completed (shipped) without holding its reservation")
            )
    for item in tables.inventory:
        pk = str(item["pk"])
        if not pk.startswith("SKU#"):
            continue
        sku, available, reserved = pk.removeprefix("SKU#"), int(item["available"]), int(item["reserved"])
        if available < 0 or reserved < 0:
            violations.append(
                Violation("stock", sku, f"negative stock: available {available}, reserved {reserved}")
            )
        if sku in stocked and available + reserved != stocked[sku]:
            violations.append(
                Violation(
                    "stock", sku, f"available {available} + reserved {reserved} != stocked {stocked[sku]}"
                )
            )
        if reserved != live.get(sku, 0):
            violations.append(
                Violation("stock", sku, f"reserved {reserved} != live reservations {live.get(sku, 0)}")
            )
    return violations


LIVE_SHIPMENT = {"SCHEDULED", "PENDING_CONFIRMATION", "DISPATCHED"}


def check_shipments(tables: _Tables, statuses: dict[str, dict[str, Any]]) -> list[Violation]:
    """A shipment still going out belongs to a completed workflow (or one a human is looking at)."""
    violations = []
    for item in tables.shipments:
        order_id = str(item.get("orderId") or str(item["pk"]).removeprefix("ORDER#"))
        status = statuses.get(order_id, {}).get("status")
        if item.get("status") in LIVE_SHIPMENT and status not in ("COMPLETED", "NEEDS_ATTENTION"):
            violations.append(
                Violation("shipping", order_id, f"shipment {item.get('status')} for a {status} workflow")
            )
    return violations


def check_decisions(
    tables: _Tables, statuses: dict[str, dict[str, Any]], decisions: list[tuple[str, str, int]]
) -> list[Violation]:
    """The carrier desk's decisions reached the workflow and the booking, and decided the outcome."""
    violations = []
    decided = {order_id for order_id, _, _ in decisions}
    shipments = {
        str(item.get("orderId")): item for item in tables.shipments if str(item.get("orderId")) in decided
    }
    for order_id, verdict, http_status in decisions:
        status = statuses.get(order_id, {})
        shipment = shipments.get(order_id, {})
        recorded = (status.get("steps", {}).get("shipping") or {}).get("decision") or {}
        if http_status != 202:
            violations.append(
                Violation("decisions", order_id, f"the desk's {verdict} was answered {http_status}")
            )
            continue
        if recorded.get("decision") != verdict or not recorded.get("decidedBy"):
            violations.append(
                Violation("decisions", order_id, f"{verdict} not on the shipping step's record")
            )
        if verdict == "complete" and (
            status.get("status") != "COMPLETED" or shipment.get("status") not in ("SCHEDULED", "DISPATCHED")
        ):
            violations.append(
                Violation(
                    "decisions",
                    order_id,
                    f"confirmed, but the order is {status.get('status')}, "
                    f"the shipment {shipment.get('status')}",
                )
            )
        if verdict == "reject" and (
            status.get("status") not in ("COMPENSATED", "NEEDS_ATTENTION")
            or shipment.get("status") != "CANCELLED"
            or "CARRIER_DECLINED" not in str(status.get("reason"))
        ):
            violations.append(
                Violation(
                    "decisions",
                    order_id,
                    f"declined, but the order is {status.get('status')} ({status.get('reason')}), "
                    f"the shipment {shipment.get('status')}",
                )
            )
    return violations


NOTIFY = "notify"


def _paid_while_running(status: dict[str, Any]) -> bool:
    """The controller saw payment complete while the order still ran: the one moment notify starts. A
    payment whose completion arrived after another step's failure (its undo then refunds it) does not
    start it: telling the customer "paid" about an order being undone would be wrong."""
    return any(
        row.get("detailType") == "PaymentProcessed"
        and row.get("statusBefore") == "RUNNING"
        and row.get("statusAfter") == "RUNNING"
        for row in status.get("timeline", [])
    )


def check_notify(statuses: dict[str, dict[str, Any]]) -> list[Violation]:
    """Where the version has the notify step: started once paid, and never the reason an order ended."""
    violations = []
    for order_id, status in in_sequence(statuses):
        steps = status.get("steps", {})
        if NOTIFY not in steps:
            continue  # an instance of v1
        if _paid_while_running(status) and steps[NOTIFY].get("status") == "PENDING":
            violations.append(Violation("notify", order_id, "paid, but the customer was never notified"))
        if str(status.get("reason") or "").startswith(f"{NOTIFY} "):
            violations.append(
                Violation("notify", order_id, f"the order ended on its notice: {status['reason']}")
            )
    return violations
