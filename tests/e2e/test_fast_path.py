"""The fast path: hot calls answered in-process behave as the same calls through moto's HTTP layer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import Stubber

from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS, order_for
from tests.e2e.grants import admit_rule_to_queue
from workflowkit import Faults, LocalCloud
from workflowkit.dynamodb import DataPlaneBypassedError, IndexChangeUnsupportedError


def test_a_client_of_a_private_session_is_answered_by_the_fast_path(cloud: LocalCloud) -> None:
    # GIVEN a client built the way libraries such as Powertools build theirs: from a session of its own
    scheduler = boto3.session.Session(region_name=cloud.region).client("scheduler")
    answered = cloud.fast_path.answered

    # WHEN it creates and deletes a schedule
    arn = scheduler.create_schedule(
        Name="probe",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:sqs:us-east-1:123456789012:nowhere", "RoleArn": "arn:aws:iam::1:role/r"},
    )["ScheduleArn"]
    scheduler.delete_schedule(Name="probe")

    # THEN both were answered in-process, and the answers are what moto's backend holds
    assert cloud.fast_path.answered == answered + 2
    assert arn.endswith(":schedule/default/probe")
    assert "probe" not in cloud.backend("scheduler").schedule_groups["default"].schedules


def test_an_error_answer_raises_the_modelled_exception_class(cloud: LocalCloud) -> None:
    scheduler = boto3.client("scheduler", region_name=cloud.region)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as raised:
        scheduler.delete_schedule(Name="never-created")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_botocore_still_validates_parameters_before_the_fast_path(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    with pytest.raises(ParamValidationError):
        events.put_events(Entries=[{"Source": "probe", "DetailType": 42}])  # type: ignore[dict-item]


def test_an_invalid_dynamodb_call_fails_as_botocore_fails_it(cloud: LocalCloud) -> None:
    dynamodb = boto3.client("dynamodb", region_name=cloud.region)
    with pytest.raises(ParamValidationError, match="Invalid length for parameter TableName"):
        dynamodb.put_item(TableName="", Item={"pk": {"S": "a"}})
    with pytest.raises(ParamValidationError, match=r"Invalid type for parameter Item\.pk\.S"):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": 5}})  # type: ignore[dict-item]


def test_put_events_answers_like_eventbridge(cloud: LocalCloud) -> None:
    events = boto3.client("events", region_name=cloud.region)
    response = events.put_events(
        Entries=[
            {"Source": "probe.source", "DetailType": "Probe", "Detail": '{"n": 1}'},
            {"Source": "probe.source", "DetailType": "Probe", "Detail": "not json"},
        ]
    )
    assert response["FailedEntryCount"] == 1
    assert "EventId" in response["Entries"][0]
    assert response["Entries"][1]["ErrorCode"] == "MalformedDetail"


class RefuseFirstIdempotencyClaim(Faults):
    """Powertools' idempotency layer builds its DynamoDB client from a boto3 session of its own."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        table = str(params.get("TableName", ""))
        if operation == "PutItem" and "dempotency" in table and not self.refused:
            self.refused.append(table)
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
            raise ClientError(error, operation)


def test_a_fault_reaches_calls_from_private_sessions_and_redelivery_recovers(cdk_out: Any) -> None:
    faults = RefuseFirstIdempotencyClaim()
    with LocalCloud(cdk_out=cdk_out, seed=5, faults=faults) as cloud:
        orders = OrderDriver(cloud)
        orders.stock()
        orders.submit_http(order_for(SCENARIOS["happy"], "o-1"))
        cloud.run_until_quiescent()
        status = orders.status("o-1")
        assert faults.refused, "the idempotency layer's own client never reached the fault seam"
        assert status is not None
        assert status["status"] == "COMPLETED"


def test_a_botocore_stubber_still_answers_first(cloud: LocalCloud) -> None:
    sns = boto3.client("sns", region_name=cloud.region)
    topic = cloud.backend("sns").create_topic("probe").arn
    sns.publish(TopicArn=topic, Message="answered by the local cloud")  # the hook lookup is now cached
    answered = cloud.fast_path.answered

    with Stubber(sns) as stubber:
        stubber.add_response("publish", {"MessageId": "from-the-stub"}, {"TopicArn": topic, "Message": "m"})
        assert sns.publish(TopicArn=topic, Message="m")["MessageId"] == "from-the-stub"
        stubber.assert_no_pending_responses()

    assert cloud.fast_path.answered == answered


