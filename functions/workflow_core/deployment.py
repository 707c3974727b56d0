"""What a service needs deployed, declared beside the service (``<service>/deployment.py``: ``NEEDS``).

The stack reads it for every service the deployed workflows name, so adding a service never edits
``infra/``: its tables, its environment, the topics it publishes to, the sources it owns beyond its
step outcomes, and — for a service whose state machines a workflow runs — the task functions and ASL
substitutions. Pure data: nothing here imports AWS or CDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TableAccess = Literal["read", "read_write"]

NEEDS_MODULE = "deployment"  # <service>.deployment
NEEDS_ATTRIBUTE = "NEEDS"


@dataclass(frozen=True)
class TableNeed:
    """A DynamoDB table the service owns; its name reaches the code in ``env``.

    ``name`` is the table's id in the stack (``Data/<name>Table``): keep it stable, it is the table's
    logical ID, and a renamed table is a new, empty table.
    """

    name: str
    env: str
    partition_key: str = "pk"
    sort_key: str | None = None
    ttl: str | None = None
    access: TableAccess = "read_write"


@dataclass(frozen=True)
class TopicNeed:
    """An SNS topic of the stack the service publishes to; its ARN reaches the code in ``env``."""

    topic: Literal["notices", "escalation"]  # notices: what people outside are told; escalation: operators
    env: str


@dataclass(frozen=True)
class TaskFunction:
    """A Lambda function a state machine calls; its ARN substitutes ``${<placeholder>}`` in the ASL."""

    placeholder: str
    handler: str  # "<module path>.<function>" inside the functions folder
    description: str
    environment: Mapping[str, str] = field(default_factory=dict)
    tables: tuple[str, ...] = ()  # names of this service's TableNeeds the function reads and writes
    timeout_seconds: int | None = None


@dataclass(frozen=True)
class ServiceNeeds:
    """Everything the stack gives one service.

    ``handler`` is the queue consumer's entry point (choreographed steps, listeners). ``task_functions``
    and ``table_substitutions`` serve the state machines the service's flows run:
    ``table_substitutions`` maps an ASL placeholder to one of the service's table names.
    ``extra_sources`` are event sources the service owns besides those of its step outcomes (what it
    may publish, e.g. notices it sends): sources no one else publishes from, never the kit's
    ``workflow.*`` (the stack refuses others, so no service can claim another's events).
    """

    handler: str | None = None
    description: str = ""
    tables: tuple[TableNeed, ...] = ()
    topics: tuple[TopicNeed, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    extra_sources: tuple[str, ...] = ()
    task_functions: tuple[TaskFunction, ...] = ()
    table_substitutions: Mapping[str, str] = field(default_factory=dict)

    def table(self, name: str) -> TableNeed:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no table {name!r} is declared")


def needs_of(service: str) -> ServiceNeeds:
    """``<service>.deployment.NEEDS``; a service without one needs nothing but the kit's defaults."""
    try:
        module = importlib.import_module(f"{service}.{NEEDS_MODULE}")
    except ModuleNotFoundError as error:
        if error.name not in (service, f"{service}.{NEEDS_MODULE}"):
            raise
        return ServiceNeeds(handler=f"{service}.handler.lambda_handler")
    needs = getattr(module, NEEDS_ATTRIBUTE, None)
    if not isinstance(needs, ServiceNeeds):
        raise TypeError(f"{service}.{NEEDS_MODULE}.{NEEDS_ATTRIBUTE} must be a ServiceNeeds")
    return needs
