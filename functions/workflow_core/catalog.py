"""The event catalog: which source owns each detail-type, which schema versions exist, how old ones upcast.

Consumers call :func:`parse_event` on every EventBridge event; it returns a typed :class:`DomainEvent`
at the current schema version or raises a subclass of :class:`InvalidEventError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from workflow_core import events as ev
from workflow_core.envelope import ContractModel, Envelope, EventMetadata
from workflow_core.errors import (
    MalformedEventError,
    UnexpectedEventSourceError,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# Sources are "<domain>.<service>": the producer that owns the detail-type.
SOURCE_ORDERS = "commerce.orders"
SOURCE_CONTROLLER = "workflow.controller"
SOURCE_SCHEDULER = "workflow.scheduler"
SOURCE_OPERATOR = "workflow.operator"
SOURCE_PAYMENTS = "commerce.payments"
SOURCE_INVENTORY = "commerce.inventory"
SOURCE_SHIPPING = "commerce.shipping"
SOURCE_NOTIFICATIONS = "commerce.notifications"


@dataclass(frozen=True)
class EventType:
    """One detail-type: its owning source, its model per version, and upcasters to the next version."""

    name: str
    source: str
    versions: Mapping[int, type[ContractModel]]
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)

    @property
    def current_version(self) -> int:
        return max(self.versions)

    @property
    def model(self) -> type[ContractModel]:
        return self.versions[self.current_version]


def _order_submitted_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    v1 = ev.OrderSubmittedV1.model_validate(data)
    fields = v1.model_dump(by_alias=True, mode="json", exclude={"amount"})
    fields["amountMinor"] = int(v1.amount * 100)
    return fields


def _types(*types: EventType) -> dict[str, EventType]:
    return {t.name: t for t in types}


CATALOG: Mapping[str, EventType] = _types(
    EventType(
        "OrderSubmitted",
        SOURCE_ORDERS,
        {1: ev.OrderSubmittedV1, 2: ev.OrderSubmitted},
        {1: _order_submitted_v1_to_v2},
    ),
    EventType("WorkflowStarted", SOURCE_CONTROLLER, {1: ev.WorkflowStarted}),
    EventType("WorkflowCompleted", SOURCE_CONTROLLER, {1: ev.WorkflowOutcome}),
    EventType("WorkflowCompensated", SOURCE_CONTROLLER, {1: ev.WorkflowOutcome}),
    EventType("WorkflowFailed", SOURCE_CONTROLLER, {1: ev.WorkflowOutcome}),
    EventType("WorkflowEscalated", SOURCE_CONTROLLER, {1: ev.WorkflowEscalated}),
    EventType("StepRetryRequested", SOURCE_CONTROLLER, {1: ev.StepRetryRequested}),
    EventType("RefundRequested", SOURCE_CONTROLLER, {1: ev.RefundRequested}),
    EventType("InventoryReleaseRequested", SOURCE_CONTROLLER, {1: ev.InventoryReleaseRequested}),
    EventType("ShipmentCancellationRequested", SOURCE_CONTROLLER, {1: ev.ShipmentCancellationRequested}),
    EventType("StepDeadlineReached", SOURCE_SCHEDULER, {1: ev.StepDeadlineReached}),
    EventType("OperatorCommandIssued", SOURCE_OPERATOR, {1: ev.OperatorCommandIssued}),
    EventType("PaymentProcessed", SOURCE_PAYMENTS, {1: ev.PaymentProcessed}),
    EventType("PaymentFailed", SOURCE_PAYMENTS, {1: ev.PaymentFailed}),
    EventType("PaymentRefunded", SOURCE_PAYMENTS, {1: ev.PaymentRefunded}),
    EventType("RefundFailed", SOURCE_PAYMENTS, {1: ev.RefundFailed}),
    EventType("InventoryReserved", SOURCE_INVENTORY, {1: ev.InventoryReserved}),
    EventType("InventoryReservationFailed", SOURCE_INVENTORY, {1: ev.InventoryReservationFailed}),
    EventType("InventoryReleased", SOURCE_INVENTORY, {1: ev.InventoryReleased}),
    EventType("InventoryReleaseFailed", SOURCE_INVENTORY, {1: ev.InventoryReleaseFailed}),
    EventType("ShippingScheduled", SOURCE_SHIPPING, {1: ev.ShippingScheduled}),
    EventType("ShippingFailed", SOURCE_SHIPPING, {1: ev.ShippingFailed}),
    EventType("ShipmentCancelled", SOURCE_SHIPPING, {1: ev.ShipmentCancelled}),
    EventType("ShipmentCancellationFailed", SOURCE_SHIPPING, {1: ev.ShipmentCancellationFailed}),
    EventType("CustomerNotified", SOURCE_NOTIFICATIONS, {1: ev.CustomerNotified}),
)


@dataclass(frozen=True)
class DomainEvent:
    """A validated event: EventBridge's id and time, the envelope metadata, and typed data."""

    detail_type: str
    source: str
    metadata: EventMetadata
    data: ContractModel
    eventbridge_id: str | None = None

    @property
    def event_id(self) -> str:
        return self.metadata.event_id

    @property
    def correlation_id(self) -> str:
        return self.metadata.correlation_id


