"""The deployed workflows: every declaration (and live version) one stack runs, and their event catalog.

The list itself is the app's, in one module (``workflow_registry`` at the top of the functions folder,
``WORKFLOWS = (...)``): the stack derives its resources from it and every function reads it at cold
start, so what is deployed and what runs are the same list. ``WORKFLOW_REGISTRY`` names another module
(tests declare workflows of their own that way).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from workflow_core import lifecycle as lc
from workflow_core.catalog import LIFECYCLE_TYPES, DomainEvent, EventCatalog, EventType
from workflow_core.definition import WorkflowDefinition
from workflow_core.envelope import WorkflowContext
from workflow_core.errors import InvalidEventError, UnknownWorkflowError

REGISTRY_MODULE = "workflow_registry"
REGISTRY_ENV = "WORKFLOW_REGISTRY"


class Registry:
    """Declarations by name and version. New instances start on the newest version of a name."""

    def __init__(self, definitions: Iterable[WorkflowDefinition]) -> None:
        self.definitions: tuple[WorkflowDefinition, ...] = tuple(definitions)
        if not self.definitions:
            raise ValueError("no workflow is declared")
        self._by_key: dict[tuple[str, int], WorkflowDefinition] = {}
        self._starts: dict[str, str] = {}
        for definition in self.definitions:
            if definition.key in self._by_key:
                raise ValueError(f"workflow {definition.name} v{definition.version} is declared twice")
            self._by_key[definition.key] = definition
            owner = self._starts.setdefault(definition.start_event, definition.name)
            if owner != definition.name:
                raise ValueError(
                    f"{definition.start_event} starts both {owner!r} and {definition.name!r}: "
                    "one start event per workflow"
                )
        for name in self.names:
            starts = {d.start_event for d in self.definitions if d.name == name}
            if len(starts) > 1:
                raise ValueError(f"the versions of {name!r} start on different events {sorted(starts)}")
        # A start event comes from outside every workflow: an event a workflow publishes carries its
        # context, and the controller would not know whether it completes a step or starts a workflow.
        for definition in self.definitions:
            inside = set(definition.all_event_types()) - {definition.start_event}
            for start, owner in self._starts.items():
                if start in inside:
                    raise ValueError(
                        f"{start} starts {owner!r} but is an event of {definition.name!r}: a workflow "
                        "starts on an event from outside any workflow"
                    )
        self.catalog = EventCatalog(
            [*LIFECYCLE_TYPES, *(etype for d in self.definitions for etype in d.events)]
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.name for d in self.definitions))

    def versions(self, name: str) -> tuple[WorkflowDefinition, ...]:
        return tuple(sorted((d for d in self.definitions if d.name == name), key=lambda d: d.version))

    def newest(self, name: str) -> WorkflowDefinition:
        versions = self.versions(name)
        if not versions:
            raise UnknownWorkflowError(f"no workflow {name!r} is deployed (known: {list(self.names)})")
        return versions[-1]

    def get(self, name: str, version: int) -> WorkflowDefinition:
        try:
            return self._by_key[(name, version)]
        except KeyError:
            raise UnknownWorkflowError(f"workflow {name!r} v{version} is not deployed") from None

    def started_by(self, detail_type: str) -> WorkflowDefinition | None:
        """The declaration new instances start on when ``detail_type`` arrives, if it starts one."""
        name = self._starts.get(detail_type)
        return self.newest(name) if name else None

    def of_context(self, context: WorkflowContext) -> WorkflowDefinition:
        return self.get(context.name, context.version)

    def starts(self, event: DomainEvent) -> WorkflowDefinition | None:
        """The declaration a new instance starts on when ``event`` arrives; None if it starts none.

        Only an event from outside any workflow (no workflow context) starts one.
        """
        return None if event.workflow is not None else self.started_by(event.detail_type)

    def of_event(self, event: DomainEvent) -> WorkflowDefinition:
        """The declaration an event belongs to: the start event's, or its workflow context's."""
        started = self.starts(event)
        if started is not None:
            return started
        if event.workflow is None:
            raise InvalidEventError(f"{event.detail_type} carries no workflow context")
        return self.of_context(event.workflow)

    def step_triggers(self, step: str) -> tuple[str, ...]:
        """The detail-types that start a step of this name in any live version (a consumer routes them)."""
        starts = [
            d.step(step).started_by or lc.STEP_REQUESTED
            for d in self.definitions
            if step in {s.name for s in d.steps}
        ]
        return tuple(dict.fromkeys(starts))

    def listeners(self) -> Mapping[str, tuple[str, ...]]:
        """service -> announcements it hears, over every deployed workflow."""
        heard: dict[str, list[str]] = {}
        for definition in self.definitions:
            for service, announcements in definition.listeners.items():
                heard.setdefault(service, []).extend(announcements)
        return {service: tuple(dict.fromkeys(names)) for service, names in heard.items()}


def registry_from_module(module_name: str) -> Registry:
    module: Any = importlib.import_module(module_name)
    workflows = getattr(module, "WORKFLOWS", None)
    if not isinstance(workflows, tuple | list):
        raise RuntimeError(f"{module_name} must define WORKFLOWS, a tuple of WorkflowDefinition")
    return Registry(workflows)


@cache
def deployed() -> Registry:
    """The app's registry (read once per process, like every other cold-start setting)."""
    return registry_from_module(os.environ.get(REGISTRY_ENV) or REGISTRY_MODULE)


# --- the deployed catalog, for code that handles any workflow's events ------------------------------------
def event_type(name: str) -> EventType:
    return deployed().catalog.event_type(name)


def source_of(name: str) -> str:
    return deployed().catalog.source_of(name)


def parse_event(event: Mapping[str, Any] | str) -> DomainEvent:
    """Validate an EventBridge event against the deployed catalog (see :meth:`EventCatalog.parse`)."""
    return deployed().catalog.parse(event)


__all__ = [
    "REGISTRY_ENV",
    "REGISTRY_MODULE",
    "Registry",
    "deployed",
    "event_type",
    "parse_event",
    "registry_from_module",
    "source_of",
]
