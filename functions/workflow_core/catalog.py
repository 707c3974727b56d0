"""Event contracts: which source owns each detail-type, which schema versions exist, how old ones upcast.

An :class:`EventCatalog` holds the kit's lifecycle events and every deployed workflow's own contracts
(``workflow_core.registry`` builds it from the declarations). :meth:`EventCatalog.parse` turns an
EventBridge event into a typed :class:`DomainEvent` at the current schema version or raises a subclass of
:class:`InvalidEventError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from workflow_core import lifecycle as lc
from workflow_core.envelope import ContractModel, Envelope, EventMetadata, WorkflowContext
from workflow_core.errors import (
    MalformedEventError,
    UnexpectedEventSourceError,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class EventType:
    """One detail-type: its owning source, its model per version, and upcasters to the next version.

    ``announcement``: published for whoever cares (people, other systems, an audit), consumed by nothing
    that must act on it, so it may match no rule at all. Any other event that matches no rule was
    misrouted or never wired: the simulator's "nothing lost" invariant reports it.
    """

    name: str
    source: str
    versions: Mapping[int, type[ContractModel]]
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)
    announcement: bool = False

    @property
    def current_version(self) -> int:
        return max(self.versions)

    @property
    def model(self) -> type[ContractModel]:
        return self.versions[self.current_version]


def dropping(*names: str) -> Upcaster:
    """An upcaster for a version that only removed fields (camelCase, as on the wire)."""

    def upcast(data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in data.items() if key not in names}

    return upcast


# The kit's own events. Version 1 carried one domain's subject in the data (see workflow_core.lifecycle).
# The workflow announcements (``lifecycle.ANNOUNCEMENTS``) are for listeners a workflow may or may not have.
LIFECYCLE_TYPES: tuple[EventType, ...] = (
    EventType(lc.WORKFLOW_STARTED, lc.SOURCE_CONTROLLER, {2: lc.WorkflowStarted}, announcement=True),
    EventType(lc.WORKFLOW_COMPLETED, lc.SOURCE_CONTROLLER, {2: lc.WorkflowOutcome}, announcement=True),
    EventType(lc.WORKFLOW_COMPENSATED, lc.SOURCE_CONTROLLER, {2: lc.WorkflowOutcome}, announcement=True),
    EventType(lc.WORKFLOW_FAILED, lc.SOURCE_CONTROLLER, {2: lc.WorkflowOutcome}, announcement=True),
    EventType(lc.WORKFLOW_ESCALATED, lc.SOURCE_CONTROLLER, {2: lc.WorkflowEscalated}, announcement=True),
    EventType(lc.STEP_RETRY_REQUESTED, lc.SOURCE_CONTROLLER, {2: lc.StepRetryRequested}),
    EventType(lc.STEP_DEADLINE_REACHED, lc.SOURCE_SCHEDULER, {1: lc.StepDeadlineReached}),
    EventType(lc.OPERATOR_COMMAND_ISSUED, lc.SOURCE_OPERATOR, {1: lc.OperatorCommandIssued}),
    EventType(lc.STEP_REQUESTED, lc.SOURCE_CONTROLLER, {1: lc.StepRequested}),
    EventType(lc.STEP_DECIDED, lc.SOURCE_CALLBACK, {1: lc.StepDecided}),
    EventType(lc.DECISION_REQUESTED, lc.SOURCE_CONTROLLER, {1: lc.DecisionRequested}, announcement=True),
    EventType(lc.DECISION_REMINDER, lc.SOURCE_CONTROLLER, {1: lc.DecisionReminder}, announcement=True),
)


@dataclass(frozen=True)
class DomainEvent:
    """A validated event: EventBridge's id and time, the envelope metadata, and typed data."""

    detail_type: str
    source: str
    metadata: EventMetadata
    data: ContractModel
    eventbridge_id: str | None = None
    workflow: WorkflowContext | None = None  # None on events from outside any workflow

    @property
    def event_id(self) -> str:
        return self.metadata.event_id

    @property
    def correlation_id(self) -> str:
        return self.metadata.correlation_id


class EventCatalog(Mapping[str, EventType]):
    """detail-type -> :class:`EventType`; one name has one definition, wherever it is declared."""

    def __init__(self, types: Iterable[EventType]) -> None:
        self._types: dict[str, EventType] = {}
        for etype in types:
            known = self._types.get(etype.name)
            if known is not None and known != etype:
                raise ValueError(f"detail-type {etype.name!r} is declared twice, differently")
            self._types[etype.name] = etype

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def event_type(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventTypeError(f"no schema is registered for detail-type {name!r}") from None

    def source_of(self, name: str) -> str:
        return self.event_type(name).source

    def parse(self, event: Mapping[str, Any] | str) -> DomainEvent:
        """Validate an EventBridge event (as delivered to a target) against the catalog."""
        raw = _as_mapping(event)
        detail_type = raw.get("detail-type")
        source = raw.get("source")
        if not isinstance(detail_type, str) or not isinstance(source, str):
            raise MalformedEventError("event lacks 'detail-type' or 'source'")
        etype = self.event_type(detail_type)
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
            workflow=envelope.workflow,
        )

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        """JSON Schema of every detail-type and version, keyed "<DetailType>.v<N>" (for the catalog docs)."""
        schemas: dict[str, dict[str, Any]] = {}
        for etype in self._types.values():
            for version, model in etype.versions.items():
                schemas[f"{etype.name}.v{version}"] = _schema(etype, version, model)
        return schemas


def _upcast(etype: EventType, version: int, data: dict[str, Any]) -> dict[str, Any]:
    if version not in etype.versions:
        raise UnsupportedSchemaVersionError(
            f"{etype.name} schema version {version} is not supported (known: {sorted(etype.versions)})"
        )
    try:
        if version < etype.current_version:
            # An old version's data must be what that version said: an upcaster that only drops a field
            # would otherwise pass an event lacking what its version requires as a valid newer one.
            etype.versions[version].model_validate(data)
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


def _schema(etype: EventType, version: int, model: type[ContractModel]) -> dict[str, Any]:
    data_schema = model.model_json_schema(by_alias=True)
    metadata_schema = EventMetadata.model_json_schema(by_alias=True)
    context_schema = WorkflowContext.model_json_schema(by_alias=True)
    # pydantic's "$ref": "#/$defs/..." point at the document root: hoist the definitions there.
    definitions = {
        **data_schema.pop("$defs", {}),
        **metadata_schema.pop("$defs", {}),
        **context_schema.pop("$defs", {}),
    }
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{etype.name} v{version}",
        "description": f"detail of a {etype.name} event from {etype.source}",
        "type": "object",
        "required": ["metadata", "data"],
        "properties": {"metadata": metadata_schema, "workflow": context_schema, "data": data_schema},
    }
    if definitions:
        schema["$defs"] = definitions
    return schema
