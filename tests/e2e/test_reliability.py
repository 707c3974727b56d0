"""At-least-once delivery, bad input and determinism, end to end on the synthesized app."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from simulations.order import PLUGIN
from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, STOCK_PER_SKU, order_for
from tests.e2e.test_order_scenarios import assert_nothing_lost, items
from workflowkit import LocalCloud
from workflowkit.faults import TransactionConflicts
from workflowkit.simulator.declarations import app_registry
from workflowkit.simulator.invariants import check_kit, read_deployment


def test_the_same_order_submitted_twice_runs_one_workflow_and_charges_once(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN a client that retries its POST (two requests, two event ids, one order)
    order = order_for(SCENARIOS["happy"], "o-1")
    orders.submit_http(order)
    orders.submit_http(order)
    # AND the same event delivered twice to the bus
    orders.submit_event(order, event_id="evt-dup")
    orders.submit_event(order, event_id="evt-dup")
    cloud.run_until_quiescent()
    # THEN one workflow completed, charged by one capture call (the gateway's one capture item could not
    # show a second: it deduplicates per order), stock taken once
    status = orders.status("o-1")
    assert status is not None
    assert status["status"] == "COMPLETED"
    assert [t["detailType"] for t in status["timeline"]].count("PaymentProcessed") == 1
    assert list(items(cloud, "PaymentsTableName", "o-1")).count("GATEWAY#capture") == 1
    captures = [c for c in payment_calls(cloud, "o-1") if c["operation"] == "capture"]
    assert [(c["outcome"], c["moved"]) for c in captures] == [("CAPTURED", True)]
    assert [c for c in payment_calls(cloud, "o-1") if c["operation"] != "capture"] == []
    assert orders.stock_level("SKU-RED-MUG") == {"available": STOCK_PER_SKU - 1, "reserved": 1}
    assert_nothing_lost(cloud)


def payment_calls(cloud: LocalCloud, order_id: str) -> list[dict[str, Any]]:
    """The sandbox gateway's record of the order's money calls (``payment.gateways.call_log``)."""
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(cloud.outputs["PaymentsTableName"])
    found = table.query(KeyConditionExpression=Key("pk").eq(f"ORDER#{order_id}"))["Items"]
    return [item for item in found if str(item["sk"]).startswith("CALL#")]


def test_a_version_1_order_is_upcast_at_the_edge(cloud: LocalCloud, orders: OrderDriver) -> None:
    order = order_for(SCENARIOS["happy"], "o-v1")
    v1 = {k: v for k, v in order.items() if k != "amountMinor"} | {
        "amount": f"{order['amountMinor'] / 100:.2f}"
    }
    orders.submit_event(v1, event_id="evt-v1", schema_version=1)
    cloud.run_until_quiescent()
    status = orders.status("o-v1")
    assert status is not None
    assert status["status"] == "COMPLETED"
    assert items(cloud, "PaymentsTableName", "o-v1")["GATEWAY#capture"]["amountMinor"] == order["amountMinor"]


@pytest.mark.parametrize(
    ("case", "mutate"),
    [
        ("missing lines", lambda d: d["data"].update(items=[])),
        ("unknown schema version", lambda d: d["metadata"].update(schemaVersion=9)),
        ("no envelope", lambda d: d.pop("metadata")),
    ],
)
def test_a_bad_event_ends_in_the_consumers_dlq_without_changing_state(
    cloud: LocalCloud, orders: OrderDriver, case: str, mutate: object
) -> None:
    detail = {
        "metadata": {
            "eventId": "evt-bad",
            "correlationId": "o-bad",
            "schemaVersion": 2,
            "occurredAt": "2026-01-05T09:00:00+00:00",
            "producer": "test",
        },
        "data": order_for(SCENARIOS["happy"], "o-bad"),
    }
    mutate(detail)  # type: ignore[operator]
    orders.put("commerce.orders", "OrderSubmitted", detail)
    cloud.run_until_quiescent()
    # THEN the controller rejected it on every receive, and the queue dead-lettered it after maxReceiveCount
    [(event, delivery)] = cloud.ledger.dead_letters()
    assert event.detail_type == "OrderSubmitted", case
    assert delivery.attempts == 5  # the redrive policy's maxReceiveCount (AWS: at least 5 for Lambda)
    assert "DeadLetterQueue" in delivery.detail
    assert orders.all_statuses() == {}
    assert cloud.ledger.unaccounted() == []


def test_a_target_that_keeps_failing_dead_letters_the_event(cloud: LocalCloud, orders: OrderDriver) -> None:
    # GIVEN the refund flow is gone (a broken deployment): the rule cannot start it
    sfn = boto3.client("stepfunctions", region_name=cloud.region)
    sfn.delete_state_machine(stateMachineArn=cloud.outputs["OrderRefundStateMachineArn"])
    # WHEN an order needs a refund
    orders.submit_http(order_for(SCENARIOS["out_of_stock"], "o-1"))
    cloud.run_until_quiescent()
    # THEN the RefundRequested delivery is retried under the target's policy, then dead-lettered
    dead = [(e, d) for e, d in cloud.ledger.dead_letters() if e.detail_type == "RefundRequested"]
    assert len(dead) == 1
    assert dead[0][1].attempts > 1
    # AND the controller's compensation deadline escalates the workflow to a human
    status = orders.status("o-1")
    assert status is not None
    assert status["status"] == "NEEDS_ATTENTION"
    assert cloud.ledger.unaccounted() == []


def test_put_rule_rejects_a_pattern_eventbridge_rejects(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    with pytest.raises(ClientError) as raised:
        events.put_rule(
            Name="bad",
            EventBusName=cloud.outputs["EventBusName"],
            EventPattern=json.dumps({"detail": {"x": [{"prefix": 1}]}}),
        )
    assert raised.value.response["Error"]["Code"] == "InvalidEventPatternException"


def test_test_event_pattern_answers_with_the_same_matcher(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    event = {
        "id": "1",
        "account": "123456789012",
        "source": "commerce.orders",
        "time": "2026-01-05T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "OrderSubmitted",
        "detail": {"data": {"amountMinor": 2500}},
    }
    pattern = {"source": ["commerce.orders"], "detail": {"data": {"amountMinor": [{"numeric": [">", 1000]}]}}}
    assert (
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"] is True
    )
    pattern["detail"]["data"]["amountMinor"] = [{"numeric": [">", 5000]}]  # type: ignore[index]
    assert (
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]
        is False
    )


def _run_mix(cdk_out: Path, seed: int) -> tuple[str, dict[str, str]]:
    with LocalCloud(cdk_out=cdk_out, seed=seed) as local:
        driver = OrderDriver(local)
        driver.stock()
        for n, name in enumerate(SCENARIOS):
            driver.submit(name, f"o-{n}-{name}")
        local.run_until_quiescent()
        return local.ledger.trace_sha256, {k: v["status"] for k, v in driver.all_statuses().items()}


def test_one_seed_gives_one_trace_and_another_seed_another_interleaving(cdk_out: Path) -> None:
    first, first_statuses = _run_mix(cdk_out, seed=11)
    again, again_statuses = _run_mix(cdk_out, seed=11)
    other, other_statuses = _run_mix(cdk_out, seed=12)
    assert first == again
    assert first != other
    # Different interleavings, same outcomes: each workflow's end depends on its order, not on timing.
    assert first_statuses == again_statuses == other_statuses


# --- DynamoDB transaction conflicts (docs/decisions/0019) -----------------------------------------------
class CountedConflicts(TransactionConflicts):
    """TransactionConflicts that also counts the app's DynamoDB write calls."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: Counter[str] = Counter()

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        if service == "dynamodb":
            self.calls[operation] += 1


