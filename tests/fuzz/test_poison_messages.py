"""Poison messages end to end: broken events put on the bus, delivered by the app's own rules to the
controller's and the consumers' queues, polled by the event-source mappings, redelivered on virtual time.

THEN no consumer crash-loops: each delivery of an event that breaks the contract is received exactly the
queue's ``maxReceiveCount`` times (its redrive policy, read from the deployed queue) and then lands in
the queue's dead-letter queue; every event ends accounted for; nothing but the ledger's record of the
event itself changes; and a workflow started beside the poison runs to the end as if it were alone.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
from hypothesis import given, settings
from hypothesis import strategies as st

from simulations.onboarding.scenarios import SCENARIOS as ONBOARDING
from simulations.onboarding.scenarios import application_for
from simulations.order.scenarios import SCENARIOS as ORDERS
from simulations.order.scenarios import order_for
from tests.fuzz.strategies import broken_detail
from tests.fuzz.support import QUEUE_HANDLERS, FuzzApp
from tests.fuzz.test_queue_consumers import violates_contract

# Long enough for maxReceiveCount receives at the queues' visibility timeout (5 x 181 s), far inside the
# reference workflows' deadlines (24 h and more) however many examples run.
REDRIVE_WINDOW = timedelta(minutes=20)


def _max_receives(app: FuzzApp, queue_label: str) -> int | None:
    queue = app.cloud.backend("sqs").get_queue(queue_label.removeprefix("queue:"))
    policy = queue.redrive_policy
    return int(policy["maxReceiveCount"]) if policy else None


def _put(app: FuzzApp, event: dict[str, Any]) -> str | None:
    """Put ``event`` on the app's bus; its event id, or None if the bus refused it (then it went nowhere)."""
    client = boto3.client("events", region_name=app.cloud.region)
    response = client.put_events(
        Entries=[
            {
                "EventBusName": app.cloud.outputs["EventBusName"],
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        ]
    )
    [entry] = response["Entries"]
    return str(entry["EventId"]) if "EventId" in entry else None


def _assert_dead_lettered_after_the_redrive_count(app: FuzzApp, event_id: str) -> int:
    """Every consumer's delivery of the event was dead-lettered after its queue's redrive count; returns
    how many consumers' queues it reached."""
    event = app.cloud.ledger.events[event_id]
    consumed = 0
    for label, delivery in event.deliveries.items():
        receives = _max_receives(app, label)
        if receives is None:
            continue  # a queue nobody consumes (unrouted events): parked there for a person to look at
        consumed += 1
        assert delivery.outcome.value == "dead_lettered", (
            f"{label}: {delivery.outcome.value} {delivery.detail}"
        )
        assert delivery.attempts == receives, f"{label}: received {delivery.attempts} times"
    return consumed


@settings(max_examples=10)
@given(data=st.data())
def test_a_poison_event_is_dead_lettered_after_the_redrive_count_and_changes_nothing(
    app: FuzzApp, data: st.DataObject
) -> None:
    handler = data.draw(st.sampled_from(QUEUE_HANDLERS), label="consumer")
    real = data.draw(st.sampled_from(app.received(handler)), label="event")
    poison = {**real, "detail": data.draw(broken_detail(real["detail"]), label="detail")}
    app.settle()
    before = app.state()

    event_id = _put(app, poison)
    if event_id is None:  # EventBridge refused it (an integer past 64 bits, say): no consumer can see it
        assert app.state() == before
        return
    app.cloud.run_for(REDRIVE_WINDOW)

    event = app.cloud.ledger.events[event_id]
    assert all(d.outcome.value in ("processed", "dead_lettered") for d in event.deliveries.values()), {
        label: (d.outcome.value, d.attempts, d.detail) for label, d in event.deliveries.items()
    }
    if violates_contract(poison):
        _assert_dead_lettered_after_the_redrive_count(app, event_id)
    after = app.state()
    # What a dead letter should change: the alarm on the dead-letter queue tells the operators.
    assert after["notifications"].pop(_alarm_topic(app)) >= before["notifications"].pop(_alarm_topic(app))
    assert after == {**before, "published": before["published"] + 1}


def _alarm_topic(app: FuzzApp) -> str:
    return app.cloud.outputs["AlarmTopicArn"].rsplit(":", 1)[-1]


def test_poison_in_every_queue_blocks_no_workflow_started_beside_it(app: FuzzApp) -> None:
    # GIVEN a copy of an event each consumer really received, in a schema version nobody knows ...
    app.settle()
    poisons = []
    for handler in QUEUE_HANDLERS:
        real = json.loads(json.dumps(app.received(handler)[0]))
        real["detail"]["metadata"]["schemaVersion"] = 999
        poison = _put(app, real)
        assert poison is not None
        poisons.append(poison)
    # ... AND an order and an onboarding started at the same moment
    app.orders.submit_http(order_for(ORDERS["happy"], "fz-beside-poison"))
    app.onboarding.start(application_for(ONBOARDING["pass"], "fz-customer-beside-poison"))

    app.cloud.run_for(REDRIVE_WINDOW)

    # THEN both workflows completed, and each poison was dead-lettered after its queue's redrive count
    order, customer = (
        app.orders.status("fz-beside-poison"),
        app.onboarding.status("fz-customer-beside-poison"),
    )
    assert order is not None
    assert customer is not None
    assert (order["status"], customer["status"]) == ("COMPLETED", "COMPLETED")
    for event_id in poisons:
        assert _assert_dead_lettered_after_the_redrive_count(app, event_id) >= 1, "it reached no consumer"
    assert app.cloud.ledger.unaccounted() == []
