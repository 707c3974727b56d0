"""An execution's event history, as ``GetExecutionHistory`` returns it: recorded cheaply, rendered on demand.

Each event is one tuple ``(type, previous event id, time, details)``; ``details`` holds the values the
event's details structure is made of (a state's name and input, a task's resource...), never the rendered
structure: data are kept as the execution's own (immutable, shared) values and turned into JSON text only
when the history is read, so recording costs an append per event.

The shapes follow the API reference (``HistoryEvent`` and its ``*EventDetails``) and the sequences recorded
against AWS (ExecutionStarted; per state ``<Type>StateEntered`` ... ``<Type>StateExited``;
TaskScheduled/TaskStarted/TaskSucceeded|TaskFailed, TaskSubmitted for a callback, TaskTimedOut;
LambdaFunction* for a Lambda function ARN resource; Parallel/Map Started, Succeeded, Failed and Map
iterations; ExecutionSucceeded|Failed|Aborted). ``previousEventId`` follows AWS's chains: the first state
and ExecutionStarted point at 0, a branch's or an iteration's first event at the event that started it, and
a Parallel or Map state continues from the latest event its children published (see ``Flow.previous``).
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from workflowkit.asl.values import to_json_text

if TYPE_CHECKING:  # the interpreter keeps to itself: a store is passed in
    from workflowkit.spool import Blobs

Details = tuple[Any, ...] | None
Event = tuple[str, int, datetime, Details]

EXECUTION_STARTED: Final = "ExecutionStarted"
EXECUTION_SUCCEEDED: Final = "ExecutionSucceeded"
EXECUTION_FAILED: Final = "ExecutionFailed"
EXECUTION_ABORTED: Final = "ExecutionAborted"
TASK_SCHEDULED: Final = "TaskScheduled"
TASK_STARTED: Final = "TaskStarted"
TASK_SUBMITTED: Final = "TaskSubmitted"
TASK_SUCCEEDED: Final = "TaskSucceeded"
TASK_FAILED: Final = "TaskFailed"
TASK_TIMED_OUT: Final = "TaskTimedOut"
TASK_STATE_ABORTED: Final = "TaskStateAborted"
LAMBDA_SCHEDULED: Final = "LambdaFunctionScheduled"
LAMBDA_STARTED: Final = "LambdaFunctionStarted"
LAMBDA_SUCCEEDED: Final = "LambdaFunctionSucceeded"
LAMBDA_FAILED: Final = "LambdaFunctionFailed"
LAMBDA_TIMED_OUT: Final = "LambdaFunctionTimedOut"
PARALLEL_STARTED: Final = "ParallelStateStarted"
PARALLEL_SUCCEEDED: Final = "ParallelStateSucceeded"
PARALLEL_FAILED: Final = "ParallelStateFailed"
MAP_STARTED: Final = "MapStateStarted"
MAP_SUCCEEDED: Final = "MapStateSucceeded"
MAP_FAILED: Final = "MapStateFailed"
MAP_ITERATION_STARTED: Final = "MapIterationStarted"
MAP_ITERATION_SUCCEEDED: Final = "MapIterationSucceeded"
MAP_ITERATION_FAILED: Final = "MapIterationFailed"


class Text:
    """JSON text kept as given (StartExecution's input): rendered verbatim, not re-serialised."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def json_text(value: Any) -> str:
    if type(value) is Text:
        return value.text
    try:
        return to_json_text(value)
    except (TypeError, ValueError, RecursionError):  # not JSON: it never got past its state; show what it was
        return repr(value)


class History:
    """The events of one execution, oldest first; event ``n`` (from 1) is ``events[n - 1]``.

    A finished execution's history is kept as long as Step Functions keeps it (90 days: longer than any
    local run), but packed (:meth:`pack`): its events pickled and compressed, a few KB instead of tens
    of KB of tuples and dicts, and, given somewhere on disk to keep them (``Blobs``), not in memory at
    all, so a run of 100,000 workflows holds every history it made. Reading it (``rendered``, ``len``)
    unpacks a copy; ``events`` unpacks it for good, for whatever appends again.
    """

    __slots__ = ("_blobs", "_count", "_events", "_packed")

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._packed: bytes | int | None = None  # int: the handle of the packed events in self._blobs
        self._blobs: Blobs | None = None
        self._count = 0

    @property
    def events(self) -> list[Event]:
        if self._packed is not None:
            self._events, self._packed = self._unpacked(), None
        return self._events

    def add(self, kind: str, previous: int, at: datetime, details: Details = None) -> int:
        events = self.events
        events.append((kind, previous, at, details))
        return len(events)

    def pack(self, blobs: Blobs | None = None) -> None:
        """Keep the events compressed until read, in ``blobs`` if given: called once the execution has
        ended."""
        if self._packed is not None:
            return
        try:
            packed = zlib.compress(pickle.dumps(self._events, pickle.HIGHEST_PROTOCOL), 1)
        except (pickle.PicklingError, TypeError, AttributeError):
            return  # a value that is not plain data (never past its state): kept as it is
        self._count, self._events = len(self._events), []
        if blobs is None:
            self._packed = packed
        else:
            self._packed, self._blobs = blobs.append(packed), blobs

    @property
    def packed(self) -> bool:
        """Whether the events are kept packed (:meth:`pack`)."""
        return self._packed is not None

    def read(self) -> list[Event]:
        """The events, to read: unpacked for this read only when packed (``events`` unpacks for good)."""
        return self._unpacked() if self._packed is not None else self._events

    def __len__(self) -> int:
        return self._count if self._packed is not None else len(self._events)

    def rendered(self, *, include_data: bool = True) -> Iterator[dict[str, Any]]:
        """Every event as the API returns it (``HistoryEvent``), oldest first."""
        for number, event in enumerate(self.read(), start=1):
            yield render(number, event, include_data=include_data)

    def _unpacked(self) -> list[Event]:
        packed = self._packed
        if type(packed) is int:
            assert self._blobs is not None
            packed = self._blobs.read(packed)
        assert isinstance(packed, bytes)
        events: list[Event] = pickle.loads(zlib.decompress(packed))
        return events


def render(number: int, event: Event, *, include_data: bool = True) -> dict[str, Any]:
    kind, previous, at, details = event
    rendered: dict[str, Any] = {
        # The API's timestamps have millisecond precision.
        "timestamp": at.replace(microsecond=at.microsecond // 1000 * 1000),
        "type": kind,
        "id": number,
        "previousEventId": previous,
    }
    shape = _shape_of(kind)
    if shape is not None:
        field, build = shape
        body = build(details or ())
        if not include_data:
            # "execution data (input or output of a history event)" is left out, with its details.
            for key in ("input", "inputDetails", "output", "outputDetails"):
                body.pop(key, None)
        rendered[field] = body
    return rendered


# --- the details structures ------------------------------------------------------------------------------

_NOT_TRUNCATED: Final = {"truncated": False}  # "Always false for API calls"


def _data(key: str, value: Any) -> dict[str, Any]:
    return {key: json_text(value), f"{key}Details": dict(_NOT_TRUNCATED)}


def _error_cause(error: str | None, cause: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if error is not None:
        body["error"] = error
    if cause is not None:
        body["cause"] = cause
    return body


def _execution_started(details: tuple[Any, ...]) -> dict[str, Any]:
    value, role_arn = details
    return {**_data("input", value), "roleArn": role_arn}


def _output(details: tuple[Any, ...]) -> dict[str, Any]:
    return _data("output", details[0])


def _failure(details: tuple[Any, ...]) -> dict[str, Any]:
    return _error_cause(*details)


def _state_entered(details: tuple[Any, ...]) -> dict[str, Any]:
    name, value = details
    return {"name": name, **_data("input", value)}


def _state_exited(details: tuple[Any, ...]) -> dict[str, Any]:
    name, value = details
    return {"name": name, **_data("output", value)}


def _task_scheduled(details: tuple[Any, ...]) -> dict[str, Any]:
    resource_type, resource, region, parameters, timeout, heartbeat = details
    body = {
        "resourceType": resource_type,
        "resource": resource,
        "region": region,
        "parameters": json_text(parameters),
    }
    if timeout is not None:
        body["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        body["heartbeatInSeconds"] = heartbeat
    return body


def _task(details: tuple[Any, ...]) -> dict[str, Any]:
    resource_type, resource = details
    return {"resourceType": resource_type, "resource": resource}


def _task_output(details: tuple[Any, ...]) -> dict[str, Any]:
    resource_type, resource, value = details
    return {"resourceType": resource_type, "resource": resource, **_data("output", value)}


def _task_failure(details: tuple[Any, ...]) -> dict[str, Any]:
    resource_type, resource, error, cause = details
    return {"resourceType": resource_type, "resource": resource, **_error_cause(error, cause)}


def _lambda_scheduled(details: tuple[Any, ...]) -> dict[str, Any]:
    resource, value, timeout = details
    body = {"resource": resource, **_data("input", value)}
    if timeout is not None:
        body["timeoutInSeconds"] = timeout
    return body


def _map_started(details: tuple[Any, ...]) -> dict[str, Any]:
    return {"length": details[0]}


def _map_iteration(details: tuple[Any, ...]) -> dict[str, Any]:
    name, index = details
    return {"name": name, "index": index}


Builder = Callable[[tuple[Any, ...]], dict[str, Any]]

_SHAPES: Final[dict[str, tuple[str, Builder]]] = {
    EXECUTION_STARTED: ("executionStartedEventDetails", _execution_started),
    EXECUTION_SUCCEEDED: ("executionSucceededEventDetails", _output),
    EXECUTION_FAILED: ("executionFailedEventDetails", _failure),
    EXECUTION_ABORTED: ("executionAbortedEventDetails", _failure),
    TASK_SCHEDULED: ("taskScheduledEventDetails", _task_scheduled),
    TASK_STARTED: ("taskStartedEventDetails", _task),
    TASK_SUBMITTED: ("taskSubmittedEventDetails", _task_output),
    TASK_SUCCEEDED: ("taskSucceededEventDetails", _task_output),
    TASK_FAILED: ("taskFailedEventDetails", _task_failure),
    TASK_TIMED_OUT: ("taskTimedOutEventDetails", _task_failure),
    LAMBDA_SCHEDULED: ("lambdaFunctionScheduledEventDetails", _lambda_scheduled),
    LAMBDA_SUCCEEDED: ("lambdaFunctionSucceededEventDetails", _output),
    LAMBDA_FAILED: ("lambdaFunctionFailedEventDetails", _failure),
    LAMBDA_TIMED_OUT: ("lambdaFunctionTimedOutEventDetails", _failure),
    MAP_STARTED: ("mapStateStartedEventDetails", _map_started),
    MAP_ITERATION_STARTED: ("mapIterationStartedEventDetails", _map_iteration),
    MAP_ITERATION_SUCCEEDED: ("mapIterationSucceededEventDetails", _map_iteration),
    MAP_ITERATION_FAILED: ("mapIterationFailedEventDetails", _map_iteration),
}


def _shape_of(kind: str) -> tuple[str, Builder] | None:
    shape = _SHAPES.get(kind)
    if shape is not None:
        return shape
    if kind.endswith("StateEntered"):
        return "stateEnteredEventDetails", _state_entered
    if kind.endswith("StateExited"):
        return "stateExitedEventDetails", _state_exited
    return None  # LambdaFunctionStarted, Parallel/Map Started|Succeeded|Failed, TaskStateAborted: no details


# --- naming a state's events and a task's resource ------------------------------------------------------

STATE_EVENTS: Final = {
    name: (f"{name}StateEntered", f"{name}StateExited")
    for name in ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
}


def task_resource(resource: str, pattern: str, region: str) -> tuple[str, str, str]:
    """(resourceType, resource, region) of a service integration's task events.

    ``arn:aws:states:::sqs:sendMessage.waitForTaskToken`` is ``("sqs", "sendMessage.waitForTaskToken",
    <the execution's region>)``; an AWS SDK integration's type names the service
    (``arn:aws:states:::aws-sdk:dynamodb:getItem`` is ``("aws-sdk:dynamodb", "getItem", ...)``).
    """
    parts = resource.split(":")
    if len(parts) >= 7 and parts[2] == "states":
        service, action = parts[5], ":".join(parts[6:])
        if service == "aws-sdk" and len(parts) >= 8:
            service, action = f"aws-sdk:{parts[6]}", ":".join(parts[7:])
        return service, action + pattern, parts[3] or region
    return resource, pattern, region  # a resource that is no service integration (it fails at run time)


def is_lambda_function(resource: str) -> bool:
    """A Lambda function ARN as the resource: its events are LambdaFunction*, not Task*."""
    return resource.startswith("arn:") and resource.split(":")[2:3] == ["lambda"]
