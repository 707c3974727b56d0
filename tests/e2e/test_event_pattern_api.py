"""TestEventPattern and PutRule on the local cloud answer as EventBridge answers, through boto3.

Expected answers: AWS recordings in localstack's tests/aws/services/events/test_events_patterns.py and its
snapshot (an event without ``resources`` is tested; a refused event is ``ValidationException`` "Parameter
Event is not valid."; a refused pattern is ``InvalidEventPatternException`` "Event pattern is not valid.
Reason: <event-ruler's reason>").
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from workflowkit import LocalCloud

EVENT = {
    "id": "1",
    "source": "order",
    "detail-type": "Test",
    "account": "123456789012",
    "region": "us-east-1",
    "time": "2024-07-11T13:55:39Z",
}


def test_an_event_without_resources_is_tested(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    pattern = {"source": ["order"], "detail-type": ["Test"]}
    answer = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    assert answer["Result"] is True
    pattern["source"] = ["shipment"]
    answer = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    assert answer["Result"] is False


@pytest.mark.parametrize("event", [{k: v for k, v in EVENT.items() if k != "time"}, "plain string"])
def test_an_event_that_is_not_an_event_is_refused(cloud: LocalCloud, event: object) -> None:
    events = boto3.client("events", region_name=cloud.region)
    with pytest.raises(ClientError) as raised:
        events.test_event_pattern(EventPattern='{"source": ["order"]}', Event=json.dumps(event))
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", "Parameter Event is not valid.")


def test_a_refused_pattern_gives_eventbridges_reason(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    pattern = {"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}
    with pytest.raises(ClientError) as raised:
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert error["Message"] == "Event pattern is not valid. Reason: Bad numeric range operator: >"


def test_put_rule_refuses_a_too_complex_wildcard(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    with pytest.raises(ClientError) as raised:
        events.put_rule(
            Name="too-complex",
            EventBusName=cloud.outputs["EventBusName"],
            EventPattern=json.dumps({"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}),
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert "Rule is too complex" in error["Message"]
