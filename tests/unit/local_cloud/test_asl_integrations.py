"""TaskIntegrations: Lambda invocation and the service integrations, shaped as Step Functions shapes them."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from workflowkit.asl import TaskContext, TaskFailed, TaskIntegrations

REGION = "us-east-1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:payment"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:payment:o-1"


def task_context() -> TaskContext:
    return TaskContext(
        state_name="S",
        execution_arn=EXECUTION,
        execution_name="o-1",
        state_machine_arn=MACHINE,
        retry_count=0,
        entered_time=datetime(2026, 1, 5, 9, tzinfo=UTC),
        timeout_seconds=None,
        heartbeat_seconds=None,
        random=random.Random(1),
    )


class Lambdas:
    """A fake invoke_lambda: records calls, answers from a table."""

    def __init__(self, answers: dict[str, tuple[str, bool]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, function: str, payload: Any) -> tuple[str, bool]:
        self.calls.append((function, payload))
        return self.answers[function]


def no_clients(service: str) -> Any:
    raise AssertionError(f"no client expected, asked for {service}")


def test_lambda_invoke_returns_the_invoke_response_with_the_parsed_payload() -> None:
    lambdas = Lambdas({"checks": ('{"valid": true}', False)})
    integrations = TaskIntegrations(lambdas, no_clients)
    result = integrations.run_task(
        "arn:aws:states:::lambda:invoke",
        {"FunctionName": "checks", "Payload": {"op": "validate"}},
        task_context(),
    )
    assert lambdas.calls == [("checks", {"op": "validate"})]
    assert result["Payload"] == {"valid": True}
    assert (result["StatusCode"], result["ExecutedVersion"]) == (200, "$LATEST")
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert (
        result["SdkResponseMetadata"]["RequestId"]
        == result["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
    )


def test_lambda_payload_that_is_not_json_is_returned_as_text() -> None:
    integrations = TaskIntegrations(Lambdas({"f": ("plain text", False)}), no_clients)
    result = integrations.run_task("arn:aws:states:::lambda:invoke", {"FunctionName": "f"}, task_context())
    assert result["Payload"] == "plain text"


@pytest.mark.parametrize("text", ["NaN", '{"total": Infinity}', '{"total": 1e400}'])
def test_a_lambda_payload_with_nan_or_infinity_is_not_json_and_is_returned_as_text(text: str) -> None:
    # GIVEN a function whose payload Python's json would read as nan/inf (strict JSON has neither)
    integrations = TaskIntegrations(Lambdas({"f": (text, False)}), no_clients)
    # WHEN invoked THEN the payload is treated like any other text that is not JSON
    result = integrations.run_task("arn:aws:states:::lambda:invoke", {"FunctionName": "f"}, task_context())
    assert result["Payload"] == text


def test_a_function_error_fails_the_task_with_the_error_type_and_the_payload_as_cause() -> None:
    payload = '{"errorMessage": "order o-1 is invalid", "errorType": "InvalidOrderError", "stackTrace": []}'
    integrations = TaskIntegrations(Lambdas({"f": (payload, True), "g": ('"crashed"', True)}), no_clients)
    with pytest.raises(TaskFailed) as raised:
        integrations.run_task(
            "arn:aws:states:::lambda:invoke", {"FunctionName": "f", "Payload": {}}, task_context()
        )
    assert (raised.value.error, raised.value.cause) == ("InvalidOrderError", payload)
    with pytest.raises(TaskFailed) as unknown:
        integrations.run_task("arn:aws:states:::lambda:invoke", {"FunctionName": "g"}, task_context())
    assert unknown.value.error == "Lambda.Unknown"


def test_a_refused_invoke_fails_the_task_as_the_lambda_services_base_exception() -> None:
    """What Step Functions reports when its role may not invoke: Lambda.AWSLambdaException, the code in
    the cause (the kit's ASL retries Lambda.AWSLambdaException)."""

    def refused(function: str, payload: Any) -> tuple[str, bool]:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "Invoke")

    integrations = TaskIntegrations(refused, no_clients)
    with pytest.raises(TaskFailed) as raised:
        integrations.run_task("arn:aws:states:::lambda:invoke", {"FunctionName": "f"}, task_context())
    assert raised.value.error == "Lambda.AWSLambdaException"
    assert "Error Code: AccessDeniedException" in raised.value.cause


def test_a_function_arn_as_resource_returns_the_payload_itself() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:work"
    lambdas = Lambdas({arn: ('{"done": 1}', False)})
    result = TaskIntegrations(lambdas, no_clients).run_task(arn, {"in": 1}, task_context())
    assert result == {"done": 1}
    assert lambdas.calls == [(arn, {"in": 1})]


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:us-east-1:123456789012:activity:approve",
        "arn:aws:states:::batch:submitJob",
        "arn:aws:states:::aws-sdk:dynamodb",
        "not-an-arn",
    ],
)
def test_unsupported_resources_fail_with_states_runtime_naming_the_resource(resource: str) -> None:
    with pytest.raises(TaskFailed) as raised:
        TaskIntegrations(Lambdas({}), no_clients).run_task(resource, {}, task_context())
    assert raised.value.error == "States.Runtime"
    assert resource in (raised.value.cause or "")


# --- services, against moto ---------------------------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[TaskIntegrations]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="payments",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = boto3.client(service, region_name=REGION)
            return clients[service]

        yield TaskIntegrations(Lambdas({}), client)


