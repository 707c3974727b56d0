"""Building and publishing events in the envelope.

:class:`EventPublisher` is the seam: :class:`EventBridgePublisher` sends to the bus,
:class:`RecordingPublisher` keeps events in memory for tests.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workflow_core import clock, registry
from workflow_core.catalog import DomainEvent, EventCatalog
from workflow_core.envelope import ContractModel, EventMetadata, WorkflowContext
from workflow_core.errors import PublishError

PUT_EVENTS_BATCH = 10  # EventBridge's limit of entries per PutEvents call


@dataclass(frozen=True)
class OutgoingEvent:
    detail_type: str
    source: str
    metadata: EventMetadata
    data: ContractModel
    workflow: WorkflowContext | None = None

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"metadata": self.metadata.to_wire()}
        if self.workflow is not None:
            detail["workflow"] = self.workflow.to_wire()
        detail["data"] = self.data.to_wire()
        return detail


def derived_event_id(cause_event_id: str, detail_type: str, key: str | None = None) -> str:
    """The id of an event caused by another: the same cause always yields the same id.

    A redelivered cause therefore republishes the same id and consumers deduplicate it. Hashed, so
    ids stay short however long the chain of causes grows.
    """
    digest = hashlib.sha256(f"{cause_event_id}|{detail_type}|{key or ''}".encode()).hexdigest()[:32]
    return f"{detail_type}-{digest}"


def new_event(
    detail_type: str,
    data: ContractModel,
    *,
    event_id: str,
    correlation_id: str,
    caused_by: DomainEvent | None,
    producer: str,
    workflow: WorkflowContext | None = None,
    catalog: EventCatalog | None = None,
) -> OutgoingEvent:
    """An event of the catalog's current version, stamped now, in ``workflow``'s context.

    ``event_id`` is derived by the caller from what caused it (see :func:`derived_event_id`).
    ``catalog`` defaults to the deployed workflows' catalog.
    """
    etype = (catalog or registry.deployed().catalog).event_type(detail_type)
    if not isinstance(data, etype.model):
        raise TypeError(f"{detail_type} data must be {etype.model.__name__}, not {type(data).__name__}")
    metadata = EventMetadata(
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=caused_by.event_id if caused_by else None,
        schema_version=etype.current_version,
        occurred_at=clock.now(),
        producer=producer,
    )
    return OutgoingEvent(
        detail_type=detail_type, source=etype.source, metadata=metadata, data=data, workflow=workflow
    )


class EventPublisher(ABC):
    @abstractmethod
    def publish(self, events: Sequence[OutgoingEvent]) -> None:
        """Publish all events or raise :class:`PublishError`."""


class EventBridgePublisher(EventPublisher):
    def __init__(self, *, bus_name: str, client: Any) -> None:
        self._bus_name = bus_name
        self._client = client

    def publish(self, events: Sequence[OutgoingEvent]) -> None:
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            batch = events[start : start + PUT_EVENTS_BATCH]
            response = self._client.put_events(Entries=[self._entry(e) for e in batch])
            if response.get("FailedEntryCount", 0):
                failures = [
                    f"{e.detail_type}: {r.get('ErrorCode')} {r.get('ErrorMessage')}"
                    for e, r in zip(batch, response["Entries"], strict=True)
                    if "ErrorCode" in r
                ]
                raise PublishError("PutEvents rejected " + "; ".join(failures))

    def _entry(self, event: OutgoingEvent) -> dict[str, Any]:
        return {
            "EventBusName": self._bus_name,
            "Source": event.source,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail(), separators=(",", ":")),
        }


class RecordingPublisher(EventPublisher):
    """Keeps what was published, in publishing sequence; for tests."""

    def __init__(self) -> None:
        self.events: list[OutgoingEvent] = []

    def publish(self, events: Sequence[OutgoingEvent]) -> None:
        self.events.extend(events)

    def detail_types(self) -> list[str]:
        return [e.detail_type for e in self.events]
