"""An AWS error the local cloud answers (a fault) goes through the caller's own botocore retry handler.

The fast path answers the hot calls without botocore's endpoint, where the retry loop lives; it asks the
client's ``needs-retry`` handler after each error answer exactly as the endpoint does. So a throttled
call is retried as the client's retry mode says (standard, botocore's default and the app's: 4 attempts
for DynamoDB, 3 elsewhere, within the client's retry quota; legacy: 10 for DynamoDB with exponential
back-off), and an error no mode retries (a failed condition) is answered at once.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from workflowkit import LocalCloud
from workflowkit.fastpath import ServiceError


class Throttle:
    """The fault seam answering the first ``times`` calls (all, if None) with ``code``."""

    def __init__(self, code: str, *, status: int = 400, times: int | None = None) -> None:
        self.code, self.status, self.times = code, status, times
        self.calls = 0

    def __call__(self, service: str, operation: str, params: Any) -> None:
        self.calls += 1
        if self.times is None or self.calls <= self.times:
            raise ServiceError(self.code, "Rate exceeded", status=self.status)


@pytest.fixture
def pauses(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry handlers' pauses, recorded instead of slept (outside a handler they would be real)."""
    taken: list[float] = []
    monkeypatch.setattr(time, "sleep", taken.append)
    return taken


def _key(cloud: LocalCloud) -> dict[str, Any]:
    return {"TableName": cloud.outputs["InventoryTableName"], "Key": {"pk": {"S": "SKU#nothing"}}}


def test_the_default_mode_retries_dynamodb_throttling_four_times(
    cloud: LocalCloud, pauses: list[float]
) -> None:
    # GIVEN a client built as the app's handlers build theirs: no retry Config (botocore's standard mode)
    throttle = Throttle("ProvisionedThroughputExceededException")
    cloud.fast_path.before_call = throttle
    client = boto3.client("dynamodb", region_name=cloud.region)
    assert client.meta.config.retries["mode"] == "standard"
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as raised:
        client.get_item(**_key(cloud))
    # THEN botocore.retries.standard: DynamoDB gets 4 attempts, a pause before each retry
    assert throttle.calls == 4
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 3
    assert len(pauses) == 3


def test_legacy_mode_retries_dynamodb_throttling_ten_times_with_its_back_off(
    cloud: LocalCloud, pauses: list[float]
) -> None:
    throttle = Throttle("ProvisionedThroughputExceededException")
    cloud.fast_path.before_call = throttle
    client = boto3.client("dynamodb", region_name=cloud.region, config=Config(retries={"mode": "legacy"}))
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.get_item(**_key(cloud))
    # botocore's data/_retry.json: DynamoDB, 10 attempts, 0.05 s x 2^(n-1) between them
    assert throttle.calls == 10
    assert pauses == pytest.approx([0.05 * 2**n for n in range(9)])


def test_a_throttled_call_that_then_passes_is_answered_with_its_retries_counted(
    cloud: LocalCloud, pauses: list[float]
) -> None:
    throttle = Throttle("ThrottlingException", times=2)
    cloud.fast_path.before_call = throttle
    response = boto3.client("dynamodb", region_name=cloud.region).get_item(**_key(cloud))
    assert throttle.calls == 3
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(pauses) == 2


def test_a_call_answered_at_once_reports_no_retries(cloud: LocalCloud, pauses: list[float]) -> None:
    # botocore sets RetryAttempts on every answer; code reading it after a first-try success must find 0
    response = boto3.client("dynamodb", region_name=cloud.region).get_item(**_key(cloud))
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    assert pauses == []


def test_the_default_mode_retries_other_services_three_times(cloud: LocalCloud, pauses: list[float]) -> None:
    throttle = Throttle("ThrottlingException")
    cloud.fast_path.before_call = throttle
    client = boto3.client("events", region_name=cloud.region)
    entry = {"Source": "tests", "DetailType": "Nothing", "Detail": "{}"}
    with pytest.raises(client.exceptions.ClientError) as raised:
        client.put_events(Entries=[entry])
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert throttle.calls == 3
    assert len(pauses) == 2


def test_a_client_whose_retry_quota_is_spent_stops_retrying_until_calls_succeed(
    cloud: LocalCloud, pauses: list[float]
) -> None:
    # GIVEN one client throttled call after call: each retry spends 5 units of its quota of 500
    throttle = Throttle("ThrottlingException")
    cloud.fast_path.before_call = throttle
    client = boto3.client("dynamodb", region_name=cloud.region)
    for _ in range(40):
        with pytest.raises(client.exceptions.ClientError):
            client.get_item(**_key(cloud))
    # THEN the quota ran out: a throttled call is answered at once, as botocore answers it
    throttle.calls = 0
    with pytest.raises(client.exceptions.ClientError):
        client.get_item(**_key(cloud))
    assert throttle.calls == 1
    # AND calls that succeed give quota back, one unit each: 10 of them buy two retries (5 units each)
    throttle.times = 0
    for _ in range(10):
        client.get_item(**_key(cloud))
    throttle.calls, throttle.times = 0, None
    with pytest.raises(client.exceptions.ClientError):
        client.get_item(**_key(cloud))
    assert throttle.calls == 3


def test_an_error_no_retry_mode_retries_is_answered_at_once(cloud: LocalCloud, pauses: list[float]) -> None:
    refusal = Throttle("ConditionalCheckFailedException")
    cloud.fast_path.before_call = refusal
    client = boto3.client("dynamodb", region_name=cloud.region)
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.get_item(**_key(cloud))
    assert refusal.calls == 1
    assert pauses == []


def test_a_call_moto_answers_is_retried_the_same_way(cloud: LocalCloud, pauses: list[float]) -> None:
    # GetQueueUrl is not on the fast path: moto answers it, after the seam's answers are retried
    throttle = Throttle("RequestThrottled", status=403, times=1)  # SQS's throttling code
    cloud.fast_path.before_call = throttle
    client = boto3.client("sqs", region_name=cloud.region)
    queue = cloud.outputs["UnroutedEventsQueueUrl"].rsplit("/", 1)[-1]
    assert client.get_queue_url(QueueName=queue)["QueueUrl"].endswith(queue)
    assert throttle.calls == 2