def test_dynamodb_keeps_its_own_copy_of_what_a_caller_wrote(cloud: LocalCloud) -> None:
    dynamodb = boto3.client("dynamodb", region_name=cloud.region)
    dynamodb.create_table(
        TableName="probe",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "nested": {"M": {"n": {"N": "1"}}}}

    dynamodb.put_item(TableName="probe", Item=item)
    item["nested"]["M"]["n"]["N"] = "2"  # the caller changes its own dict afterwards
    stored = dynamodb.get_item(TableName="probe", Key={"pk": {"S": "a"}})["Item"]
    stored["nested"]["M"]["n"]["N"] = "3"  # and the copy it was handed

    again = dynamodb.get_item(TableName="probe", Key={"pk": {"S": "a"}})["Item"]
    assert again["nested"] == {"M": {"n": {"N": "1"}}}
    assert again["blob"] == {"B": b"\x00\xff"}


def test_dynamodb_values_botocore_would_convert_arrive_as_botocore_sends_them(cloud: LocalCloud) -> None:
    dynamodb = boto3.client("dynamodb", region_name=cloud.region)
    dynamodb.create_table(
        TableName="probe",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # A tuple for a list, and a str for a blob: botocore sends a list, and the str's UTF-8 bytes.
    item = {"pk": {"S": "a"}, "l": {"L": ({"S": "x"},)}, "b": {"B": "abcd"}, "bs": {"BS": ["aGk="]}}
    dynamodb.put_item(TableName="probe", Item=item)

    stored = dynamodb.get_item(TableName="probe", Key={"pk": {"S": "a"}})["Item"]
    assert stored["l"] == {"L": [{"S": "x"}]}
    assert stored["b"] == {"B": b"abcd"}
    assert stored["bs"] == {"BS": [b"aGk="]}


def test_a_client_of_another_region_does_not_reach_the_local_cloud(cloud: LocalCloud) -> None:
    home = boto3.client("dynamodb", region_name=cloud.region)
    table = home.list_tables()["TableNames"][0]
    answered = cloud.fast_path.answered

    elsewhere = boto3.client("dynamodb", region_name="eu-west-1")
    with pytest.raises(elsewhere.exceptions.ResourceNotFoundException):
        elsewhere.get_item(TableName=table, Key={"pk": {"S": "a"}})  # moto's eu-west-1: no such table
    assert cloud.fast_path.answered == answered


def test_partiql_and_index_changes_fail_loudly_instead_of_using_an_empty_store(cloud: LocalCloud) -> None:
    dynamodb = boto3.client("dynamodb", region_name=cloud.region)
    table = dynamodb.list_tables()["TableNames"][0]

    with pytest.raises(DataPlaneBypassedError):
        dynamodb.execute_statement(Statement=f'SELECT * FROM "{table}"')
    with pytest.raises(IndexChangeUnsupportedError):
        dynamodb.update_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "by-g",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )


def test_put_events_reads_entry_times_as_botocore_does(cloud: LocalCloud) -> None:
    sqs = boto3.client("sqs", region_name=cloud.region)
    url = sqs.create_queue(QueueName="probe-times")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=cloud.region)
    rule = events.put_rule(Name="probe-times", EventPattern=json.dumps({"source": ["probe.times"]}))
    admit_rule_to_queue(sqs, url, arn, rule["RuleArn"])
    events.put_targets(Rule="probe-times", Targets=[{"Id": "q", "Arn": arn}])

    naive_noon = datetime(2030, 1, 1, 12, 0, 0)
    events.put_events(
        Entries=[
            {"Source": "probe.times", "DetailType": "Probe", "Detail": "{}", "Time": naive_noon},
            {
                "Source": "probe.times",
                "DetailType": "Probe",
                "Detail": "{}",
                "Time": "2030-01-01T14:00:00+02:00",
            },
        ]
    )
    cloud.run_until_quiescent()

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["time"] for m in messages) == ["2030-01-01T12:00:00Z"] * 2
