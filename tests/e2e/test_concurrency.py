"""Two invocations at the same time on the synthesized app: nothing lost, nothing oversold (issue 10, 5).

Lambda runs concurrent invocations side by side: two pollers of a standard queue can hand two events of
one workflow to two controller invocations at once, or one event twice (at-least-once delivery), and two
orders' reservations of one SKU to two inventory invocations. Here each pair runs on two real threads
against the local cloud, whose DynamoDB engine serialises calls as DynamoDB does and holds a transaction
in progress between its prepare and its commit; the test forces each interleaving at the calls where it
matters (both read before either commits; one commit in progress while the other tries), so every run
takes the same path. The controller's store must stay complete (one history item per event), ordered
(sequence numbers 1..n, each decided on what the one before left) and reflected (the projection is what
its history folds to); the loser of a race decides again on what the winner left, or gives its record
back for SQS to redeliver.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest

from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, order_for
from tests.e2e.concurrency import (
    HeldQueue,
    Interleaving,
    Invocation,
    detail_type,
    dynamodb,
    event_id,
    history_problems,
    not_dynamodb,
    run_together,
    signal_then_wait,
    wait,
    workflow_items,
)
from tests.e2e.test_order_scenarios import assert_nothing_lost
from workflowkit import LocalCloud
from workflowkit.faults import Faults

ORDER = "o-1"
# The two steps order v2 runs side by side once paid: their outcomes reach the controller together.
BESIDE = ("OrderConfirmationSent", "InventoryReserved")
COMMIT = dynamodb("TransactWriteItems")
LOAD = dynamodb("GetItem", sk="STATE")
CONTENDED_TRIES = 6  # workflow_core.contention.Backoff().attempts


@dataclass
class Held:
    """The controller held, with the outcomes that wait for it once the order is paid."""

    controller: HeldQueue
    beside: dict[str, Any]  # detail-type -> record: the two outcomes that arrive together
    later: list[dict[str, Any]]  # what arrived meanwhile besides them (a shipment the reservation caused)


def held_until_both_outcomes(cloud: LocalCloud, orders: OrderDriver) -> Held:
    """The controller held; an order run up to the point where both side-by-side outcomes wait for it."""
    held = Held(HeldQueue(cloud, "controller"), {}, [])
    orders.submit_http(order_for(SCENARIOS["happy"], ORDER, lines=1))
    paid = False
    for _ in range(15):
        cloud.run_for(timedelta(seconds=20))  # well inside every deadline: only the events move
        for record in held.controller.receive():
            if not paid:  # up to the payment, the controller handles each event as it comes
                assert held.controller.deliver([record]).get("batchItemFailures") == []
                paid = detail_type(record) == "PaymentProcessed"
            elif detail_type(record) in BESIDE:
                held.beside[detail_type(record)] = record
            else:
                held.later.append(record)
        if len(held.beside) == len(BESIDE):
            return held
    raise AssertionError(f"the side-by-side outcomes never both arrived: {sorted(held.beside)}")


def finish(cloud: LocalCloud, held: Held) -> None:
    """No more forcing: what waited is handled, the controller's mapping polls again, the run ends."""
    cloud.faults = Faults()
    cloud.dynamodb.engine.on_prepared = None
    for record in held.later:
        assert held.controller.deliver([record]).get("batchItemFailures") == []
    held.controller.resume()
    cloud.run_until_quiescent()


def final_status(orders: OrderDriver, workflow_id: str) -> str:
    status = orders.status(workflow_id)
    assert status is not None, f"no workflow {workflow_id}"
    return str(status["status"])


def steps(cloud: LocalCloud, workflow_id: str) -> dict[str, str]:
    state, _ = workflow_items(cloud, workflow_id)
    document = json.loads(state["document"])
    return {name: step["status"] for name, step in document["steps"].items()}


def the_two_outcomes(held: Held) -> tuple[Invocation, Invocation]:
    """A handles the notice's outcome, B the reservation's (whose deadline outlasts a redelivery)."""
    return (
        Invocation(held.controller, "A", [held.beside["OrderConfirmationSent"]]),
        Invocation(held.controller, "B", [held.beside["InventoryReserved"]]),
    )


