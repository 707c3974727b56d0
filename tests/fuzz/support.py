"""The app under fuzzing: its entry points, the events its consumers really received, and its state.

Entry points are found the way AWS finds them: from each function's ``Handler`` in the synthesized
template (``controller.handler.lambda_handler``...), and invoked as their trigger invokes them: an SQS
batch as the event-source mapping sends it, an HTTP API request through API Gateway, a task payload
through Lambda's Invoke API. The *state* compared before and after an example is everything a user
could see change: every table's items, the events published on the bus, the executions of every state
machine, the schedules and the notifications sent.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from simulations.onboarding.driver import OnboardingDriver
from simulations.onboarding.scenarios import SCENARIOS as ONBOARDING
from simulations.onboarding.scenarios import application_for
from simulations.order.driver import OrderDriver
from simulations.order.scenarios import SCENARIOS as ORDERS
from simulations.order.scenarios import order_for
from workflowkit import LocalCloud

# The queue-fed functions (handler module -> the consumer's queue, as the template's mappings wire them).
QUEUE_HANDLERS = (
    "controller.handler.lambda_handler",
    "inventory.handler.lambda_handler",
    "shipping.handler.lambda_handler",
    "notification.handler.lambda_handler",
    "accounts.handler.lambda_handler",
    "preferences.handler.lambda_handler",
    "onboarding_notices.handler.lambda_handler",
)
FRONT_DOOR = "frontdoor.handler.lambda_handler"
TASK_HANDLERS = (
    "payment.checks.lambda_handler",
    "payment.gateway.lambda_handler",
    "identity.verification.lambda_handler",
)
# Workflows run to the end before fuzzing, and ones left waiting on a decision (callback routes).
COMPLETED_ORDER = "fz-order-done"
COMPLETED_ONBOARDING = "fz-customer-done"
WAITING_ORDER = "fz-order-waiting"  # its carrier desk has not decided the shipping step yet
WAITING_ONBOARDING = "fz-customer-waiting"  # its compliance officer has not decided the review yet
# What the reference workflows need to reach their waiting steps (far inside every deadline).
SETTLE = timedelta(minutes=30)


@dataclass(frozen=True)
class Invocation:
    """One invocation's answer: the result, or the error Lambda reports (``errorType``)."""

    result: Any
    error_type: str | None
    log: list[dict[str, Any]]  # the JSON log lines the function wrote during this invocation


