"""The controller when DynamoDB refuses its writes for contention (docs/decisions/0019).

Real DynamoDB cancels a transaction with a ``TransactionConflict`` reason when another transaction is in
progress on one of its items, and refuses a single write on an item a transaction holds with
``TransactionConflictException``. moto never does; the local cloud's engine does when told which items
are busy, so here the controller's DynamoDB client is answered by that engine (over moto's tables).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from controller import handler as controller_handler
from controller.service import Controller
from order_workflow import events as ev
from tests.factories import LambdaContext, domain_event, sqs_batch
from tests.unit.controller.test_controller_handler import (  # noqa: F401 - the aws fixture
    ORDER,
    REGION,
    TABLE,
    aws,
    published,
    submitted_event,
)
from tests.unit.local_cloud.test_ddb_boto3 import describer, wire
from workflow_core.contention import Backoff, ContendedWriteError
from workflow_core.errors import RetryableError
from workflow_core.workflow_state import workflow_pk
from workflowkit.ddb import DynamoEngine
from workflowkit.faults import TransactionConflicts


def state_item(_operation: str, _table: str, key: dict[str, Any]) -> bool:
    return bool(key["sk"]["S"] == "STATE")


class Pauses:
    """The backoff's sleep: records each pause instead of sleeping; may act while "the other writer" works."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.during: list[Any] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.during:
            self.during.pop(0)()


@pytest.fixture
def engine(aws: dict[str, Any]) -> DynamoEngine:  # noqa: F811 - the aws fixture
    return DynamoEngine(describer(boto3.client("dynamodb", region_name=REGION)))


@pytest.fixture
def pauses() -> Pauses:
    return Pauses()


@pytest.fixture
def controller(engine: DynamoEngine, pauses: Pauses, monkeypatch: pytest.MonkeyPatch) -> Controller:
    client = wire(boto3.client("dynamodb", region_name=REGION), engine)
    built = controller_handler.build_controller(clients={"dynamodb": client})
    built._backoff = Backoff(sleep=pauses)
    monkeypatch.setattr(controller_handler, "controller", built)
    return built


def history(engine: DynamoEngine) -> list[str]:
    status, body = engine.handle(
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": workflow_pk(ORDER.order_id)}},
        },
    )
    assert status == 200
    return [item["sk"]["S"] for item in body["Items"]]


def payment_processed() -> Any:
    data = ev.PaymentProcessed(order_id=ORDER.order_id, payment_id="p", amount_minor=1, currency="EUR")
    return domain_event("PaymentProcessed", data, event_id="pp")


def test_a_commit_cancelled_by_transaction_conflicts_is_retried_within_the_invocation(
    aws: dict[str, Any],  # noqa: F811 - the aws fixture
    engine: DynamoEngine,
    controller: Controller,
    pauses: Pauses,
) -> None:
    # GIVEN another transaction holds the workflow's STATE item for the controller's first three commits
    faults = TransactionConflicts(rate=1.0, where=state_item, operations={"TransactWriteItems"}, limit=3)
    engine.item_faults = faults.dynamodb_item
    # WHEN an OrderSubmitted arrives
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    # THEN the record succeeds in this invocation: three cancelled commits, each after a jittered pause
    assert response == {"batchItemFailures": []}
    assert engine.contended == {"TransactWriteItems": 3}
    assert len(pauses.seconds) == 3
    assert all(0 <= s <= cap for s, cap in zip(pauses.seconds, (0.02, 0.04, 0.08), strict=True))
    # AND the event was applied once: one history entry, one WorkflowStarted, one payment execution
    assert sorted(history(engine)) == ["EVT#sub-1", "STATE"]
    assert published(aws) == ["WorkflowStarted"]
    assert len(aws["sfn"].list_executions(stateMachineArn=aws["machine_arn"])["executions"]) == 1


