"""A Task state's events in the history: what one attempt of its resource records, as AWS records it.

A service integration (``arn:aws:states:::<service>:<action>``) records TaskScheduled and TaskStarted
before the call, then TaskSucceeded or TaskFailed; a ``.waitForTaskToken`` task records TaskSubmitted
with the call's response, then TaskSucceeded (SendTaskSuccess's output), TaskFailed (SendTaskFailure) or
TaskTimedOut. A Lambda function ARN as the resource records LambdaFunctionScheduled, LambdaFunctionStarted,
then LambdaFunctionSucceeded or LambdaFunctionFailed. A task's result over the payload limit fails the
attempt with States.DataLimitExceeded, recorded as its failure event.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

from workflowkit.asl.errors import ExecutionError, runtime_error
from workflowkit.asl.history import (
    LAMBDA_FAILED,
    LAMBDA_SCHEDULED,
    LAMBDA_STARTED,
    LAMBDA_SUCCEEDED,
    TASK_FAILED,
    TASK_SCHEDULED,
    TASK_STARTED,
    TASK_SUBMITTED,
    TASK_SUCCEEDED,
    TASK_TIMED_OUT,
    Details,
    is_lambda_function,
    task_resource,
)
from workflowkit.asl.payload_limit import exceeds_limit, task_result_too_large
from workflowkit.asl.runtime import TaskContext


class _Execution(Protocol):
    @property
    def region(self) -> str: ...


class _Flow(Protocol):
    @property
    def execution(self) -> _Execution: ...

    def record(self, kind: str, details: Details = None, *, passed_by: bool = False) -> int: ...


class TaskEvents:
    """The events of one Task state's attempts, recorded on the flow that runs it."""

    __slots__ = ("flow", "function", "names")

    def __init__(self, flow: _Flow, resource: str, pattern: str) -> None:
        self.flow = flow
        self.function = resource if is_lambda_function(resource) else None
        self.names = _names(resource, pattern, flow.execution.region)

    def scheduled(self, parameters: Any, task: TaskContext) -> None:
        if self.function is not None:
            self.flow.record(LAMBDA_SCHEDULED, (self.function, parameters, task.timeout_seconds))
            self.flow.record(LAMBDA_STARTED)
            return
        resource_type, resource, region = self.names
        details = (resource_type, resource, region, parameters, task.timeout_seconds, task.heartbeat_seconds)
        self.flow.record(TASK_SCHEDULED, details)
        self.flow.record(TASK_STARTED, (resource_type, resource))

    def failed(self, error: ExecutionError) -> None:
        if self.function is not None:
            self.flow.record(LAMBDA_FAILED, (error.error, error.cause))
        else:
            self.flow.record(TASK_FAILED, (*self.names[:2], error.error, error.cause))

    def timed_out(self, error: ExecutionError) -> None:
        """A callback task's TimeoutSeconds or HeartbeatSeconds ran out."""
        self.flow.record(TASK_TIMED_OUT, (*self.names[:2], error.error, error.cause))

    def submitted(self, response: Any) -> None:
        """A ``.waitForTaskToken`` task's service call returned ``response``; the task now waits."""
        self.flow.record(TASK_SUBMITTED, (*self.names[:2], response))

    def succeeded(self, result: Any) -> None:
        """The attempt's result: recorded, or the attempt fails (raises) when it is over the limit."""
        try:
            too_large = exceeds_limit(result)
        except (TypeError, ValueError) as error:
            failure = runtime_error(f"The task's result is not JSON: {error}")
            self.failed(failure)
            raise failure from None
        if too_large:
            failure = task_result_too_large(self.function or self.names[0])
            self.failed(failure)
            raise failure
        if self.function is not None:
            self.flow.record(LAMBDA_SUCCEEDED, (result,))
        else:
            self.flow.record(TASK_SUCCEEDED, (*self.names[:2], result))


@functools.cache
def _names(resource: str, pattern: str, region: str) -> tuple[str, str, str]:
    return task_resource(resource, pattern, region)
