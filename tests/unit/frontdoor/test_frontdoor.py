"""The front door: 202 for accepted orders and commands, typed 400s, 404 for unknown workflows."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger

from frontdoor.api import FrontDoor
from frontdoor.routes import build_app
from workflow_core.errors import PublishError
from workflow_core.publisher import EventPublisher, RecordingPublisher
from workflow_core.registry import deployed, parse_event

MakeRequest = Callable[..., dict[str, Any]]
OPERATOR_ARN = "arn:aws:sts::123456789012:assumed-role/Operators/ops-alice"
SUBJECT = {"orderId": "ord-1001", "customerId": "c-1"}  # what the status document carries: the subject
RUNNING = {
    "workflowId": "ord-1001",
    "workflowType": "order",
    "definitionVersion": 1,
    "status": "RUNNING",
    "subject": SUBJECT,
    "steps": {
        "payment": {"status": "COMPLETED", "output": {"paymentId": "p-1"}},
        "inventory": {"status": "RUNNING"},
        "shipping": {"status": "PENDING"},
    },
    "timeline": [],
}


class Api:
    """The routes over an in-memory publisher and a status reader with one known workflow."""

    def __init__(self, publisher: EventPublisher | None = None) -> None:
        self.publisher = publisher or RecordingPublisher()
        self.statuses: dict[str, dict[str, Any]] = {"ord-1001": RUNNING}
        self.app = build_app(
            FrontDoor(publisher=self.publisher, status_reader=self.statuses.get, registry=deployed()),
            logger=Logger(service="test"),
        )

    def call(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.app.resolve(request, None)  # type: ignore[arg-type]
        return response["statusCode"], json.loads(response["body"])


class FailingPublisher(EventPublisher):
    def publish(self, events: Any) -> None:
        raise PublishError("PutEvents rejected OrderSubmitted: ThrottlingException")


@pytest.fixture
def api() -> Api:
    return Api()


def test_post_orders_publishes_order_submitted_and_answers_202(
    api: Api, http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    # WHEN a valid order is posted to start an order workflow
    status, body = api.call(http_request("POST", "/start/order", order_body, request_id="req-77"))
    # THEN 202 points at the workflow's status, and OrderSubmitted is published for the controller
    assert status == 202
    assert body == {
        "workflowType": "order",
        "workflowId": "ord-1001",
        "status": "SUBMITTED",
        "statusPath": "/workflows/ord-1001",
        "eventId": "ord-1001:req-77",
    }
    assert isinstance(api.publisher, RecordingPublisher)
    (event,) = api.publisher.events
    assert (event.detail_type, event.source) == ("OrderSubmitted", "commerce.orders")
    assert event.metadata.correlation_id == "ord-1001"
    assert event.metadata.event_id == "ord-1001:req-77"
    # AND the event satisfies the contract the controller parses
    parsed = parse_event({"detail-type": event.detail_type, "source": event.source, "detail": event.detail()})
    assert parsed.data.model_dump() == event.data.model_dump()
    assert parsed.workflow is None  # a start event belongs to no workflow yet: the controller creates it


def test_starting_a_workflow_type_that_is_not_deployed_is_404(
    api: Api, http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    status, body = api.call(http_request("POST", "/start/invoice", order_body))
    assert status == 404
    assert body["error"] == "UnknownWorkflowType"
    assert isinstance(api.publisher, RecordingPublisher)
    assert api.publisher.events == []


def test_a_command_for_a_step_the_instance_does_not_have_is_400(api: Api, http_request: MakeRequest) -> None:
    command = {"command": "retry-step", "step": "invoicing", "reason": "x"}
    status, body = api.call(http_request("POST", "/workflows/ord-1001/commands", command))
    assert status == 400
    assert body["fields"][0]["field"] == "step"
    assert isinstance(api.publisher, RecordingPublisher)
    assert api.publisher.events == []


def test_post_orders_lists_every_invalid_field(
    api: Api, http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    # GIVEN an order with a negative quantity, a lowercase country and no payment token
    order_body["items"][0]["quantity"] = -1
    order_body["shippingAddress"]["country"] = "de"
    del order_body["paymentToken"]
    # WHEN it is posted
    status, body = api.call(http_request("POST", "/start/order", order_body))
    # THEN 400 names each field, and nothing is published
    assert status == 400
    assert body["error"] == "InvalidRequest"
    assert {f["field"] for f in body["fields"]} == {
        "items.0.quantity",
        "shippingAddress.country",
        "paymentToken",
    }
    assert isinstance(api.publisher, RecordingPublisher)
    assert api.publisher.events == []


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", None])
def test_post_orders_rejects_a_body_that_is_not_an_object(
    api: Api, http_request: MakeRequest, raw: Any
) -> None:
    status, body = api.call(http_request("POST", "/start/order", raw))
    assert status == 400
    assert body["error"] == "InvalidRequest"


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),  # the fuzz suite's: a 500 before
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"amountMinor": ' + "9" * 5_000 + "}", "a number is too long"),
    ],
)
def test_a_body_no_parser_reads_is_400_not_500(
    api: Api, http_request: MakeRequest, raw: str, said: str
) -> None:
    status, body = api.call(http_request("POST", "/start/order", raw))
    assert status == 400
    assert body["error"] == "InvalidRequest"
    assert said in body["message"]
    assert isinstance(api.publisher, RecordingPublisher)
    assert api.publisher.events == []


@pytest.mark.parametrize(
    ("number", "said"),
    [
        (str(2**63), "past the 64-bit integers"),  # the fuzz suite's: a 503 "retry" before
        (str(-(2**63) - 1), "past the 64-bit integers"),
    ],
)
def test_a_number_the_event_bus_refuses_is_400_not_503(
    api: Api, http_request: MakeRequest, order_body: dict[str, Any], number: str, said: str
) -> None:
    # GIVEN an order whose line price JSON can write but EventBridge refuses (MalformedDetail)
    raw = json.dumps(order_body).replace('"unitPriceMinor": 1500', f'"unitPriceMinor": {number}', 1)
    status, body = api.call(http_request("POST", "/start/order", raw))
    # THEN the client is told what is wrong, not to retry what no retry can mend
    assert status == 400
    assert body["error"] == "InvalidRequest"
    assert said in body["message"]
    assert isinstance(api.publisher, RecordingPublisher)
    assert api.publisher.events == []
    # and the largest integer the bus takes is still a number like any other (a 400 for its own reasons)
    edge = json.dumps(order_body).replace('"unitPriceMinor": 1500', f'"unitPriceMinor": {2**63 - 1}', 1)
    assert "64-bit" not in api.call(http_request("POST", "/start/order", edge))[1].get("message", "")


def test_post_orders_answers_503_when_the_bus_refuses(
    http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    status, body = Api(FailingPublisher()).call(http_request("POST", "/start/order", order_body))
    assert status == 503
    assert body["error"] == "PublishFailed"


def test_get_workflow_returns_its_status_document(api: Api, http_request: MakeRequest) -> None:
    status, body = api.call(http_request("GET", "/workflows/ord-1001"))
    assert status == 200
    assert body == RUNNING


def test_get_unknown_workflow_is_404(api: Api, http_request: MakeRequest) -> None:
    status, body = api.call(http_request("GET", "/workflows/ord-404"))
    assert status == 404
    assert body["error"] == "WorkflowNotFound"


def test_command_is_published_with_the_iam_caller_as_operator(api: Api, http_request: MakeRequest) -> None:
    # WHEN an operator asks to retry the shipping step
    command = {"command": "retry-step", "step": "shipping", "reason": "carrier back online"}
    status, body = api.call(http_request("POST", "/workflows/ord-1001/commands", command, request_id="req-9"))
    # THEN 202, and OperatorCommandIssued carries the caller's ARN
    assert status == 202
    assert body["status"] == "ACCEPTED"
    assert isinstance(api.publisher, RecordingPublisher)
    (event,) = api.publisher.events
    assert (event.detail_type, event.source) == ("OperatorCommandIssued", "workflow.operator")
    assert event.metadata.event_id == "ord-1001:command:req-9"
    assert event.metadata.correlation_id == "ord-1001"
    assert event.detail()["data"] == {
        "workflowId": "ord-1001",
        "command": "retry-step",
        "step": "shipping",
        "operator": OPERATOR_ARN,
        "reason": "carrier back online",
    }
    # AND it carries the instance's workflow context: the controller's rule for that workflow matches it
    assert event.detail()["workflow"] == {
        "name": "order",
        "version": 1,
        "subject": SUBJECT,
        "outputs": {"payment": {"paymentId": "p-1"}},
    }


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ({"command": "retry-step", "reason": "no step given"}, 400),
        ({"command": "retry-step", "step": "teleport", "reason": "unknown step"}, 400),
        ({"command": "reboot", "reason": "not a command"}, 400),
        ({"command": "resume"}, 400),
    ],
)
def test_invalid_commands_are_400(
    api: Api, http_request: MakeRequest, command: dict[str, Any], status: int
) -> None:
    code, body = api.call(http_request("POST", "/workflows/ord-1001/commands", command))
    assert code == status
    assert body["error"] == "InvalidRequest"


def test_command_for_an_unknown_workflow_is_404(api: Api, http_request: MakeRequest) -> None:
    code, _ = api.call(
        http_request("POST", "/workflows/ord-404/commands", {"command": "resume", "reason": "x"})
    )
    assert code == 404


def test_command_without_a_caller_identity_is_403(api: Api, http_request: MakeRequest) -> None:
    request = http_request(
        "POST", "/workflows/ord-1001/commands", {"command": "cancel", "reason": "x"}, iam={}
    )
    code, body = api.call(request)
    assert code == 403
    assert body["error"] == "CallerUnknown"


def test_lambda_handler_publishes_to_the_bus_and_reads_the_table(
    workflows_table: Any, http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    # GIVEN the bus with a rule capturing orders, and an empty workflows table
    bus_name, region = os.environ["EVENT_BUS_NAME"], os.environ["AWS_REGION"]
    events = boto3.client("events", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    events.create_event_bus(Name=bus_name)
    url = sqs.create_queue(QueueName="orders-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="orders", EventBusName=bus_name, EventPattern=json.dumps({"source": ["commerce.orders"]})
    )
    events.put_targets(Rule="orders", EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": arn}])
    sys.modules.pop("frontdoor.handler", None)
    from frontdoor import handler  # noqa: PLC0415 - a cold start inside the mock, reading the test env

    context = type(
        "Context",
        (),
        {
            "function_name": "frontdoor",
            "memory_limit_in_mb": 256,
            "invoked_function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:fd",
            "aws_request_id": "req",
        },
    )()
    # WHEN an order is posted and an unknown workflow is read
    posted = handler.lambda_handler(http_request("POST", "/start/order", order_body), context)
    missing = handler.lambda_handler(http_request("GET", "/workflows/ord-1001"), context)
    decision = http_request("POST", "/workflows/ord-1001/steps/payment/complete")
    decided = handler.lambda_handler(decision, context)
    # THEN 202 and the event is on the bus; the workflow is not recorded yet, so 404 (to a decision too)
    assert posted["statusCode"] == 202
    assert missing["statusCode"] == 404
    assert (decided["statusCode"], json.loads(decided["body"])["error"]) == (404, "WorkflowNotFound")
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    delivered = parse_event(message["Body"])
    assert delivered.detail_type == "OrderSubmitted"
    assert delivered.event_id == "ord-1001:req-0001"


def test_starting_with_an_id_another_workflow_type_holds_is_409(
    api: Api, http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    # GIVEN ord-1001 already names an instance of another workflow type
    api.statuses["ord-1001"] = {**RUNNING, "workflowType": "billing"}
    status, body = api.call(http_request("POST", "/start/order", order_body))
    # THEN the client is told, and nothing is published (the controller would refuse it anyway)
    assert status == 409
    assert body["error"] == "WorkflowIdTaken"
    assert isinstance(api.publisher, RecordingPublisher)
    assert api.publisher.events == []


@pytest.mark.parametrize(("recorded", "expected"), [("billing", 409), ("order", 202), (None, 202)])
def test_a_start_asks_the_type_reader_when_it_has_one_and_reads_no_status(
    http_request: MakeRequest, order_body: dict[str, Any], recorded: str | None, expected: int
) -> None:
    # GIVEN a front door that can read the type an id names (the deployed one reads one item, not the
    # whole status document with its timeline)
    publisher = RecordingPublisher()
    asked: list[str] = []

    def status_reader(workflow_id: str) -> dict[str, Any] | None:
        raise AssertionError(f"a start read the status of {workflow_id}")

    def type_reader(workflow_id: str) -> str | None:
        asked.append(workflow_id)
        return recorded

    app = build_app(
        FrontDoor(
            publisher=publisher, status_reader=status_reader, type_reader=type_reader, registry=deployed()
        ),
        logger=Logger(service="test"),
    )
    response = app.resolve(http_request("POST", "/start/order", order_body), None)  # type: ignore[arg-type]
    # THEN the type decides, as the status document's did
    assert response["statusCode"] == expected
    assert asked == ["ord-1001"]
    assert len(publisher.events) == (expected == 202)


def test_starting_again_with_the_id_of_the_same_type_is_accepted_and_deduplicated_downstream(
    api: Api, http_request: MakeRequest, order_body: dict[str, Any]
) -> None:
    status, _ = api.call(http_request("POST", "/start/order", order_body))  # ord-1001 is an order already
    assert status == 202