def test_the_decision_is_made_again_on_what_the_other_writer_committed(
    engine: DynamoEngine, controller: Controller, pauses: Pauses
) -> None:
    # GIVEN a started workflow, its payment running
    controller.handle(
        domain_event("OrderSubmitted", ev.OrderSubmitted.model_validate(ORDER.model_dump()), event_id="s")
    )
    # AND an InventoryReserved whose first commit is cancelled because another transaction holds STATE:
    # that other writer is the workflow's PaymentProcessed, which commits while the controller backs off
    engine.item_faults = TransactionConflicts(
        rate=1.0, where=state_item, operations={"TransactWriteItems"}, limit=1
    ).dynamodb_item
    pauses.during.append(lambda: controller.handle(payment_processed()))
    inventory_reserved = domain_event(
        "InventoryReserved",
        ev.InventoryReserved(order_id=ORDER.order_id, reservation_id="r"),
        event_id="ir",
    )
    outcome = controller.handle(inventory_reserved)
    # THEN the retry decided on the state that includes the payment (the first decision, made while
    # payment was still running, was not sent again): inventory completed and shipping started
    assert len(pauses.seconds) == 1
    assert outcome.status == "RUNNING"
    snapshot = controller._store.load(ORDER.order_id)
    assert snapshot.version == 3
    assert snapshot.state is not None
    assert {n: s.status.value for n, s in snapshot.state.steps.items()} == {
        "payment": "COMPLETED",
        "inventory": "COMPLETED",
        "shipping": "RUNNING",
        "notify": "RUNNING",  # order v2: started beside inventory once paid; nobody answered it here
    }
    # AND the history holds each event once, in the order they committed
    assert history_sequence(engine) == {"EVT#s": 1, "EVT#pp": 2, "EVT#ir": 3}


def test_conflicts_that_outlast_the_retries_fail_the_record_retryably_and_write_nothing(
    aws: dict[str, Any],  # noqa: F811 - the aws fixture
    engine: DynamoEngine,
    controller: Controller,
    pauses: Pauses,
) -> None:
    faults = TransactionConflicts(rate=1.0, where=state_item, operations={"TransactWriteItems"})
    engine.item_faults = faults.dynamodb_item
    with pytest.raises(ContendedWriteError) as raised:
        controller.handle(
            domain_event(
                "OrderSubmitted", ev.OrderSubmitted.model_validate(ORDER.model_dump()), event_id="sub-1"
            )
        )
    assert isinstance(raised.value, RetryableError)
    assert "TransactionConflict" in str(raised.value)
    attempts = Backoff().attempts
    assert engine.contended == {"TransactWriteItems": attempts}
    assert len(pauses.seconds) == attempts - 1  # bounded: no pause after the last attempt
    assert history(engine) == []
    assert published(aws) == []
    # AND through the handler the record is a batch item failure (SQS redelivers it), not a crash
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    # WHEN the other writer is done and SQS redelivers the record
    faults.rate = 0.0
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    # THEN it is applied exactly once
    assert response == {"batchItemFailures": []}
    assert sorted(history(engine)) == ["EVT#sub-1", "STATE"]
    assert published(aws) == ["WorkflowStarted"]


def test_throttling_reasons_are_retried_like_conflicts(
    aws: dict[str, Any],  # noqa: F811 - the aws fixture
    engine: DynamoEngine,
    controller: Controller,
    pauses: Pauses,
) -> None:
    engine.item_faults = TransactionConflicts(
        rate=1.0, where=state_item, limit=2, code="ThrottlingError"
    ).dynamodb_item
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert len(pauses.seconds) == 2
    assert published(aws) == ["WorkflowStarted"]


def test_marking_effects_done_is_retried_when_a_transaction_holds_the_history_item(
    aws: dict[str, Any],  # noqa: F811 - the aws fixture
    engine: DynamoEngine,
    controller: Controller,
    pauses: Pauses,
) -> None:
    # GIVEN the history item is held (a redelivery of the same event committing at the same moment)
    # when the controller marks the effects done
    faults = TransactionConflicts(rate=1.0, operations={"UpdateItem"}, limit=2)
    engine.item_faults = faults.dynamodb_item
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    # THEN the mark is retried, the effects ran once and are recorded as done
    assert response == {"batchItemFailures": []}
    assert faults.conflicts == {"UpdateItem": 2}
    assert published(aws) == ["WorkflowStarted"]
    entry = controller._store.history_entry(ORDER.order_id, "sub-1")
    assert entry is not None
    assert entry.effects_done


def test_a_duplicate_is_recognised_even_when_the_state_item_is_busy(
    aws: dict[str, Any],  # noqa: F811 - the aws fixture
    engine: DynamoEngine,
    controller: Controller,
    pauses: Pauses,
) -> None:
    controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    engine.item_faults = TransactionConflicts(rate=1.0, where=state_item).dynamodb_item
    # the redelivery's transaction: [TransactionConflict (STATE), ConditionalCheckFailed (history)]
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert pauses.seconds == []  # a duplicate needs no retry
    assert published(aws) == ["WorkflowStarted"]


def history_sequence(engine: DynamoEngine) -> dict[str, int]:
    """Each history item's sequence number, by sort key."""
    status, body = engine.handle(
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :evt)",
            "ExpressionAttributeValues": {":pk": {"S": workflow_pk(ORDER.order_id)}, ":evt": {"S": "EVT#"}},
        },
    )
    assert status == 200
    return {item["sk"]["S"]: int(item["seq"]["N"]) for item in body["Items"]}
