"""The names a scaffold derives from a workflow's and a step's name, checked once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic.alias_generators import to_camel

# Stricter than a declaration's name (no "-"): the simulator finds a plug-in as simulations.<name>.
_WORKFLOW = re.compile(r"^[a-z][a-z0-9]{0,23}$")
_STEP = re.compile(r"^[a-z][a-z0-9]{0,11}$")  # short: step names end up in schedule and execution names


class ScaffoldError(Exception):
    """A scaffold cannot be written as asked; nothing was written."""


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", name))


@dataclass(frozen=True)
class WorkflowNames:
    name: str

    def __post_init__(self) -> None:
        if not _WORKFLOW.match(self.name):
            raise ScaffoldError(f"workflow name {self.name!r} must match {_WORKFLOW.pattern}")

    @property
    def py(self) -> str:
        return self.name.replace("-", "_")

    @property
    def camel(self) -> str:
        return _camel(self.name)

    @property
    def package(self) -> str:
        return f"{self.py}_workflow"

    @property
    def constant(self) -> str:
        return f"{self.py.upper()}_WORKFLOW"

    @property
    def start_event(self) -> str:
        return f"{self.camel}Submitted"

    @property
    def subject_id(self) -> str:
        return f"{self.py}_id"

    @property
    def subject_id_wire(self) -> str:
        """The id field as the contracts put it on the wire (pydantic's camelCase of the Python name)."""
        return to_camel(self.subject_id)

    @property
    def client_source(self) -> str:
        return f"{self.name}.clients"


@dataclass(frozen=True)
class StepNames:
    workflow: WorkflowNames
    name: str

    def __post_init__(self) -> None:
        if not _STEP.match(self.name):
            raise ScaffoldError(f"step name {self.name!r} must match {_STEP.pattern}")

    @property
    def constant(self) -> str:
        return self.name.upper()

    @property
    def service(self) -> str:
        """The step's folder under functions/ (a Python package name)."""
        return f"{self.workflow.py}_{self.name}"

    @property
    def machine(self) -> str:
        return f"{self.workflow.name}-{self.name}"

    @property
    def source(self) -> str:
        return f"{self.workflow.name}.{self.name}"

    def event(self, what: str) -> str:
        return f"{self.workflow.camel}{_camel(self.name)}{what}"

    @property
    def completed(self) -> str:
        return self.event("Completed")

    @property
    def failed(self) -> str:
        return self.event("Failed")

    @property
    def undo_requested(self) -> str:
        return self.event("UndoRequested")

    @property
    def undone(self) -> str:
        return self.event("Undone")

    @property
    def undo_failed(self) -> str:
        return self.event("UndoFailed")
