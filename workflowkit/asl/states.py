"""The compiled, immutable form of a state machine: one object per state, built by ``definition``.

Every field is ready to run: paths and templates are evaluators, ResultPath is a placement function,
Choice rules are predicates. ``execution`` dispatches on the state's class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflowkit.asl.choice import Condition
from workflowkit.asl.errors import ALL, TASK_FAILED, TIMEOUT, UNCATCHABLE
from workflowkit.asl.intrinsics import Evaluator
from workflowkit.asl.paths import JsonPath, Scope

Selector = Callable[[Any, Scope], Any]  # InputPath / OutputPath applied to a document
Placement = Callable[[Any, Any], Any]  # ResultPath: (raw input, result) -> state output


@dataclass(frozen=True, slots=True)
class ErrorMatcher:
    """An ``ErrorEquals`` list. States.ALL matches every error, States.TaskFailed every one but
    States.Timeout; neither reaches the uncatchable States.Runtime / States.DataLimitExceeded."""

    names: frozenset[str]

    def matches(self, error: str) -> bool:
        if error in UNCATCHABLE:
            return False
        if error in self.names or ALL in self.names:
            return True
        return TASK_FAILED in self.names and error != TIMEOUT


@dataclass(frozen=True, slots=True)
class Retrier:
    errors: ErrorMatcher
    interval_seconds: float
    max_attempts: int
    backoff_rate: float
    max_delay_seconds: float | None
    full_jitter: bool


@dataclass(frozen=True, slots=True)
class Catcher:
    errors: ErrorMatcher
    next: str
    placement: Placement


@dataclass(frozen=True, slots=True)
class Machine:
    """A top-level machine, a Parallel branch or a Map item processor."""

    start_at: str
    states: Mapping[str, State]


@dataclass(frozen=True, slots=True)
class State:
    name: str
    input_path: Selector | None  # None: "$", the whole input
    output_path: Selector | None
    next: str | None  # None: an end state (or a Choice, which decides its own)

    @property
    def type_name(self) -> str:
        return type(self).__name__.removesuffix("State")


@dataclass(frozen=True, slots=True)
class PassState(State):
    parameters: Evaluator | None
    result: Evaluator | None
    placement: Placement


@dataclass(frozen=True, slots=True)
class TaskState(State):
    resource: str
    pattern: str  # "" (request-response), ".sync", ".sync:2" or ".waitForTaskToken"
    parameters: Evaluator | None
    result_selector: Evaluator | None
    placement: Placement
    timeout_seconds: int | None
    timeout_seconds_path: JsonPath | None
    heartbeat_seconds: int | None
    heartbeat_seconds_path: JsonPath | None
    retriers: tuple[Retrier, ...]
    catchers: tuple[Catcher, ...]


@dataclass(frozen=True, slots=True)
class ChoiceState(State):
    choices: tuple[tuple[Condition, str], ...]
    default: str | None


@dataclass(frozen=True, slots=True)
class WaitState(State):
    seconds: int | None
    seconds_path: JsonPath | None
    timestamp: datetime | None
    timestamp_path: JsonPath | None


@dataclass(frozen=True, slots=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, slots=True)
class FailState(State):
    error: str | None
    error_path: Evaluator | None
    cause: str | None
    cause_path: Evaluator | None


@dataclass(frozen=True, slots=True)
class ParallelState(State):
    branches: tuple[Machine, ...]
    parameters: Evaluator | None
    result_selector: Evaluator | None
    placement: Placement
    retriers: tuple[Retrier, ...]
    catchers: tuple[Catcher, ...]


@dataclass(frozen=True, slots=True)
class MapState(State):
    processor: Machine
    items_path: JsonPath | None
    item_selector: Evaluator | None
    max_concurrency: int  # 0: no limit
    max_concurrency_path: JsonPath | None
    result_selector: Evaluator | None
    placement: Placement
    retriers: tuple[Retrier, ...]
    catchers: tuple[Catcher, ...]
