"""The controller against moto: the handler's SQS batch, the event-sourced store, effects and their replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from controller import handler as controller_handler
from controller.service import Controller
from controller.store import WorkflowStore
from order_workflow import events as ev
from tests.factories import LambdaContext, domain_event, eventbridge_event, order, sqs_batch
from workflow_core.workflow_state import workflow_pk
from workflow_core.workflow_status import load_status

REGION = "us-east-1"
TABLE = "workflows"
BUS = "workflow-bus"
GROUP = "workflow-deadlines"
ORDER = order()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "WorkflowKit",
        "POWERTOOLS_SERVICE_NAME": "controller",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(
            TableName=TABLE,
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
        events = boto3.client("events", region_name=REGION)
        bus_arn = events.create_event_bus(Name=BUS)["EventBusArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="published")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
        iam = boto3.client("iam", region_name=REGION)
        role_arn = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine_arn = sfn.create_state_machine(
            name="payment",
            definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
            roleArn=role_arn,
        )["stateMachineArn"]
        scheduler = boto3.client("scheduler", region_name=REGION)
        scheduler.create_schedule_group(Name=GROUP)
        dlq_url = sqs.create_queue(QueueName="schedule-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name="escalations")["TopicArn"]
        env = {
            "EVENT_BUS_NAME": BUS,
            "EVENT_BUS_ARN": bus_arn,
            "WORKFLOW_TABLE_NAME": TABLE,
            "STATE_MACHINE_ARNS": json.dumps({"order/payment": machine_arn}),
            "SCHEDULE_GROUP_NAME": GROUP,
            "SCHEDULER_ROLE_ARN": role_arn,
            "ESCALATION_TOPIC_ARN": topic_arn,
            "SCHEDULE_DEAD_LETTER_QUEUE_ARN": dlq_arn,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield {
            "queue_url": queue_url,
            "sqs": sqs,
            "sfn": sfn,
            "machine_arn": machine_arn,
            "scheduler": scheduler,
            "dlq_arn": dlq_arn,
        }


def published(aws: dict[str, Any]) -> list[str]:
    types = []
    while True:
        messages = (
            aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10).get("Messages", [])
        )
        if not messages:
            return types
        for message in messages:
            types.append(json.loads(message["Body"])["detail-type"])
            aws["sqs"].delete_message(QueueUrl=aws["queue_url"], ReceiptHandle=message["ReceiptHandle"])


def submitted_event(event_id: str = "sub-1") -> dict[str, Any]:
    data = ev.OrderSubmitted.model_validate(ORDER.model_dump())
    return eventbridge_event(domain_event("OrderSubmitted", data, event_id=event_id))


def test_handler_starts_workflow_publishes_schedules_and_starts_payment(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a controller wired from the environment
    monkeypatch.setattr(controller_handler, "controller", controller_handler.build_controller())
    # WHEN an OrderSubmitted arrives in an SQS batch
    response = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    # THEN no item failed, WorkflowStarted went out, payment started once by name, a deadline exists
    assert response == {"batchItemFailures": []}
    assert published(aws) == ["WorkflowStarted"]
    executions = aws["sfn"].list_executions(stateMachineArn=aws["machine_arn"])["executions"]
    assert [e["name"] for e in executions] == [f"{ORDER.order_id}-{_digest()}-payment-1"]
    schedules = aws["scheduler"].list_schedules(GroupName=GROUP)["Schedules"]
    assert len(schedules) == 1
    # ... which Scheduler dead-letters into the stage's schedule DLQ if it cannot deliver it
    schedule = aws["scheduler"].get_schedule(GroupName=GROUP, Name=schedules[0]["Name"])
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": aws["dlq_arn"]}
    status = load_status(boto3.resource("dynamodb", region_name=REGION).Table(TABLE), ORDER.order_id)
    assert status is not None
    assert status["status"] == "RUNNING"
    assert [t["detailType"] for t in status["timeline"]] == ["OrderSubmitted"]


def test_duplicate_delivery_is_recorded_once_and_acts_once(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(controller_handler, "controller", controller_handler.build_controller())
    controller_handler.lambda_handler(sqs_batch(submitted_event(), submitted_event()), LambdaContext())
    assert published(aws) == ["WorkflowStarted"]
    status = load_status(boto3.resource("dynamodb", region_name=REGION).Table(TABLE), ORDER.order_id)
    assert status is not None
    assert len(status["timeline"]) == 1


def test_malformed_event_fails_only_its_record_and_changes_nothing(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(controller_handler, "controller", controller_handler.build_controller())
    bad = submitted_event("bad-1")
    bad["detail"]["data"]["items"] = []  # an order without lines breaks the schema
    unknown_version = submitted_event("bad-2")
    unknown_version["detail"]["metadata"]["schemaVersion"] = 9
    response = controller_handler.lambda_handler(sqs_batch(bad, "not json", unknown_version), LambdaContext())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]
    }
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]
    assert items == []
    assert published(aws) == []


def test_effects_lost_in_a_crash_are_replayed_on_redelivery(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a controller whose effects fail once, after the decision was committed (a crash mid-way)
    controller: Controller = controller_handler.build_controller()
    effects = controller._effects
    real_perform = effects.perform
    calls = {"n": 0}

    def crash_once(actions: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("Lambda timed out")
        real_perform(actions)

    monkeypatch.setattr(effects, "perform", crash_once)
    monkeypatch.setattr(controller_handler, "controller", controller)
    first = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    assert first == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert published(aws) == []
    # WHEN SQS redelivers it
    second = controller_handler.lambda_handler(sqs_batch(submitted_event()), LambdaContext())
    # THEN the recorded effects run once, and the history still holds one entry
    assert second == {"batchItemFailures": []}
    assert published(aws) == ["WorkflowStarted"]
    assert len(aws["sfn"].list_executions(stateMachineArn=aws["machine_arn"])["executions"]) == 1


def test_concurrent_writer_loses_and_retries_on_fresh_state(aws: dict[str, Any]) -> None:
    # GIVEN a started workflow and a store whose first load returns a stale snapshot
    controller = controller_handler.build_controller()
    controller.handle(
        domain_event("OrderSubmitted", ev.OrderSubmitted.model_validate(ORDER.model_dump()), event_id="s")
    )
    store: WorkflowStore = controller._store
    stale = store.load(ORDER.order_id)
    controller.handle(
        domain_event(
            "PaymentProcessed",
            ev.PaymentProcessed(order_id=ORDER.order_id, payment_id="p", amount_minor=1, currency="EUR"),
            event_id="pp",
        )
    )
    loads = {"n": 0}
    real_load = store.load

    def stale_first(workflow_id: str) -> Any:
        loads["n"] += 1
        return stale if loads["n"] == 1 else real_load(workflow_id)

    store.load = stale_first  # type: ignore[method-assign]
    # WHEN inventory's outcome is decided on the stale snapshot first
    outcome = controller.handle(
        domain_event(
            "InventoryReserved",
            ev.InventoryReserved(order_id=ORDER.order_id, reservation_id="r"),
            event_id="ir",
        )
    )
    # THEN the version check rejects the stale write and the retry sees payment completed
    assert loads["n"] == 2
    assert outcome.status == "RUNNING"
    state = real_load(ORDER.order_id).state
    assert state is not None
    assert {n: s.status.value for n, s in state.steps.items()} == {
        "payment": "COMPLETED",
        "inventory": "COMPLETED",
        "shipping": "RUNNING",
        "notify": "RUNNING",  # order v2: started beside inventory once paid; nobody answered it here
    }
    items = boto3.client("dynamodb", region_name=REGION).query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": workflow_pk(ORDER.order_id)}},
    )["Items"]
    assert len(items) == 4  # STATE + three history entries


def _digest() -> str:
    return hashlib.sha256(ORDER.order_id.encode()).hexdigest()[:8]
