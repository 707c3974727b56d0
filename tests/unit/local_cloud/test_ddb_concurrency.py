"""The engine called from several threads: atomic calls, and transactions that are in progress.

DynamoDB runs a TransactWriteItems in two phases; between its prepare and its commit the transaction is
in progress on its items, and DynamoDB documents what meets it there ("Transaction conflict handling in
DynamoDB"): another TransactWriteItems (or a TransactGetItems) that includes one of them is cancelled with
a ``TransactionConflict`` reason for it, a PutItem, UpdateItem or DeleteItem of one of them is refused with
``TransactionConflictException``, a GetItem succeeds and sees the item as it was. Here a transaction is
held in that window by the engine's ``on_prepared`` hook while another thread calls, so each overlap is
forced, never hoped for.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.unit.local_cloud.test_ddb_boto3 import REGION, describer, wire
from tests.unit.local_cloud.test_ddb_conflicts import CONFLICT_REASON
from tests.unit.local_cloud.test_ddb_engine import Engine, nv, sv
from workflowkit.ddb import DynamoEngine, writes

WAIT = 10.0  # seconds any step may take before the test calls it a hang


def key(sk: str) -> dict[str, Any]:
    return {"pk": sv("a"), "sk": sv(sk)}


def put(sk: str, value: str, condition: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"TableName": "t", "Item": {**key(sk), "n": sv(value)}}
    if condition:
        action["ConditionExpression"] = condition
    return {"Put": action}


class HeldTransaction:
    """A TransactWriteItems run on its own thread and held between its prepare and its commit."""

    def __init__(self, engine: DynamoEngine, items: list[dict[str, Any]]) -> None:
        self.engine = engine
        self.prepared = threading.Event()
        self.release = threading.Event()
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.fail_in_window: BaseException | None = None
        self.error: BaseException | None = None
        engine.on_prepared = self._in_window
        self._thread = threading.Thread(target=self._run, args=(items,), name="held-transaction")

    def _in_window(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        if threading.current_thread() is not self._thread:
            return  # another thread's transaction commits at once
        self.held = items
        self.prepared.set()
        assert self.release.wait(WAIT), "the test never let the transaction commit"
        if self.fail_in_window is not None:
            raise self.fail_in_window

    def _run(self, items: list[dict[str, Any]]) -> None:
        try:
            self.answer = self.engine.handle("TransactWriteItems", {"TransactItems": items})
        except BaseException as error:  # the hook's failure, seen by the writer
            self.error = error
        finally:
            self.prepared.set()  # a transaction cancelled at once never reaches its window

    def __enter__(self) -> HeldTransaction:
        self._thread.start()
        assert self.prepared.wait(WAIT)
        assert self.answer is None, f"the transaction did not reach its window: {self.answer}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive()


@pytest.fixture
def engine() -> Engine:
    e = Engine()
    e.put(pk=sv("a"), sk=sv("1"), n=sv("old"))
    return e


def test_a_transaction_in_progress_cancels_another_transaction_on_its_item(engine: Engine) -> None:
    with HeldTransaction(engine.impl, [put("1", "first"), put("2", "first")]) as first:
        assert first.held == [("t", key("1")), ("t", key("2"))]
        # WHEN another writer's transaction includes item 1 while the first is in progress
        body = engine.error("TransactWriteItems", TransactItems=[put("3", "second"), put("1", "second")])
        # THEN it is cancelled for that item, the other item has nothing wrong, and nothing is stored
        assert body["Error"]["Code"] == "TransactionCanceledException"
        assert body["Error"]["Message"].endswith("[None, TransactionConflict]")
        assert body["CancellationReasons"] == [{"Code": "None"}, CONFLICT_REASON]
        assert engine.ok("GetItem", TableName="t", Key=key("3")) == {}
    # AND the first transaction commits as prepared
    assert first.answer is not None
    assert first.answer[0] == 200
    assert engine.ok("GetItem", TableName="t", Key=key("1"))["Item"]["n"] == sv("first")
    assert engine.ok("GetItem", TableName="t", Key=key("2"))["Item"]["n"] == sv("first")
    assert engine.impl.overlapped == {"TransactWriteItems": 1}
    assert engine.impl.contended == {"TransactWriteItems": 1}


def test_the_cancelled_transaction_s_own_condition_failures_are_still_reported(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("3"), n=sv("there"))
    with HeldTransaction(engine.impl, [put("1", "first")]):
        body = engine.error(
            "TransactWriteItems",
            TransactItems=[put("1", "second"), put("3", "second", "attribute_not_exists(pk)")],
        )
    assert [r["Code"] for r in body["CancellationReasons"]] == [
        "TransactionConflict",
        "ConditionalCheckFailed",
    ]


@pytest.mark.parametrize(
    ("operation", "request_"),
    [
        ("PutItem", {"TableName": "t", "Item": {**key("1"), "n": sv("single")}}),
        (
            "UpdateItem",
            {
                "TableName": "t",
                "Key": key("1"),
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": sv("single")},
            },
        ),
        ("DeleteItem", {"TableName": "t", "Key": key("1")}),
    ],
)
def test_a_single_write_on_an_item_a_transaction_in_progress_holds_is_refused(
    engine: Engine, operation: str, request_: dict[str, Any]
) -> None:
    with HeldTransaction(engine.impl, [put("1", "first")]):
        body = engine.error(operation, **request_)
        assert body["Error"] == {
            "Code": "TransactionConflictException",
            "Message": "Transaction is ongoing for the item",
        }
        # a write of another item goes through meanwhile
        engine.put(pk=sv("a"), sk=sv("9"), n=sv("elsewhere"))
    assert engine.ok("GetItem", TableName="t", Key=key("1"))["Item"]["n"] == sv("first")
    assert engine.impl.overlapped == {operation: 1}
    # once committed, nothing holds the item any more
    engine.ok(operation, **request_)


def test_reads_see_the_item_as_last_committed_while_a_transaction_is_in_progress(engine: Engine) -> None:
    with HeldTransaction(engine.impl, [put("1", "first"), put("2", "first")]):
        assert engine.ok("GetItem", TableName="t", Key=key("1"))["Item"]["n"] == sv("old")
        assert engine.ok("GetItem", TableName="t", Key=key("2")) == {}
        found = engine.ok(
            "Query",
            TableName="t",
            KeyConditionExpression="pk = :a",
            ExpressionAttributeValues={":a": sv("a")},
        )
        assert [item["n"] for item in found["Items"]] == [sv("old")]
    assert engine.impl.overlapped == {}


def test_a_transactional_read_of_an_item_in_progress_is_cancelled(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("3"), n=sv("there"))
    with HeldTransaction(engine.impl, [put("1", "first")]):
        body = engine.error(
            "TransactGetItems",
            TransactItems=[
                {"Get": {"TableName": "t", "Key": key("3")}},
                {"Get": {"TableName": "t", "Key": key("1")}},
            ],
        )
    assert body["CancellationReasons"] == [{"Code": "None"}, CONFLICT_REASON]
    assert engine.impl.overlapped == {"TransactGetItems": 1}


def test_a_batch_write_leaves_an_item_in_progress_unprocessed_and_writes_the_others(engine: Engine) -> None:
    held_put = {"PutRequest": {"Item": {**key("1"), "n": sv("batch")}}}
    free_put = {"PutRequest": {"Item": {**key("5"), "n": sv("batch")}}}
    with HeldTransaction(engine.impl, [put("1", "first")]):
        body = engine.ok("BatchWriteItem", RequestItems={"t": [held_put, free_put]})
        assert body == {"UnprocessedItems": {"t": [held_put]}}
        assert engine.ok("GetItem", TableName="t", Key=key("5"))["Item"]["n"] == sv("batch")
    # the transaction's write is not overwritten by the batch; sent again, the batch item lands
    assert engine.ok("GetItem", TableName="t", Key=key("1"))["Item"]["n"] == sv("first")
    assert engine.ok("BatchWriteItem", RequestItems={"t": [held_put]}) == {"UnprocessedItems": {}}
    assert engine.ok("GetItem", TableName="t", Key=key("1"))["Item"]["n"] == sv("batch")


def test_only_a_prepared_transaction_holds_its_items(engine: Engine) -> None:
    with HeldTransaction(engine.impl, [put("1", "first")]):
        # cancelled on item 1, this transaction never held item 2
        engine.error("TransactWriteItems", TransactItems=[put("1", "second"), put("2", "second")])
        engine.put(pk=sv("a"), sk=sv("2"), n=sv("single"))
    # a transaction whose condition failed held nothing either
    engine.error("TransactWriteItems", TransactItems=[put("1", "again", "attribute_not_exists(pk)")])
    engine.put(pk=sv("a"), sk=sv("1"), n=sv("single"))


def test_a_writer_that_fails_in_its_window_stores_nothing_and_holds_nothing(engine: Engine) -> None:
    held = HeldTransaction(engine.impl, [put("1", "first"), put("2", "first")])
    held.fail_in_window = RuntimeError("the writer went away")
    with held:
        pass
    assert isinstance(held.error, RuntimeError)
    assert engine.ok("GetItem", TableName="t", Key=key("1"))["Item"]["n"] == sv("old")
    assert engine.ok("GetItem", TableName="t", Key=key("2")) == {}
    engine.put(pk=sv("a"), sk=sv("1"), n=sv("single"))
    engine.put(pk=sv("a"), sk=sv("2"), n=sv("single"))


def test_a_transaction_in_one_thread_commits_without_a_window_anyone_meets(engine: Engine) -> None:
    seen: list[list[tuple[str, dict[str, Any]]]] = []
    engine.impl.on_prepared = seen.append
    engine.ok("TransactWriteItems", TransactItems=[put("1", "first")])
    engine.put(pk=sv("a"), sk=sv("1"), n=sv("next"))
    assert seen == [[("t", key("1"))]]
    assert engine.impl.overlapped == {}
    assert engine.impl.contended == {}


# --- each call is atomic ------------------------------------------------------------------------------
class _NoLock:
    """What the engine's lock would be if calls were not serialised."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _race_two_increments(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> int:
    """Two threads each add 1 to one counter; both are made to read it before either writes, if they can.

    Inside the write (after reading the item, before storing it) each thread waits for the other at a
    barrier: threads that can be inside a write at the same time both pass it and both read 0; if the
    engine serialises calls, the second cannot get in, the first gives up waiting and stores 1, and the
    second reads 1.
    """
    engine.put(pk=sv("a"), sk=sv("c"), hits=nv(0))
    barrier = threading.Barrier(2)
    execute: Callable[..., Any] = writes.execute

    def execute_meeting_the_other(write: writes.Write) -> Any:
        result = execute(write)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=0.5)
        return result

    monkeypatch.setattr(writes, "execute", execute_meeting_the_other)
    request = {
        "TableName": "t",
        "Key": key("c"),
        "UpdateExpression": "ADD hits :one",
        "ExpressionAttributeValues": {":one": nv(1)},
    }
    answers: list[int] = []

    def increment() -> None:
        answers.append(engine.impl.handle("UpdateItem", request)[0])

    threads = [threading.Thread(target=increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    monkeypatch.undo()
    assert answers == [200, 200]
    return int(engine.ok("GetItem", TableName="t", Key=key("c"))["Item"]["hits"]["N"])


def test_two_threads_updating_one_item_never_lose_an_update(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _race_two_increments(engine, monkeypatch) == 2


def test_without_the_engine_s_lock_the_same_race_loses_an_update(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check above can fail: calls that are not serialised lose one of the two increments.
    engine.impl._lock = _NoLock()  # type: ignore[assignment]
    assert _race_two_increments(engine, monkeypatch) == 1


# --- through boto3: the exception classes a handler sees -----------------------------------------------
@pytest.fixture
def client() -> Iterator[tuple[Any, DynamoEngine]]:
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
        yield wire(boto3.client("dynamodb", region_name=REGION), engine), engine


def test_boto3_raises_the_documented_exceptions_when_a_transaction_is_in_progress(
    client: tuple[Any, DynamoEngine],
) -> None:
    dynamodb, engine = client
    with HeldTransaction(engine, [put("1", "first")]):
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
            dynamodb.transact_write_items(TransactItems=[put("1", "second")])
        assert cancelled.value.response["CancellationReasons"] == [CONFLICT_REASON]
        with pytest.raises(dynamodb.exceptions.TransactionConflictException) as refused:
            dynamodb.put_item(TableName="t", Item={**key("1"), "n": sv("single")})
        assert refused.value.response["Error"]["Message"] == "Transaction is ongoing for the item"
    assert dynamodb.get_item(TableName="t", Key=key("1"))["Item"]["n"] == sv("first")
