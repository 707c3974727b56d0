"""The local cloud's own promises: faults at every hop, scheduled rules, Lambda timeouts."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, order_for
from tests.e2e.grants import admit_rule_to_queue
from tests.e2e.test_order_scenarios import assert_nothing_lost
from workflowkit import Faults, InjectedFaultError, LocalCloud


class CrashFirstInventoryInvocation(Faults):
    def __init__(self) -> None:
        self.crashed = 0

    def before_handler(self, function_name: str, event: Any) -> None:
        if "InventoryConsumer" in function_name and self.crashed == 0:
            self.crashed += 1
            raise InjectedFaultError("inventory Lambda crashed")


class ThrottleFirstTransaction(Faults):
    def __init__(self) -> None:
        self.throttled = 0

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        if operation == "TransactWriteItems" and self.throttled == 0:
            self.throttled += 1
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, operation)


def test_a_crashed_consumer_invocation_is_redelivered_and_the_workflow_completes(cdk_out: Any) -> None:
    faults = CrashFirstInventoryInvocation()
    with LocalCloud(cdk_out=cdk_out, seed=3, faults=faults) as cloud:
        orders = OrderDriver(cloud)
        orders.stock()
        orders.submit_http(order_for(SCENARIOS["happy"], "o-1"))
        cloud.run_until_quiescent()
        status = orders.status("o-1")
        assert status is not None
        assert status["status"] == "COMPLETED"
        assert faults.crashed == 1
        processed = next(e for e in cloud.ledger.events.values() if e.detail_type == "PaymentProcessed")
        inventory = next(d for target, d in processed.deliveries.items() if "InventoryConsumer" in target)
        assert inventory.attempts == 2  # failed once, redelivered after the visibility timeout
        assert_nothing_lost(cloud)


def test_a_throttled_service_call_is_retried_by_the_clients_botocore_retry_mode(cdk_out: Any) -> None:
    # GIVEN the first transaction the app makes answered ThrottlingException
    faults = ThrottleFirstTransaction()
    with LocalCloud(cdk_out=cdk_out, seed=3, faults=faults) as cloud:
        orders = OrderDriver(cloud)
        orders.stock()
        orders.submit_http(order_for(SCENARIOS["happy"], "o-1"))
        cloud.run_until_quiescent()
        status = orders.status("o-1")
        assert status is not None
        assert status["status"] == "COMPLETED"
        assert faults.throttled == 1
        # THEN the handler's boto3 client retried it (standard mode, which every function pins with
        # AWS_RETRY_MODE), as an AWS client would: the handler never saw it, so no record failed and
        # nothing was redelivered
        assert all(d.attempts == 1 for e in cloud.ledger.events.values() for d in e.deliveries.values())
        assert_nothing_lost(cloud)


def test_a_scheduled_rule_fires_on_virtual_time_without_keeping_the_run_alive(cloud: LocalCloud) -> None:
    sqs = boto3.client("sqs", region_name=cloud.region)
    queue_url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=cloud.region)
    # Scheduled rules live on the default bus, as in EventBridge.
    rule = events.put_rule(Name="every-5-minutes", ScheduleExpression="rate(5 minutes)")
    admit_rule_to_queue(sqs, queue_url, queue_arn, rule["RuleArn"])
    events.put_targets(Rule="every-5-minutes", Targets=[{"Id": "q", "Arn": queue_arn}])
    cloud.run_for(timedelta(minutes=16))
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail-type"] for m in messages] == ["Scheduled Event"] * 3
    cloud.run_until_quiescent()  # returns: a periodic rule alone is not work in progress


def test_a_handler_slower_than_its_timeout_fails_as_in_lambda(cloud: LocalCloud) -> None:
    class SlowHandler(Faults):
        def before_handler(self, function_name: str, event: Any) -> None:
            time.sleep(0.05)  # real time: a timeout is about the handler's own running time

    cloud.faults = SlowHandler()  # replaced while the cloud runs: the next handler sees it
    name = next(n for n in cloud.lambdas.functions if "PaymentChecks" in n)
    cloud.lambdas.functions[name].timeout_seconds = 0.01
    payload, errored = cloud.lambdas.invoke_json(name, {"operation": "validate", "order": {}})
    assert errored
    assert json.loads(payload)["errorType"] == "Sandbox.Timedout"