def race_two_outcomes_from_one_read(
    cloud: LocalCloud, orders: OrderDriver
) -> tuple[Held, Invocation, Invocation]:
    """Both invocations read the projection before either commits; A commits first, then B tries."""
    held = held_until_both_outcomes(cloud, orders)
    a, b = the_two_outcomes(held)
    both_read = threading.Barrier(2)
    moves = Interleaving()
    moves.at("A", COMMIT, wait(both_read))
    moves.at("B", COMMIT, lambda: (wait(both_read)(), wait(a.done)()))
    cloud.faults = moves
    run_together(a, b)
    return held, a, b


def test_two_outcomes_decided_from_one_read_are_both_kept_the_loser_decides_again(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    held, a, b = race_two_outcomes_from_one_read(cloud, orders)
    # THEN both records succeeded: B's commit failed its version condition, so it read A's projection,
    # decided again and committed on its second try, without any transaction being in progress meanwhile
    assert a.failed_records() == []
    assert b.failed_records() == []
    moves = cloud.faults
    assert isinstance(moves, Interleaving)
    assert moves.calls[("A", "dynamodb", "TransactWriteItems")] == 1
    assert moves.calls[("B", "dynamodb", "TransactWriteItems")] == 2
    assert moves.calls[("B", "dynamodb", "GetItem")] == 2
    assert cloud.dynamodb.engine.overlapped == {}
    # AND the store holds both events in sequence, and the projection reflects both
    handled = [event_id(a.records[0]), event_id(b.records[0])]
    assert history_problems(cloud, ORDER, handled) == []
    assert steps(cloud, ORDER) == {
        "payment": "COMPLETED",
        "notify": "COMPLETED",
        "inventory": "COMPLETED",
        "shipping": "RUNNING",  # the reservation started it; its outcome waits in held.later
    }
    # AND the order ends as its scenario says, with nothing lost on the way
    finish(cloud, held)
    assert final_status(orders, ORDER) == "COMPLETED"
    assert history_problems(cloud, ORDER, handled) == []
    assert_nothing_lost(cloud)


_VERSION_CONDITION = ("ConditionExpression", "ExpressionAttributeValues")


class _WithoutVersionCondition:
    """The controller's DynamoDB client with the projection's version condition taken out of its commits."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        unconditional = []
        for item in request.pop("TransactItems"):
            put = item.get("Put", {})
            if put.get("Item", {}).get("sk") == {"S": "STATE"}:
                unconditional.append({"Put": {k: v for k, v in put.items() if k not in _VERSION_CONDITION}})
            else:
                unconditional.append(item)
        return self._client.transact_write_items(TransactItems=unconditional, **request)


def test_without_the_controllers_version_condition_the_same_race_loses_an_update(
    cloud: LocalCloud, orders: OrderDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the controller (as loaded from its asset) committing without checking the version it read
    store = sys.modules["controller.handler"].controller._store
    monkeypatch.setattr(store, "_client", _WithoutVersionCondition(store._client))
    _, a, b = race_two_outcomes_from_one_read(cloud, orders)
    # THEN B's commit lands over A's: the checks above see it
    assert b.failed_records() == []
    problems = history_problems(cloud, ORDER, [event_id(a.records[0]), event_id(b.records[0])])
    assert any("sequence numbers" in problem for problem in problems), problems
    assert any("the projection's steps" in problem for problem in problems), problems
    assert steps(cloud, ORDER)["notify"] == "RUNNING"  # A's outcome is gone from the projection


def test_a_commit_that_meets_another_in_progress_waits_reads_again_and_commits(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    held = held_until_both_outcomes(cloud, orders)
    a, b = the_two_outcomes(held)
    a_prepared, b_cancelled = threading.Event(), threading.Event()
    moves = Interleaving()
    # A's commit is in progress (its items held) until B's commit has met it...
    moves.in_window("A", signal_then_wait(a_prepared, b_cancelled))
    moves.at("B", COMMIT, wait(a_prepared))
    # ... and B, cancelled, pauses and reads the projection again: by then A has committed
    moves.at("B", LOAD, lambda: (b_cancelled.set(), wait(a.done)()), nth=2)
    cloud.faults = moves
    cloud.dynamodb.engine.on_prepared = moves.on_prepared
    run_together(a, b)
    # THEN DynamoDB cancelled B's first commit for the transaction in progress, and B committed next time
    assert cloud.dynamodb.engine.overlapped == {"TransactWriteItems": 1}
    assert a.failed_records() == []
    assert b.failed_records() == []
    assert moves.calls[("B", "dynamodb", "TransactWriteItems")] == 2
    handled = [event_id(a.records[0]), event_id(b.records[0])]
    assert history_problems(cloud, ORDER, handled) == []
    assert steps(cloud, ORDER)["notify"] == "COMPLETED"
    assert steps(cloud, ORDER)["inventory"] == "COMPLETED"
    finish(cloud, held)
    assert final_status(orders, ORDER) == "COMPLETED"
    assert history_problems(cloud, ORDER, handled) == []
    assert_nothing_lost(cloud)


def test_a_commit_contended_through_every_try_gives_its_record_back_and_the_redelivery_applies_it(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    held = held_until_both_outcomes(cloud, orders)
    a, b = the_two_outcomes(held)
    a_prepared = threading.Event()
    moves = Interleaving()
    # A's commit stays in progress until B's invocation is over
    moves.in_window("A", signal_then_wait(a_prepared, b.done))
    moves.at("B", COMMIT, wait(a_prepared))
    cloud.faults = moves
    cloud.dynamodb.engine.on_prepared = moves.on_prepared
    run_together(a, b)
    # THEN every one of B's tries was cancelled, and B gave its record back (a batch item failure)
    assert cloud.dynamodb.engine.overlapped == {"TransactWriteItems": CONTENDED_TRIES}
    assert b.failed_records() == [b.records[0]["messageId"]]
    assert a.failed_records() == []
    assert history_problems(cloud, ORDER, [event_id(a.records[0])]) == []
    assert steps(cloud, ORDER)["inventory"] == "RUNNING"
    # AND SQS redelivers it once its visibility timeout is over: then it is applied, once
    finish(cloud, held)
    handled = [event_id(a.records[0]), event_id(b.records[0])]
    assert history_problems(cloud, ORDER, handled) == []
    assert final_status(orders, ORDER) == "COMPLETED"
    assert_nothing_lost(cloud)


def test_one_event_delivered_twice_at_once_is_recorded_once_and_its_effects_are_run(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    held = held_until_both_outcomes(cloud, orders)
    controller = held.controller
    assert controller.deliver([held.beside["OrderConfirmationSent"]]).get("batchItemFailures") == []
    first = held.beside["InventoryReserved"]
    again = controller.receive_again(first)  # at-least-once: the same message, handed out a second time
    a, b = Invocation(controller, "A", [first]), Invocation(controller, "B", [again])
    both_read, a_committed = threading.Barrier(2), threading.Event()
    moves = Interleaving()
    moves.at("A", COMMIT, wait(both_read))
    # A commits, then stops before its first effect until B is done
    moves.at("A", not_dynamodb, signal_then_wait(a_committed, b.done))
    moves.at("B", COMMIT, lambda: (wait(both_read)(), wait(a_committed)()))
    cloud.faults = moves
    run_together(a, b)
    # THEN B found the event in the history (a duplicate), ran the effects A had not run yet, marked them
    assert a.failed_records() == []
    assert b.failed_records() == []
    assert moves.calls[("B", "dynamodb", "TransactWriteItems")] == 1
    assert moves.calls[("B", "dynamodb", "GetItem")] == 2  # the projection, then the history item
    _, history = workflow_items(cloud, ORDER)
    [entry] = [item for item in history if item["sk"] == f"EVT#{event_id(first)}"]
    assert entry["effectsDone"] is True
    assert history_problems(cloud, ORDER, [event_id(first)]) == []
    finish(cloud, held)
    assert final_status(orders, ORDER) == "COMPLETED"
    assert history_problems(cloud, ORDER, [event_id(first)]) == []
    assert_nothing_lost(cloud)


# --- inventory: two orders' reservations of one SKU's last unit ----------------------------------------
SKU = "SKU-RED-MUG"


def stock_problems(cloud: LocalCloud, orders: OrderDriver) -> list[str]:
    """Oversold stock: a negative count, or more reserved than was ever put on the shelf."""
    level = orders.stock_level(SKU)
    table = boto3.resource("dynamodb", region_name=cloud.region).Table(cloud.outputs["InventoryTableName"])
    reservations = [
        i for i in table.scan()["Items"] if str(i["pk"]).startswith("RES#") and i["status"] == "RESERVED"
    ]
    held = sum(int(line["quantity"]) for r in reservations for line in r["items"] if line["sku"] == SKU)
    problems = []
    if level["available"] < 0:
        problems.append(f"{SKU} has {level['available']} available")
    if level["available"] + level["reserved"] != orders.stocked[SKU]:
        problems.append(f"{SKU}: {level} does not add up to the {orders.stocked[SKU]} stocked")
    if held != level["reserved"] or held > orders.stocked[SKU]:
        problems.append(f"{SKU}: reservations hold {held}, the counter says {level['reserved']}")
    return problems


def race_for_the_last_unit(
    cloud: LocalCloud, orders: OrderDriver
) -> tuple[HeldQueue, Invocation, Invocation]:
    orders.stock({SKU: 1})
    inventory = HeldQueue(cloud, "inventory")
    for order_id in ("o-a", "o-b"):
        orders.submit_http(order_for(SCENARIOS["happy"], order_id, lines=1))
    triggers: dict[str, Any] = {}
    for _ in range(15):
        cloud.run_for(timedelta(seconds=20))
        for record in inventory.receive():
            assert detail_type(record) == "PaymentProcessed"
            triggers[json.loads(record["body"])["detail"]["metadata"]["correlationId"]] = record
        if len(triggers) == 2:
            break
    a = Invocation(inventory, "A", [triggers["o-a"]])
    b = Invocation(inventory, "B", [triggers["o-b"]])
    a_prepared, b_cancelled = threading.Event(), threading.Event()
    moves = Interleaving()
    # A's reservation is in progress on the SKU's counter when B's tries to take the same unit; B pauses
    # and tries again once A has committed
    moves.in_window("A", signal_then_wait(a_prepared, b_cancelled))
    moves.at("B", COMMIT, wait(a_prepared))
    moves.at("B", COMMIT, lambda: (b_cancelled.set(), wait(a.done)()), nth=2)
    cloud.faults = moves
    cloud.dynamodb.engine.on_prepared = moves.on_prepared
    run_together(a, b)
    assert cloud.dynamodb.engine.overlapped == {"TransactWriteItems": 1}
    return inventory, a, b


def test_two_reservations_of_the_last_unit_at_once_never_oversell(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    inventory, a, b = race_for_the_last_unit(cloud, orders)
    # THEN A took the unit; B, cancelled while A was in progress, tried again and found none left
    assert a.failed_records() == []
    assert b.failed_records() == []
    assert orders.stock_level(SKU) == {"available": 0, "reserved": 1}
    assert stock_problems(cloud, orders) == []
    # AND the orders end accordingly: one shipped, the other refunded for want of stock
    cloud.faults = Faults()
    cloud.dynamodb.engine.on_prepared = None
    inventory.resume()
    cloud.run_until_quiescent()
    assert final_status(orders, "o-a") == "COMPLETED"
    assert final_status(orders, "o-b") == "COMPENSATED"
    assert stock_problems(cloud, orders) == []
    assert_nothing_lost(cloud)


def test_without_the_stock_condition_the_same_race_oversells(
    cloud: LocalCloud, orders: OrderDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN inventory (as loaded from its asset) taking stock without checking that enough is available
    service = sys.modules["inventory.reservations"].InventoryService
    take_stock = service._take_stock

    def unchecked(self: Any, sku: str, quantity: int) -> dict[str, Any]:
        update = take_stock(self, sku, quantity)
        update["Update"]["ConditionExpression"] = "attribute_exists(pk)"
        return dict(update)

    monkeypatch.setattr(service, "_take_stock", unchecked)
    _, _, b = race_for_the_last_unit(cloud, orders)
    assert b.failed_records() == []
    # THEN the check above sees the oversold unit
    assert orders.stock_level(SKU) == {"available": -1, "reserved": 2}
    problems = stock_problems(cloud, orders)
    assert any("-1 available" in problem for problem in problems), problems