def _run_conflicted(
    cdk_out: Path,
    faults: TransactionConflicts,
    *,
    per_scenario: int,
    seed: int = 5,
    only_table: str | None = None,
    leaving_out: tuple[str, ...] = (),
) -> tuple[LocalCloud, dict[str, str], dict[str, dict[str, Any]]]:
    """Every scenario (but ``leaving_out``) ``per_scenario`` times at once; ``only_table``: the output naming
    the one table whose items conflict."""
    with LocalCloud(cdk_out=cdk_out, seed=seed, faults=faults) as cloud:
        if only_table is not None:
            contended_table = cloud.outputs[only_table]
            faults.where = lambda _operation, table, _key: table == contended_table
        driver = OrderDriver(cloud)
        driver.stock()
        scenario_of: dict[str, str] = {}
        # Every order at once, on the same three SKUs: a busy run.
        for name in (name for name in SCENARIOS if name not in leaving_out):
            for n in range(per_scenario):
                order_id = f"o-{name}-{n}"
                scenario_of[order_id] = name
                driver.submit(name, order_id)
        cloud.run_until_quiescent()
        statuses = driver.all_statuses()
        violations = [
            *PLUGIN.invariants(cloud, driver, statuses),
            *check_kit(statuses, cloud.ledger, read_deployment(cloud, app_registry(cloud))),
        ]
        assert [str(v) for v in violations] == []
        assert_nothing_lost(cloud)
        return cloud, scenario_of, statuses


