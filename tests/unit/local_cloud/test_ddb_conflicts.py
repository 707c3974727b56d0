"""Contention in the engine: what DynamoDB answers when another writer is busy on an item.

An in-process engine never meets contention by itself (a transaction is over before the next call
starts); an item fault says an item is busy, and the engine must then answer exactly as DynamoDB does:
TransactionCanceledException with a ``TransactionConflict`` reason for that item and ``None`` for the
others, or TransactionConflictException for a single-item write on an item a transaction holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.unit.local_cloud.test_ddb_boto3 import REGION, describer, wire
from tests.unit.local_cloud.test_ddb_engine import Engine, sv
from workflowkit.ddb import DynamoEngine
from workflowkit.faults import Faults, TransactionConflicts

CONFLICT_REASON = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}


class Busy:
    """An item fault: the listed (table, pk, sk) items are busy; records every question."""

    def __init__(self, *busy: tuple[str, str, str], code: str = "TransactionConflict") -> None:
        self.busy = set(busy)
        self.code = code
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, operation: str, table: str, key: dict[str, Any]) -> str | None:
        self.asked.append((operation, table, key))
        return self.code if (table, key["pk"]["S"], key["sk"]["S"]) in self.busy else None


@pytest.fixture
def engine() -> Engine:
    return Engine()


def two_puts(condition_on_second: str | None = None) -> list[dict[str, Any]]:
    second: dict[str, Any] = {"TableName": "t", "Item": {"pk": sv("a"), "sk": sv("2"), "n": sv("new")}}
    if condition_on_second:
        second["ConditionExpression"] = condition_on_second
    return [
        {"Put": {"TableName": "t", "Item": {"pk": sv("a"), "sk": sv("1"), "n": sv("new")}}},
        {"Put": second},
    ]


def test_a_busy_item_cancels_the_transaction_with_a_conflict_reason_and_none_for_the_others(
    engine: Engine,
) -> None:
    busy = Busy(("t", "a", "1"))
    engine.impl.item_faults = busy
    body = engine.error("TransactWriteItems", TransactItems=two_puts())
    assert body["Error"] == {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[TransactionConflict, None]",
    }
    assert body["CancellationReasons"] == [CONFLICT_REASON, {"Code": "None"}]
    assert body["Message"] == body["Error"]["Message"]
    # nothing was written, and every item was asked about, with its key in wire form
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("2")}) == {}
    assert busy.asked == [
        ("TransactWriteItems", "t", {"pk": sv("a"), "sk": sv("1")}),
        ("TransactWriteItems", "t", {"pk": sv("a"), "sk": sv("2")}),
    ]
    assert engine.impl.contended == {"TransactWriteItems": 1}


def test_the_other_items_still_report_their_own_condition_failures(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("2"), n=sv("old"))
    engine.impl.item_faults = Busy(("t", "a", "1"))
    body = engine.error("TransactWriteItems", TransactItems=two_puts("attribute_not_exists(pk)"))
    assert [r["Code"] for r in body["CancellationReasons"]] == [
        "TransactionConflict",
        "ConditionalCheckFailed",
    ]


def test_a_transaction_is_refused_for_being_invalid_before_any_item_is_asked_about(engine: Engine) -> None:
    busy = Busy(("t", "a", "1"))
    engine.impl.item_faults = busy
    items = two_puts()
    items[1]["Put"]["Item"]["pk"] = {"N": "1"}  # the wrong key type: the whole request is invalid
    body = engine.error("TransactWriteItems", TransactItems=items)
    assert body["Error"]["Code"] == "ValidationException"
    assert busy.asked == []


def test_throttling_cancels_with_dynamodbs_throttling_reason(engine: Engine) -> None:
    engine.impl.item_faults = Busy(("t", "a", "2"), code="ThrottlingError")
    body = engine.error("TransactWriteItems", TransactItems=two_puts())
    first, second = body["CancellationReasons"]
    assert first == {"Code": "None"}
    assert second["Code"] == "ThrottlingError"
    assert second["Message"].startswith("Throughput exceeds the current capacity of your table or index.")


def test_a_single_write_conflicts_only_on_an_item_that_transactions_write(engine: Engine) -> None:
    busy = Busy(("t", "a", "1"), ("t", "b", "1"))
    engine.impl.item_faults = busy
    # an item no transaction ever included: nothing can hold it, the fault is not even asked
    engine.put(pk=sv("b"), sk=sv("1"))
    assert busy.asked == []
    # an item a transaction included (cancelled or not) can be held by the next one
    engine.error("TransactWriteItems", TransactItems=two_puts())
    busy.asked.clear()
    for operation, request in [
        ("PutItem", {"Item": {"pk": sv("a"), "sk": sv("1")}}),
        (
            "UpdateItem",
            {
                "Key": {"pk": sv("a"), "sk": sv("1")},
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": sv("x")},
            },
        ),
        ("DeleteItem", {"Key": {"pk": sv("a"), "sk": sv("1")}}),
    ]:
        body = engine.error(operation, TableName="t", **request)
        assert body["Error"] == {
            "Code": "TransactionConflictException",
            "Message": "Transaction is ongoing for the item",
        }
        assert body["message"] == "Transaction is ongoing for the item"
    assert [a[0] for a in busy.asked] == ["PutItem", "UpdateItem", "DeleteItem"]
    # the other item of that transaction is not busy: its writes go through
    engine.put(pk=sv("a"), sk=sv("2"), n=sv("written"))
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")}) == {}


def test_a_single_write_cannot_be_throttled_through_an_item_fault(engine: Engine) -> None:
    engine.impl.item_faults = Busy(("t", "a", "1"), code="ThrottlingError")
    engine.error("TransactWriteItems", TransactItems=two_puts())
    with pytest.raises(ValueError, match="can only be TransactionConflict"):
        engine.impl.handle("PutItem", {"TableName": "t", "Item": {"pk": sv("a"), "sk": sv("1")}})


def test_a_transactional_read_of_a_busy_item_is_cancelled(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"))
    engine.impl.item_faults = Busy(("t", "a", "2"))
    body = engine.error(
        "TransactGetItems",
        TransactItems=[
            {"Get": {"TableName": "t", "Key": {"pk": sv("a"), "sk": sv("1")}}},
            {"Get": {"TableName": "t", "Key": {"pk": sv("a"), "sk": sv("2")}}},
        ],
    )
    assert body["CancellationReasons"] == [{"Code": "None"}, CONFLICT_REASON]


def test_without_an_item_fault_nothing_is_ever_busy(engine: Engine) -> None:
    engine.ok("TransactWriteItems", TransactItems=two_puts())
    engine.put(pk=sv("a"), sk=sv("1"), n=sv("again"))
    assert engine.impl.contended == {}


# --- through boto3: the exception classes and fields a handler sees ----------------------------------
@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        control = boto3.client("dynamodb", region_name=REGION)
        control.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        engine = DynamoEngine(describer(control))
        engine.item_faults = Busy(("t", "a", "1"))
        yield wire(boto3.client("dynamodb", region_name=REGION), engine)


def test_boto3_raises_transaction_canceled_with_the_conflict_in_its_cancellation_reasons(client: Any) -> None:
    with pytest.raises(client.exceptions.TransactionCanceledException) as raised:
        client.transact_write_items(TransactItems=two_puts())
    response = raised.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [CONFLICT_REASON, {"Code": "None"}]
    assert "[TransactionConflict, None]" in str(raised.value)


def test_boto3_raises_transaction_conflict_for_a_single_write_on_a_held_item(client: Any) -> None:
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=two_puts())
    with pytest.raises(client.exceptions.TransactionConflictException) as raised:
        client.update_item(
            TableName="t",
            Key={"pk": sv("a"), "sk": sv("1")},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": sv("x")},
        )
    assert raised.value.response["Error"] == {
        "Code": "TransactionConflictException",
        "Message": "Transaction is ongoing for the item",
    }


# --- the fault that produces it ----------------------------------------------------------------------
def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": sv(pk), "sk": sv(sk)}


def test_the_default_faults_never_say_an_item_is_busy() -> None:
    assert Faults().dynamodb_item("TransactWriteItems", "t", key("a", "1")) is None


def test_conflicts_are_drawn_from_their_own_seed_and_repeat_for_it() -> None:
    def draws(seed: int) -> list[str | None]:
        faults = TransactionConflicts(rate=0.5, seed=seed)
        return [faults.dynamodb_item("TransactWriteItems", "t", key("a", str(n))) for n in range(64)]

    first = draws(3)
    assert first == draws(3)
    assert first != draws(4)
    assert 16 < first.count("TransactionConflict") < 48


def test_conflicts_can_be_narrowed_to_items_operations_and_a_count() -> None:
    faults = TransactionConflicts(rate=1.0, where=lambda _op, _table, k: k["sk"]["S"] == "STATE", limit=2)
    assert faults.dynamodb_item("TransactWriteItems", "t", key("WF#1", "EVT#x")) is None
    assert faults.dynamodb_item("TransactGetItems", "t", key("WF#1", "STATE")) is None  # not a write
    assert faults.dynamodb_item("TransactWriteItems", "t", key("WF#1", "STATE")) == "TransactionConflict"
    assert faults.dynamodb_item("UpdateItem", "t", key("WF#1", "STATE")) == "TransactionConflict"
    assert faults.dynamodb_item("TransactWriteItems", "t", key("WF#1", "STATE")) is None  # limit reached
    assert faults.conflicts == {"TransactWriteItems": 1, "UpdateItem": 1}


def test_throttling_faults_touch_transactions_only() -> None:
    faults = TransactionConflicts(rate=1.0, code="ThrottlingError")
    assert faults.dynamodb_item("PutItem", "t", key("a", "1")) is None
    assert faults.dynamodb_item("TransactWriteItems", "t", key("a", "1")) == "ThrottlingError"


def test_a_rate_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TransactionConflicts(rate=1.5)
