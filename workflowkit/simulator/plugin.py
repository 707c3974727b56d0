"""What a workflow gives the simulator: its scenarios, a driver, its own invariants.

The simulator knows the kit (the controller's status documents, its terminal statuses and events, the
declaration vocabulary) and no workflow. A workflow's simulation is a :class:`WorkflowPlugin`: its name,
its scenarios and their default mix, a :class:`Driver` that seeds data into the local cloud, starts one
instance for a scenario and reads instances back, and the invariants only that workflow can check.
:mod:`workflowkit.simulator.loading` finds a plug-in by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflowkit.cloud import LocalCloud
from workflowkit.simulator.invariants import Status, Statuses, Violation


class Scenario(Protocol):
    """One named way an instance goes, driven only by what it is submitted with, and how it must end."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def expected_status(self) -> str: ...

    @property
    def expected_compensations(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Ending:
    """How an instance ends: its status, the steps it undid (in the sequence undone), and a text its
    status's ``reason`` must contain ("": any reason)."""

    status: str
    compensations: tuple[str, ...] = ()
    reason: str = ""

    def matches(self, status: Status) -> bool:
        return (
            status.get("status") == self.status
            and tuple(status.get("compensatedSteps", ())) == self.compensations
            and self.reason in str(status.get("reason") or "")
        )


class Driver(ABC):
    """Drives one workflow on one local cloud, through the app's own entry points and tables."""

    @abstractmethod
    def seed(self) -> None:
        """Put what the scenarios need into the app's tables; called once, before anything is submitted."""

    @abstractmethod
    def submit(self, scenario: str, workflow_id: str) -> None:
        """Start one instance, ``workflow_id``, that follows ``scenario``, as a client would."""

    @abstractmethod
    def put(self, source: str, detail_type: str, detail: dict[str, Any] | str) -> dict[str, Any]:
        """One PutEvents entry on the bus the workflow listens on (``workflowkit send``)."""

    @abstractmethod
    def status(self, workflow_id: str) -> Status | None:
        """One instance's status document, or None when there is no such instance."""

    @abstractmethod
    def all_statuses(self) -> Statuses:
        """Every instance's status document, by workflow id."""


def no_invariants(cloud: LocalCloud, driver: Any, statuses: Statuses) -> list[Violation]:
    """For a workflow whose only invariants are the kit's own (termination, audit, nothing lost)."""
    return []


@dataclass(frozen=True)
class WorkflowPlugin[D: Driver]:
    """A workflow's simulation. Every callable is module-level, so that ``--workers`` can pickle it."""

    name: str  # what ``--workflow`` names
    scenarios: Mapping[str, Scenario]  # by scenario name
    default_mix: Mapping[str, int]  # scenario name -> weight
    driver: Callable[[LocalCloud], D]  # a driver on a running local cloud
    # The workflow's declaration (steps, deadlines, compensations) from the app's code; called while
    # the local cloud runs, which puts that code first on sys.path. For the plug-in's own use: the
    # runner reads every live version from the app's registry (each instance's termination budget is
    # its own version's, see ``declarations.app_registry``).
    declaration: Callable[[], Any]
    # Invariants only this workflow can check, after the run, against its tables: violations found.
    invariants: Callable[[LocalCloud, D, Statuses], list[Violation]] = no_invariants
    # What an instance is called, in the plural ("requests"): in titles, and ``--<unit>`` for ``--count``.
    unit: str = "workflows"
    # Scenarios that leave events in a dead-letter queue on purpose (a poison message, say). A run of only
    # other scenarios fails on any dead letter: "nothing lost" means consumed, not parked for a person.
    dead_letter_scenarios: frozenset[str] = frozenset()
    # Other endings a scenario may honestly have besides its expected one, when instances compete for
    # something finite (scenario -> endings). The plug-in's invariants must check each one was earned
    # (e.g. that what ran out really had run out); the run accepts them as the scenario's.
    other_endings: Mapping[str, tuple[Ending, ...]] = field(default_factory=dict)
    # (scenario, workflow id) -> a key: instances with one key run in one process of a sharded run, so
    # what they compete for is shared as in one process. None: each instance on its own.
    shard_key: Callable[[str, str], str] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.default_mix) - set(self.scenarios))
        if unknown:
            raise ValueError(f"workflow {self.name!r}: the default mix names unknown scenarios {unknown}")
        misnamed = sorted(key for key, scenario in self.scenarios.items() if scenario.name != key)
        if misnamed:
            raise ValueError(f"workflow {self.name!r}: scenarios filed under another name: {misnamed}")
        strays = sorted((set(self.dead_letter_scenarios) | set(self.other_endings)) - set(self.scenarios))
        if strays:
            raise ValueError(f"workflow {self.name!r}: names unknown scenarios {strays}")

    def expects_dead_letters(self, scenarios: Iterable[str]) -> bool:
        """Whether a run of these scenarios may leave dead letters."""
        return any(scenario in self.dead_letter_scenarios for scenario in scenarios)