def _assert_expected_ends(scenario_of: dict[str, str], statuses: dict[str, dict[str, Any]]) -> int:
    """Every order ends as its scenario does. A step whose event was redelivered past its deadline under
    contention is given up on and undone, as the deadline rule says: it joins the undone steps, latest
    first, and nothing else changes. Returns how many orders that happened to."""
    assert sorted(statuses) == sorted(scenario_of)
    late = 0
    for order_id, name in scenario_of.items():
        expected = SCENARIOS[name]
        status = statuses[order_id]
        assert (order_id, status["status"]) == (order_id, expected.expected_status)
        compensated = tuple(status.get("compensatedSteps", ()))
        timed_out = [
            step
            for step, state in status["steps"].items()
            if str(state.get("reason") or "").startswith("missed its deadline")
        ]
        if timed_out and compensated != expected.expected_compensations:
            late += 1
            assert set(compensated) == set(expected.expected_compensations) | set(timed_out), (
                order_id,
                status,
            )
            completed = status["completionOrder"]
            assert list(compensated) == sorted(compensated, key=completed.index, reverse=True), (
                order_id,
                status,
            )
            continue
        assert (order_id, compensated) == (order_id, expected.expected_compensations)
    return late


def test_a_busy_run_where_a_third_of_items_are_contended_ends_every_workflow_as_expected(
    cdk_out: Path,
) -> None:
    # GIVEN real DynamoDB's behaviour on a busy table: 30% of the items the app's transactions and
    # single writes touch are held by another transaction at that moment (TransactionConflict)
    faults = CountedConflicts(rate=0.3, seed=5)
    # WHEN every scenario runs three times at once, all orders on the same SKUs
    cloud, scenario_of, statuses = _run_conflicted(cdk_out, faults, per_scenario=3)
    # THEN a sizeable fraction of the app's transactions was cancelled, and single writes refused
    transactions = faults.calls["TransactWriteItems"]
    cancelled = cloud.dynamodb.engine.contended["TransactWriteItems"]
    assert transactions > 100
    assert cancelled / transactions > 0.3
    assert cloud.dynamodb.engine.contended["UpdateItem"] + cloud.dynamodb.engine.contended["PutItem"] > 0
    # AND every workflow still ended as its scenario does, compensated in order, with nothing
    # dead-lettered, nothing lost, money and stock intact (the invariants of a simulation); redeliveries
    # under this contention may push a step past its deadline (then undone too), in few workflows only
    late = _assert_expected_ends(scenario_of, statuses)
    assert late <= len(scenario_of) // 10, f"{late} of {len(scenario_of)} workflows had a step time out"


def test_conflicts_on_the_payments_table_fail_no_payment_and_no_refund(cdk_out: Path) -> None:
    # GIVEN half of the payments table's items conflict: every capture is a transaction (the capture and
    # the authorization's transition), and a void of an authorization a capture holds is refused
    faults = CountedConflicts(rate=0.5, seed=9)
    cloud, scenario_of, statuses = _run_conflicted(
        cdk_out, faults, per_scenario=2, seed=9, only_table="PaymentsTableName"
    )
    assert cloud.dynamodb.engine.contended["TransactWriteItems"] > 0
    assert _assert_expected_ends(scenario_of, statuses) == 0


def test_a_conflicted_run_repeats_exactly_for_its_seed(cdk_out: Path) -> None:
    traces = []
    for _ in range(2):
        faults = TransactionConflicts(rate=0.3, seed=4)
        with LocalCloud(cdk_out=cdk_out, seed=4, faults=faults) as cloud:
            driver = OrderDriver(cloud)
            driver.stock()
            for name in ("happy", "shipping_failure"):
                driver.submit(name, f"o-{name}")
            cloud.run_until_quiescent()
            traces.append((cloud.ledger.trace_sha256, dict(cloud.dynamodb.engine.contended)))
    assert traces[0] == traces[1]
    assert traces[0][1]


def test_conflicts_touch_only_the_apps_own_calls(cdk_out: Path) -> None:
    faults = TransactionConflicts(rate=1.0)
    with LocalCloud(cdk_out=cdk_out, seed=2, faults=faults) as cloud:
        # the test's own calls (seeding, reading, even a transaction) are not the app's: never refused
        OrderDriver(cloud).stock()
        table = cloud.outputs["InventoryTableName"]
        key = {"pk": {"S": "SKU#SKU-RED-MUG"}}
        boto3.client("dynamodb", region_name=cloud.region).transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "1"}},
                    }
                }
            ]
        )
        assert faults.asked == {}
        assert cloud.dynamodb.engine.contended == {}
