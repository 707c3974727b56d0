"""Builders of orders and events for tests: one place that knows what a valid one looks like."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from order_workflow import events as ev
from workflow_core.catalog import DomainEvent, EventCatalog
from workflow_core.envelope import ContractModel, EventMetadata, WorkflowContext
from workflow_core.registry import deployed, parse_event

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def order(
    order_id: str = "o-1001",
    *,
    token: str = "tok_visa",
    country: str = "DE",
    lines: tuple[tuple[str, int, int], ...] = (("SKU-RED-MUG", 2, 1250), ("SKU-TEA", 1, 800)),
) -> ev.Order:
    items = tuple(ev.OrderLine(sku=s, quantity=q, unit_price_minor=p) for s, q, p in lines)
    return ev.Order(
        order_id=order_id,
        customer_id="c-42",
        items=items,
        amount_minor=sum(i.quantity * i.unit_price_minor for i in items),
        currency="EUR",
        payment_token=token,
        shipping_address=ev.Address(line1="Hauptstr. 1", city="Berlin", postal_code="10115", country=country),
    )


def domain_event(
    detail_type: str,
    data: ContractModel,
    *,
    event_id: str,
    correlation_id: str = "o-1001",
    at: datetime = T0,
    causation_id: str | None = None,
    workflow: WorkflowContext | bool | None = True,
    catalog: EventCatalog | None = None,
) -> DomainEvent:
    """``workflow``: True gives every event but the start event the order workflow's context for
    ``order(correlation_id)``; pass a context, or None for an event outside any workflow."""
    etype = (catalog or deployed().catalog).event_type(detail_type)
    if workflow is True:
        workflow = None if detail_type == "OrderSubmitted" else order_context(correlation_id)
    elif workflow is False:
        workflow = None
    metadata = EventMetadata(
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        schema_version=etype.current_version,
        occurred_at=at,
        producer=etype.source,
    )
    return DomainEvent(
        detail_type=detail_type, source=etype.source, metadata=metadata, data=data, workflow=workflow
    )


def order_context(
    order_id: str = "o-1001", *, subject: ev.Order | None = None, outputs: dict[str, Any] | None = None
) -> WorkflowContext:
    """The order workflow's context for an instance (its subject ``order(order_id)`` unless given)."""
    return WorkflowContext(
        name="order",
        version=1,
        subject=(subject or order(order_id)).to_wire(),
        outputs=outputs or {},
    )


def eventbridge_event(event: DomainEvent, *, bus: str = "workflow-bus") -> dict[str, Any]:
    """The event as EventBridge delivers it to a target (e.g. the body of an SQS message)."""
    return {
        "version": "0",
        "id": f"eb-{event.event_id}",
        "detail-type": event.detail_type,
        "source": event.source,
        "account": "123456789012",
        "time": event.metadata.occurred_at.isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": _detail(event),
        "event-bus-name": bus,
    }


def _detail(event: DomainEvent) -> dict[str, Any]:
    detail: dict[str, Any] = {"metadata": event.metadata.to_wire()}
    if event.workflow is not None:
        detail["workflow"] = event.workflow.to_wire()
    detail["data"] = event.data.to_wire()
    return detail


def sqs_batch(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS event-source batch whose records carry the given bodies."""
    records = []
    for n, body in enumerate(bodies):
        records.append(
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"rh-{n}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def roundtrip(event: DomainEvent) -> DomainEvent:
    """Through the wire and back: what a consumer actually receives."""
    return parse_event(eventbridge_event(event))


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "test-function"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "stream"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def create_pk_sk_table(dynamodb: Any, name: str) -> Any:
    """A pay-per-request table keyed by the strings ``pk`` and ``sk`` (boto3 DynamoDB client or resource);
    returns what ``create_table`` does (the resource's ``Table``, the client's description)."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
