"""A small local cloud for the payment service: moto runs the ASL, the task Lambdas run in-process.

Only what the payment and refund state machines touch: the payments table, the bus with a rule that
copies every ``commerce.payments`` event into a queue the tests read, the two Lambdas, and the state
machines from ``statemachines/`` with their placeholders substituted. Retry waits and Wait states are
recorded, not slept; a test may act at each Wait through ``on_wait`` (it runs on the execution's thread).
"""

from __future__ import annotations

import importlib
import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction

from tests.factories import create_pk_sk_table

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "events" / "payment"
TABLE = "payments"
BUS = "workflow-bus"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def payment_input(order_id: str = "o-1001", *, token: str = "tok_visa", **order: Any) -> dict[str, Any]:
    """The controller's WorkflowStarted detail for one order: the order is the workflow context's subject.

    ``order`` overrides fields of that subject (camelCase, as on the wire).
    """
    event = load_event("workflow_started.json")
    event["metadata"].update(
        eventId=f"evt-order-{order_id}:WorkflowStarted",
        correlationId=order_id,
        causationId=f"evt-order-{order_id}",
    )
    event["data"].update(workflowId=order_id)
    event["workflow"]["subject"].update(orderId=order_id, paymentToken=token, **order)
    return event


def refund_input(
    order_id: str = "o-1001", *, event_id: str | None = None, compensation_attempt: int | None = 1
) -> dict[str, Any]:
    """RefundRequested as the EventBridge rule hands it to the refund state machine.

    Its workflow context holds the order as subject and the payment step's output.
    ``compensation_attempt=None`` drops the field, as in events older than that contract.
    """
    event = load_event("refund_requested.json")
    event["detail"]["metadata"].update(
        eventId=event_id or f"evt-inv-{order_id}:RefundRequested", correlationId=order_id
    )
    event["detail"]["data"]["orderId"] = order_id
    event["detail"]["workflow"]["subject"]["orderId"] = order_id
    event["detail"]["workflow"]["outputs"]["payment"].update(orderId=order_id, paymentId=f"pay_{order_id}")
    if compensation_attempt is None:
        del event["detail"]["data"]["compensationAttempt"]
    else:
        event["detail"]["data"]["compensationAttempt"] = compensation_attempt
    return event


class PaymentCloud:
    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.retry_waits: list[float] = []
        self.waits: list[int] = []  # the seconds of every Wait state entered, in order
        self.on_wait: Callable[[int], None] | None = None  # called with the number of Waits so far
        self.invocations: list[dict[str, Any]] = []
        self._create_table()
        self.queue_url = self._capture_published_events()
        functions = {
            "checks": self._create_function("payment-checks", "payment.checks.lambda_handler"),
            "gateway": self._create_function("payment-gateway", "payment.gateway.lambda_handler"),
        }
        substitutions = {
            "ChecksFunctionArn": functions["checks"],
            "GatewayFunctionArn": functions["gateway"],
            "PaymentsTableName": TABLE,
            "EventBusName": BUS,
        }
        self.machines = {
            name: self._create_state_machine(name, substitutions) for name in ("payment", "refund")
        }

    # --- running ------------------------------------------------------------------------------------
    def run(self, machine: str, payload: dict[str, Any], *, name: str) -> dict[str, Any]:
        return self.finished(self.start(machine, payload, name=name))

    def start(self, machine: str, payload: dict[str, Any], *, name: str) -> str:
        """Start an execution without waiting for it; returns its ARN."""
        return str(
            self.sfn.start_execution(
                stateMachineArn=self.machines[machine], name=name, input=json.dumps(payload)
            )["executionArn"]
        )

    def finished(self, arn: str) -> dict[str, Any]:
        """Wait for an execution to stop; returns its description."""
        name = arn.rsplit(":", 1)[-1]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            execution = self.sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                return execution
            time.sleep(0.01)
        raise TimeoutError(f"{name} still running")

    def states_entered(self, execution: dict[str, Any]) -> list[str]:
        events = self.sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)[
            "events"
        ]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def published(self) -> list[dict[str, Any]]:
        """Every event the state machines put on the bus so far, in order, as a target receives it."""
        events = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def items(self, order_id: str) -> dict[str, dict[str, Any]]:
        """The payments-table items of one order, by sort key, attribute values unwrapped; the gateway's
        record of calls (``CALL#...``) is :meth:`calls`."""
        return {sk: item for sk, item in self._all_items(order_id).items() if not sk.startswith("CALL#")}

    def calls(self, order_id: str) -> list[dict[str, Any]]:
        """The gateway's record of the order's money calls, one item per call."""
        return [item for sk, item in sorted(self._all_items(order_id).items()) if sk.startswith("CALL#")]

    def _all_items(self, order_id: str) -> dict[str, dict[str, Any]]:
        response = self.dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
        )
        return {
            item["sk"]["S"]: {k: next(iter(v.values())) for k, v in item.items()}
            for item in response["Items"]
        }

    def wait(self, seconds: int) -> None:
        """Stands in for a Wait state's sleep: record it and let the test act."""
        self.waits.append(seconds)
        if self.on_wait is not None:
            self.on_wait(len(self.waits))

    # --- in-process Lambda ------------------------------------------------------------------------------
    def invoke(self, function: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        """Stands in for moto's Docker invoke: run the real handler, report errors as Lambda does."""
        module_name, handler_name = function.handler.rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), handler_name)
        self.invocations.append({"function": function.function_name, "event": event})
        context = SimpleNamespace(
            function_name=function.function_name,
            memory_limit_in_mb=128,
            invoked_function_arn=function.function_arn,
            aws_request_id=f"req-{len(self.invocations)}",
        )
        try:
            result = handler(event, context)
        except Exception as error:
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}), True, ""
        return json.dumps(result), False, ""

    # --- setup ------------------------------------------------------------------------------------------
    def _create_table(self) -> None:
        create_payments_table(self.dynamodb)

    def _capture_published_events(self) -> str:
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        queue_url = self.sqs.create_queue(QueueName="payment-events")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="payments", EventBusName=BUS, EventPattern=json.dumps({"source": ["commerce.payments"]})
        )
        events.put_targets(Rule="payments", EventBusName=BUS, Targets=[{"Id": "capture", "Arn": queue_arn}])
        return queue_url

    def _create_function(self, name: str, handler: str) -> str:
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName=f"{name}-role", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("placeholder.py", "")
        return boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler=handler,
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": {"PAYMENTS_TABLE_NAME": TABLE, "PAYMENT_GATEWAY": "sandbox"}},
        )["FunctionArn"]

    def _create_state_machine(self, name: str, substitutions: dict[str, str]) -> str:
        definition = (ROOT / "statemachines" / f"{name}.asl.json").read_text()
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", value)
        assert "${" not in definition, f"{name}: a placeholder has no substitution"
        return self.sfn.create_state_machine(
            name=name,
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}-sfn",
            type="STANDARD",
        )["stateMachineArn"]


def create_payments_table(client: Any) -> None:
    create_pk_sk_table(client, TABLE)
