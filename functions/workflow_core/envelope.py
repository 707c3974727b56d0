"""The envelope every event carries in its EventBridge ``detail``: ``{"metadata": {...}, "data": {...}}``.

``metadata`` ties the event into its workflow (``correlationId``), into the chain that caused it
(``causationId``) and into the schema it was written with (``schemaVersion``); ``eventId`` is the key
every consumer deduplicates on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ContractModel(BaseModel):
    """Base of every contract model: camelCase on the wire, snake_case in Python, no unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class EventMetadata(ContractModel):
    event_id: str = Field(min_length=1, max_length=200)
    correlation_id: str = Field(min_length=1, max_length=200)
    causation_id: str | None = Field(default=None, max_length=200)
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=100)


class Envelope(ContractModel):
    """The raw envelope: metadata checked, data still a plain object until its schema is known."""

    metadata: EventMetadata
    data: dict[str, Any]