class FuzzApp:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.orders = OrderDriver(cloud)
        self.onboarding = OnboardingDriver(cloud)
        self.functions = {spec.handler: name for name, spec in cloud.lambdas.functions.items()}
        # Each event's detail as published (the ledger keeps where it went, not what it said).
        self._details: dict[str, dict[str, Any]] = {}
        self._received: dict[str, list[dict[str, Any]]] = {}
        published = cloud.ledger.published

        def keep_detail(**kwargs: Any) -> Any:
            self._details[kwargs["eventbridge_id"]] = kwargs["detail"]
            return published(**kwargs)

        cloud.ledger.published = keep_detail  # type: ignore[method-assign]
        self.tables = sorted(value for key, value in cloud.outputs.items() if key.endswith("TableName"))
        queues = {m.function_name: m.queue_arn for m in cloud.app.mappings} if cloud.app else {}
        self.queue_of = {handler: queues[self.functions[handler]] for handler in QUEUE_HANDLERS}

    # --- the reference run ---------------------------------------------------------------------------
    def run_reference_workflows(self) -> None:
        self.orders.stock()
        self.orders.submit_http(order_for(ORDERS["happy"], COMPLETED_ORDER))
        self.orders.submit_http(order_for(ORDERS["carrier_confirmed"], WAITING_ORDER))
        self.onboarding.start(application_for(ONBOARDING["pass"], COMPLETED_ONBOARDING))
        self.onboarding.start(application_for(ONBOARDING["refer_approved"], WAITING_ONBOARDING))
        self.cloud.run_for(SETTLE)
        for workflow_id, driver, status in (
            (COMPLETED_ORDER, self.orders, "COMPLETED"),
            (WAITING_ORDER, self.orders, "RUNNING"),
            (COMPLETED_ONBOARDING, self.onboarding, "COMPLETED"),
            (WAITING_ONBOARDING, self.onboarding, "RUNNING"),
        ):
            found = driver.status(workflow_id)
            assert found is not None, workflow_id
            assert found["status"] == status, (workflow_id, found["status"])
        self._received = {handler: self._processed_by(handler) for handler in QUEUE_HANDLERS}

    def settle(self) -> None:
        """Run what earlier examples left due soon (a start the front door accepted, say), so that the
        next example's before/after compares only what it caused."""
        loop = self.cloud.loop
        due = loop.next_due()
        if due is not None and due <= self.cloud.clock.now() + SETTLE:
            self.cloud.run_for(SETTLE)

    def received(self, handler: str) -> list[dict[str, Any]]:
        """The events (as SQS bodies carry them) the consumer ``handler`` processed in the reference run
        (the same list for every example, whatever ran since: hypothesis replays examples by their draws)."""
        if handler not in self._received:
            self._received[handler] = self._processed_by(handler)
        return self._received[handler]

    def _processed_by(self, handler: str) -> list[dict[str, Any]]:
        queue = f"queue:{self.queue_of[handler].rsplit(':', 1)[-1]}"
        events = []
        for event in self.cloud.ledger.events.values():
            delivery = event.deliveries.get(queue)
            if delivery is None or delivery.outcome.value != "processed":
                continue
            events.append(self._as_delivered(event.eventbridge_id))
        return events

    def _as_delivered(self, eventbridge_id: str) -> dict[str, Any]:
        event = self.cloud.ledger.events[eventbridge_id]
        detail = self._details[eventbridge_id]
        return {
            "version": "0",
            "id": eventbridge_id,
            "detail-type": event.detail_type,
            "source": event.source,
            "account": self.cloud.account,
            "time": event.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.cloud.region,
            "resources": [],
            "detail": detail,
        }

    # --- invoking entry points -------------------------------------------------------------------------
    def invoke(self, handler: str, event: Any) -> Invocation:
        """Invoke the function whose template ``Handler`` is ``handler``, as Lambda's Invoke API does."""
        name = self.functions[handler]
        log = self.cloud.lambdas.logs[name]
        log.lines.clear()  # what this invocation logs, alone
        payload, errored = self.cloud.lambdas.invoke_json(name, event)
        lines = _json_lines(list(log.lines))
        answer = json.loads(payload)
        if errored:
            return Invocation(None, answer["errorType"], lines)
        return Invocation(answer, None, lines)

    # --- state ------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything an invalid input must leave as it was.

        Read from the local cloud's stores themselves (its DynamoDB engine, moto's backends): an
        observation, not an input, and a fraction of the cost of a client call per table.
        """
        stepfunctions = self.cloud.backend("stepfunctions")
        return {
            "tables": {table: self._items(table) for table in self.tables},
            "published": len(self.cloud.ledger.events),
            "executions": sorted(
                f"{e.execution_arn}:{e.status}"
                for machine in stepfunctions.state_machines
                for e in machine.executions
            ),
            "schedules": sorted(
                f"{group.name}/{name}:{schedule.state}"
                for group in self.cloud.backend("scheduler").schedule_groups.values()
                for name, schedule in group.schedules.items()
            ),
            "notifications": {
                arn.rsplit(":", 1)[-1]: len(topic.sent_notifications)
                for arn, topic in self.cloud.backend("sns").topics.items()
            },
        }

    def _items(self, table: str) -> list[str]:
        items: list[str] = []
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            status, page = self.cloud.dynamodb.engine.handle("Scan", request)
            assert status == 200, page
            items.extend(json.dumps(item, sort_keys=True, default=str) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return sorted(items)
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def sqs_batch(app: FuzzApp, handler: str, bodies: list[str]) -> dict[str, Any]:
    """The SQS event the consumer's event-source mapping sends for ``bodies`` (one record each)."""
    queue_arn = app.queue_of[handler]
    return {
        "Records": [
            {
                "messageId": f"fuzz-{index}",
                "receiptHandle": f"fuzz-receipt-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1767600000000",
                    "SenderId": app.cloud.account,
                    "ApproximateFirstReceiveTimestamp": "1767600000000",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": app.cloud.region,
            }
            for index, body in enumerate(bodies)
        ]
    }


def failed_ids(result: Any) -> set[str]:
    """The records a partial batch response reports as failed."""
    assert isinstance(result, dict), f"not a partial batch response: {result!r}"
    return {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}


def error_family(module: str, base: str) -> set[str]:
    """The names of ``base`` and every subclass of it, as the handlers' own code defines them."""
    root = getattr(sys.modules[module], base)
    names: set[str] = set()
    pending = [root]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def _json_lines(lines: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return parsed


def _ecma_like_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """JSON Schema's ``pattern`` with ASCII ``\\d``, ``\\w`` and ``\\s``, as ECMA-262 (its regex dialect)
    reads the first two. Python's ``re`` takes ``\\x1f`` for whitespace and Arabic-Indic digits for
    digits; an oracle reading patterns that way calls valid text invalid."""
    if validator.is_type(instance, "string") and not re.search(pattern, instance, re.ASCII):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The documented contracts (the catalog's JSON Schemas) as an oracle: what it rules out, the app must too.
ContractValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_like_pattern})
