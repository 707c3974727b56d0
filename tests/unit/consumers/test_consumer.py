"""The shared consumer shape: batch processing, its failure hook, idempotency expiry, routing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from notification.notices import TEMPLATES, NotificationService
from order_workflow import ORDER_WORKFLOW
from tests.unit.consumers.consumer_support import LambdaContext
from workflow_core import consumer
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, IdempotentHandler, process_batch
from workflow_core.errors import ConcurrentUpdateError, InvalidEventError
from workflow_core.publisher import RecordingPublisher
from workflow_core.registry import deployed, parse_event

MakeEvent = Callable[..., dict[str, Any]]


def fail_one_order(order_id: str) -> Callable[[DomainEvent], None]:
    def handle(event: DomainEvent) -> None:
        if event.correlation_id == order_id:
            raise ConcurrentUpdateError("lost a race")

    return handle


def test_on_failure_is_called_with_the_error_type_of_every_failed_record(
    eventbridge_event: MakeEvent, sqs_batch: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a batch: not JSON, a malformed event, one whose handler raises, and a good one
    batch = sqs_batch(
        "{",
        eventbridge_event("payment_processed_malformed"),
        eventbridge_event("payment_processed", event_id="evt-racing", order_id="ord-racing"),
        eventbridge_event("payment_processed"),
    )
    failures: list[str] = []
    # WHEN it is processed with a failure hook
    response = process_batch(
        batch,
        LambdaContext(),
        handle=fail_one_order("ord-racing"),
        logger=Logger(service="consumer-test"),
        on_failure=failures.append,
    )
    # THEN the hook saw each failed record once, by error type, and the good one succeeded
    assert response == {"batchItemFailures": [{"itemIdentifier": f"msg-{i}"} for i in range(3)]}
    assert failures == ["MalformedEventError", "MalformedEventError", "ConcurrentUpdateError"]


def test_process_batch_works_without_a_hook_and_a_failing_hook_changes_no_outcome(
    eventbridge_event: MakeEvent, sqs_batch: Callable[..., dict[str, Any]]
) -> None:
    batch = sqs_batch("{", eventbridge_event("payment_processed"))
    expected = {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    logger = Logger(service="consumer-test")
    assert process_batch(batch, LambdaContext(), handle=lambda _: None, logger=logger) == expected

    def broken_hook(error_type: str) -> None:
        raise RuntimeError(f"metrics are down ({error_type})")

    response = process_batch(
        batch, LambdaContext(), handle=lambda _: None, logger=logger, on_failure=broken_hook
    )
    assert response == expected


@pytest.mark.usefixtures("aws")
def test_idempotency_records_outlive_the_bus_archive_replay_window() -> None:
    # A replayed event keeps its eventId: its record must still exist when the archive can replay it.
    from infra.constructs.defaults import ARCHIVE_RETENTION  # noqa: PLC0415 - CDK only for this test

    archive = timedelta(days=ARCHIVE_RETENTION.to_days())
    assert archive == consumer.ARCHIVE_RETENTION
    handler = IdempotentHandler(
        lambda _: None, persistence_store=DynamoDBPersistenceLayer(table_name="idempotency"), key_prefix="t"
    )
    expiry = timedelta(seconds=handler.config.expires_after_seconds)
    assert expiry > archive
    assert expiry == timedelta(days=35)


def test_the_router_dispatches_by_detail_type_and_refuses_the_rest(eventbridge_event: MakeEvent) -> None:
    router: EventRouter[str] = EventRouter()
    router.on("PaymentProcessed")(lambda event: event.event_id)
    assert router.dispatch(parse_event(json.dumps(eventbridge_event("payment_processed")))) == (
        "evt-payment-processed"
    )
    with pytest.raises(InvalidEventError):
        router.dispatch(parse_event(json.dumps(eventbridge_event("inventory_release_requested"))))
    with pytest.raises(ValueError, match="already has a handler"):
        router.on("PaymentProcessed")(lambda event: "again")


def test_the_notification_router_handles_exactly_what_the_workflow_notifies_on() -> None:
    service = NotificationService(
        table=None,
        sns_client=None,
        topic_arn="arn:aws:sns:eu-west-1:123456789012:t",
        publisher=RecordingPublisher(),
    )
    # The order workflow is the only one that subscribes notification (onboarding has its own notices).
    served = {d.name for d in deployed().definitions if "notification" in d.consumer_subscriptions()}
    assert served == {"order"}
    # Every live version's subscriptions: the outcomes it notifies on, and v2's notify step.
    subscribed = {t for d in deployed().versions("order") for t in d.consumer_subscriptions()["notification"]}
    assert set(service.router.detail_types) == subscribed
    assert set(ORDER_WORKFLOW.consumer_subscriptions()["notification"]) == set(TEMPLATES)


def test_two_threads_taking_their_first_event_at_once_share_one_idempotency_config(monkeypatch) -> None:
    handler = IdempotentHandler(lambda event: None, persistence_store=lambda: None, key_prefix="t")  # type: ignore[arg-type,return-value]
    made = handler._new_config

    def slow_config():  # widens the window two threads could both build one in
        time.sleep(0.05)
        return made()

    monkeypatch.setattr(handler, "_new_config", slow_config)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(handler.config)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 2
    assert seen[0] is seen[1]