def event_type(name: str) -> EventType:
    try:
        return CATALOG[name]
    except KeyError:
        raise UnknownEventTypeError(f"no schema is registered for detail-type {name!r}") from None


def source_of(name: str) -> str:
    return event_type(name).source


def parse_event(event: Mapping[str, Any] | str) -> DomainEvent:
    """Validate an EventBridge event (as delivered to a target) against the catalog."""
    raw = _as_mapping(event)
    detail_type = raw.get("detail-type")
    source = raw.get("source")
    if not isinstance(detail_type, str) or not isinstance(source, str):
        raise MalformedEventError("event lacks 'detail-type' or 'source'")
    etype = event_type(detail_type)
    if source != etype.source:
        raise UnexpectedEventSourceError(f"{detail_type} must come from {etype.source!r}, not {source!r}")
    detail = raw.get("detail")
    if isinstance(detail, str):
        detail = _as_mapping(detail)
    try:
        envelope = Envelope.model_validate(detail)
    except ValidationError as error:
        raise MalformedEventError(f"{detail_type}: invalid envelope: {_summary(error)}") from None
    data = _upcast(etype, envelope.metadata.schema_version, envelope.data)
    try:
        model = etype.model.model_validate(data)
    except ValidationError as error:
        raise MalformedEventError(f"{detail_type}: invalid data: {_summary(error)}") from None
    return DomainEvent(
        detail_type=detail_type,
        source=source,
        metadata=envelope.metadata,
        data=model,
        eventbridge_id=raw.get("id") if isinstance(raw.get("id"), str) else None,
    )


def _upcast(etype: EventType, version: int, data: dict[str, Any]) -> dict[str, Any]:
    if version not in etype.versions:
        raise UnsupportedSchemaVersionError(
            f"{etype.name} schema version {version} is not supported (known: {sorted(etype.versions)})"
        )
    try:
        while version < etype.current_version:
            data = etype.upcasters[version](data)
            version += 1
    except ValidationError as error:
        raise MalformedEventError(f"{etype.name} v{version}: invalid data: {_summary(error)}") from None
    return data


def _as_mapping(value: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise MalformedEventError(f"event is not valid JSON: {error.msg}") from None
    if not isinstance(value, Mapping):
        raise MalformedEventError("event is not a JSON object")
    return value


def _summary(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every detail-type and version, keyed "<DetailType>.v<N>" (for the catalog docs)."""
    schemas: dict[str, dict[str, Any]] = {}
    for etype in CATALOG.values():
        for version, model in etype.versions.items():
            data_schema = model.model_json_schema(by_alias=True)
            metadata_schema = EventMetadata.model_json_schema(by_alias=True)
            # pydantic's "$ref": "#/$defs/..." point at the document root: hoist the definitions there.
            definitions = {**data_schema.pop("$defs", {}), **metadata_schema.pop("$defs", {})}
            schema: dict[str, Any] = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": f"{etype.name} v{version}",
                "description": f"detail of a {etype.name} event from {etype.source}",
                "type": "object",
                "required": ["metadata", "data"],
                "properties": {"metadata": metadata_schema, "data": data_schema},
            }
            if definitions:
                schema["$defs"] = definitions
            schemas[f"{etype.name}.v{version}"] = schema
    return schemas