def test_dynamodb_put_and_get_keep_dynamodb_json_with_binary_as_base64_text(aws: TaskIntegrations) -> None:
    item = {
        "pk": {"S": "ORDER#o-1"},
        "blob": {"B": "aGVsbG8="},
        "n": {"N": "2500"},
        "m": {"M": {"B": {"S": "x"}}},
    }
    put = aws.run_task(
        "arn:aws:states:::dynamodb:putItem", {"TableName": "payments", "Item": item}, task_context()
    )
    assert put == {}
    key = {"pk": {"S": "ORDER#o-1"}}
    got = aws.run_task(
        "arn:aws:states:::dynamodb:getItem", {"TableName": "payments", "Key": key}, task_context()
    )
    assert got == {"Item": item}  # Base64 in, the same Base64 out: JSON-safe, round-trips
    stored = boto3.client("dynamodb", region_name=REGION).get_item(TableName="payments", Key=key)["Item"]
    assert stored["blob"] == {"B": b"hello"}  # DynamoDB holds the decoded bytes


def test_a_failed_condition_is_dynamodb_conditional_check_failed(aws: TaskIntegrations) -> None:
    parameters = {
        "TableName": "payments",
        "Item": {"pk": {"S": "ORDER#o-1"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    aws.run_task("arn:aws:states:::dynamodb:putItem", parameters, task_context())
    with pytest.raises(TaskFailed) as raised:
        aws.run_task("arn:aws:states:::dynamodb:putItem", parameters, task_context())
    assert raised.value.error == "DynamoDB.ConditionalCheckFailedException"
    assert "Error Code: ConditionalCheckFailedException" in (raised.value.cause or "")
    # The same call through the AWS SDK integration names the service in PascalCase.
    with pytest.raises(TaskFailed) as sdk:
        aws.run_task("arn:aws:states:::aws-sdk:dynamodb:putItem", parameters, task_context())
    assert sdk.value.error == "DynamoDb.ConditionalCheckFailedException"


def test_dynamodb_update_and_delete(aws: TaskIntegrations) -> None:
    key = {"pk": {"S": "ORDER#o-1"}}
    updated = aws.run_task(
        "arn:aws:states:::dynamodb:updateItem",
        {
            "TableName": "payments",
            "Key": key,
            "UpdateExpression": "SET #s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": "REFUNDED"}},
            "ReturnValues": "ALL_NEW",
        },
        task_context(),
    )
    assert updated["Attributes"]["status"] == {"S": "REFUNDED"}
    deleted = aws.run_task(
        "arn:aws:states:::dynamodb:deleteItem",
        {"TableName": "payments", "Key": key, "ReturnValues": "ALL_OLD"},
        task_context(),
    )
    assert deleted["Attributes"]["pk"] == key["pk"]


def test_aws_sdk_integration_calls_any_action_in_camel_case(aws: TaskIntegrations) -> None:
    result = aws.run_task(
        "arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": "payments"}, task_context()
    )
    assert result["Table"]["TableName"] == "payments"
    json.dumps(result)  # timestamps made JSON-safe


def test_sqs_send_message_sends_an_object_body_as_json_text(aws: TaskIntegrations) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    result = aws.run_task(
        "arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody": {"order": "o-1"}}, task_context()
    )
    assert "MessageId" in result
    assert "ResponseMetadata" not in result
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert json.loads(message["Body"]) == {"order": "o-1"}
    with pytest.raises(TaskFailed) as raised:
        aws.run_task(
            "arn:aws:states:::sqs:sendMessage",
            {"QueueUrl": url.replace("/q", "/missing"), "MessageBody": "x"},
            task_context(),
        )
    assert raised.value.error == "SQS.QueueDoesNotExistException"


def test_sns_publish(aws: TaskIntegrations) -> None:
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="t")["TopicArn"]
    result = aws.run_task(
        "arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"a": 1}}, task_context()
    )
    assert "MessageId" in result


class _Events:
    def __init__(self, failed: int) -> None:
        self.failed = failed
        self.calls: list[dict[str, Any]] = []

    def put_events(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(arguments)
        return {"FailedEntryCount": self.failed, "Entries": [{"EventId": "e-1"}], "ResponseMetadata": {}}


def test_put_events_sends_detail_as_json_and_adds_the_execution_resources() -> None:
    events = _Events(failed=0)
    parameters = {"Entries": [{"Source": "s", "DetailType": "T", "Detail": {"a": 1}, "EventBusName": "bus"}]}
    result = TaskIntegrations(Lambdas({}), lambda service: events).run_task(
        "arn:aws:states:::events:putEvents", parameters, task_context()
    )
    assert result == {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}
    (entry,) = events.calls[0]["Entries"]
    assert json.loads(entry["Detail"]) == {"a": 1}
    assert entry["Resources"] == [MACHINE, EXECUTION]
    assert parameters["Entries"][0]["Detail"] == {"a": 1}  # the execution's data is not changed


def test_put_events_with_failed_entries_fails_with_eventbridge_failed_entry() -> None:
    integrations = TaskIntegrations(Lambdas({}), lambda service: _Events(failed=1))
    with pytest.raises(TaskFailed) as raised:
        integrations.run_task(
            "arn:aws:states:::events:putEvents", {"Entries": [{"Source": "s"}]}, task_context()
        )
    assert raised.value.error == "EventBridge.FailedEntry"


def test_put_events_against_moto(aws: TaskIntegrations) -> None:
    result = aws.run_task(
        "arn:aws:states:::events:putEvents",
        {"Entries": [{"Source": "s", "DetailType": "T", "Detail": {"a": 1}, "EventBusName": "default"}]},
        task_context(),
    )
    assert result["FailedEntryCount"] == 0
