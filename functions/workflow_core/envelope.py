"""The envelope every event carries in its EventBridge ``detail``: ``{"metadata", "workflow", "data"}``.

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
    """Base of every contract model: camelCase on the wire, snake_case in Python, no unknown fields.

    Each model's validator and serializer are built when the model is first used, not when its module is
    imported (``defer_build``): every function imports the whole deployed catalog, and uses a few of its
    models (docs/decisions/0042).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        defer_build=True,
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


class WorkflowContext(ContractModel):
    """Which workflow instance an event belongs to, and what every step of it may read.

    The kit carries it from each event to the events it causes (docs/decisions/0022), so a step gets the
    workflow's subject, and the outputs of the steps before it, without the previous step's event
    having to carry them: adding or moving steps never changes another service's contract.
    ``outputs`` holds, per completed step, the data of the event that completed it (wire form).
    """

    name: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    subject: dict[str, Any]
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        # The subject and outputs are wire-form JSON already (validated when they entered): copying
        # them as they are is exact, and much cheaper than pydantic serializing values typed Any.
        return {"name": self.name, "version": self.version, "subject": self.subject, "outputs": self.outputs}

    def with_output(self, step: str, data: dict[str, Any]) -> WorkflowContext:
        """This context plus ``step``'s output (unchanged when already there)."""
        if self.outputs.get(step) == data:
            return self
        return self.model_copy(update={"outputs": {**self.outputs, step: data}})


class Envelope(ContractModel):
    """The raw envelope: metadata checked, data still a plain object until its schema is known.

    ``workflow`` is absent on events from outside any workflow (the events that start one).
    """

    metadata: EventMetadata
    workflow: WorkflowContext | None = None
    data: dict[str, Any]
