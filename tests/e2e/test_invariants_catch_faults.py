"""The invariants fail on faults injected by hand into a real run of the synthesized app: a second
payment execution asking to capture, an event no rule routes, a lost history entry (the unit tests in
tests/unit/simulator and tests/unit/simulations build each fault from plain data; these make it happen)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from simulations.order import PLUGIN
from simulations.order.driver import OrderDriver
from workflowkit import LocalCloud
from workflowkit.simulator import Violation
from workflowkit.simulator.declarations import app_registry
from workflowkit.simulator.invariants import check_kit, read_deployment


def violations(cloud: LocalCloud, orders: OrderDriver) -> list[Violation]:
    statuses = orders.all_statuses()
    return [
        *PLUGIN.invariants(cloud, orders, statuses),
        *check_kit(statuses, cloud.ledger, read_deployment(cloud, app_registry(cloud))),
    ]


def completed_order(cloud: LocalCloud, orders: OrderDriver) -> None:
    orders.submit("happy", "o-1")
    cloud.run_until_quiescent()
    status = orders.status("o-1")
    assert status is not None
    assert status["status"] == "COMPLETED"
    assert violations(cloud, orders) == []


def test_a_second_payment_execution_asking_to_capture_fails_the_money_invariant(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN an order paid, shipped and completed by its payment execution
    completed_order(cloud, orders)
    sfn = boto3.client("stepfunctions", region_name=cloud.region)
    machine = cloud.outputs["OrderPaymentStateMachineArn"]
    (first,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    started = sfn.describe_execution(executionArn=first["executionArn"])["input"]
    # WHEN a second payment execution runs for the same order (a retry that should never have been)
    sfn.start_execution(stateMachineArn=machine, name=f"{first['name']}-again", input=started)
    cloud.run_until_quiescent()
    # THEN the gateway charged once (it deduplicates per order), and the money invariant still fails:
    # two calls asked for the money
    money = [v for v in violations(cloud, orders) if v.invariant == "money"]
    assert [(v.subject, v.detail.split(":")[0]) for v in money] == [("o-1", "charged by 2 calls")]
    assert "REPLAYED" in money[0].detail


def test_an_event_no_rule_routes_fails_nothing_lost(cloud: LocalCloud, orders: OrderDriver) -> None:
    # GIVEN a consistent run
    completed_order(cloud, orders)
    # WHEN an order's event is published under a source no rule of the stack listens to (misrouted)
    detail: dict[str, Any] = {
        "metadata": {
            "eventId": "evt-misrouted",
            "correlationId": "o-1",
            "schemaVersion": 2,
            "occurredAt": cloud.clock.now().isoformat(),
            "producer": "payments.elsewhere",
        },
        "data": {"orderId": "o-1"},
    }
    orders.put("commerce.payments.v2", "PaymentProcessed", json.dumps(detail))
    cloud.run_until_quiescent()
    # THEN nothing lost reports it: it reached nobody
    (violation,) = violations(cloud, orders)
    assert (violation.invariant, violation.subject) == ("nothing lost", "PaymentProcessed evt-misrouted")
    assert violation.detail == "matched no rule (source 'commerce.payments.v2'): nothing consumed it"


def test_a_lost_history_entry_fails_the_audit(cloud: LocalCloud, orders: OrderDriver) -> None:
    # GIVEN a consistent run
    completed_order(cloud, orders)
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(cloud.outputs["WorkflowsTableName"])
    history = table.query(KeyConditionExpression=Key("pk").eq("WF#o-1"))["Items"]
    lost = next(item for item in history if item.get("detailType") == "InventoryReserved")
    # WHEN the controller's history of o-1 loses the entry of an event the controller received
    table.delete_item(Key={"pk": lost["pk"], "sk": lost["sk"]})
    # THEN the audit names the event the history no longer holds
    (violation,) = [v for v in violations(cloud, orders) if v.invariant == "audit"]
    assert violation.subject == "o-1"
    assert violation.detail.startswith("the controller received InventoryReserved ")
    assert violation.detail.endswith("; its history lacks it")


def test_an_event_its_consumers_refuse_is_dead_lettered_with_the_cause(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN a consistent run
    completed_order(cloud, orders)
    # WHEN a payment event names an order no workflow tracks: the controller and the inventory consumer
    # each report it as a batch item failure until redrive moves it to their dead-letter queues
    detail: dict[str, Any] = {
        "metadata": {
            "eventId": "evt-stray",
            "correlationId": "o-nobody",
            "schemaVersion": 2,
            "occurredAt": cloud.clock.now().isoformat(),
            "producer": "payment",
        },
        "workflow": {"name": "order", "version": 1},
        "data": {"orderId": "o-nobody", "paymentId": "p", "amountMinor": 1, "currency": "EUR"},
    }
    orders.put("commerce.payments", "PaymentProcessed", json.dumps(detail))
    cloud.run_until_quiescent()
    # THEN nothing lost names each dead letter with its cause: a batch item failure, not "ok"
    lost = [v for v in violations(cloud, orders) if v.invariant == "nothing lost"]
    assert [v.subject for v in lost] == ["PaymentProcessed evt-stray"] * 2
    for violation in lost:
        assert violation.detail.startswith("dead-lettered in ")
        assert violation.detail.endswith(": reported as a batch item failure")
