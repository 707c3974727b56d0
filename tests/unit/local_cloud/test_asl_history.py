"""An execution's history, as GetExecutionHistory returns it: the sequences and chains recorded against AWS.

The expected event types and ``previousEventId`` chains are AWS's own: the API reference's HelloWorld
example, localstack's snapshot tests (recorded against AWS: Pass, Fail, Lambda and service tasks, callbacks
and their timeout, a task result over the payload limit caught by States.ALL), and sequences read off Step
Functions in us-east-1 for Parallel and Map states (branch and iteration chains, which failures leave a
``*StateFailed`` event, the States.Runtime cause's "entered at the event id #N" prefix).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from workflowkit.asl import (
    ExecutionResult,
    ExecutionStatus,
    StateMachineProgram,
    TaskContext,
    TaskFailed,
    TaskTokenError,
    VirtualRuntime,
    local_context,
)
from workflowkit.asl.history import History

FN = "arn:aws:lambda:us-east-1:123456789012:function:work"
INVOKE = "arn:aws:states:::lambda:invoke"
SQS_CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
ROLE = "arn:aws:iam::123456789012:role/local"


def program(states: dict[str, Any], **top: Any) -> StateMachineProgram:
    return StateMachineProgram.parse(json.dumps({"StartAt": next(iter(states)), "States": states, **top}))


def execute(
    states: dict[str, Any],
    execution_input: Any = None,
    task: Callable[[str, Any, TaskContext], Any] | None = None,
) -> tuple[ExecutionResult, list[dict[str, Any]]]:
    runtime = VirtualRuntime(task)
    results: list[ExecutionResult] = []
    execution = program(states).start(
        {} if execution_input is None else execution_input, local_context(runtime), runtime, results.append
    )
    runtime.run()
    assert results, "the execution did not finish"
    return results[0], list(execution.history.rendered())


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def previous(events: list[dict[str, Any]]) -> list[int]:
    return [event["previousEventId"] for event in events]


def details(event: dict[str, Any]) -> dict[str, Any]:
    (body,) = [value for key, value in event.items() if key.endswith("EventDetails")]
    return dict(body)


def of_type(events: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and (name is None or details(e).get("name") == name)]


def succeed_with(result: Any) -> Callable[[str, Any, TaskContext], Any]:
    return lambda _resource, _parameters, _task: result


# --- the states' own events ------------------------------------------------------------------------------


def test_a_pass_state_is_the_api_references_hello_world_history() -> None:
    result, events = execute({"HelloWorld": {"Type": "Pass", "Result": "Hello World!", "End": True}})
    assert result.status is ExecutionStatus.SUCCEEDED
    assert types(events) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    # The first state does not follow ExecutionStarted: both point at 0.
    assert [e["id"] for e in events] == [1, 2, 3, 4]
    assert previous(events) == [0, 0, 2, 3]
    assert events[0]["executionStartedEventDetails"] == {
        "input": "{}",
        "inputDetails": {"truncated": False},
        "roleArn": ROLE,
    }
    assert events[1]["stateEnteredEventDetails"] == {
        "name": "HelloWorld",
        "input": "{}",
        "inputDetails": {"truncated": False},
    }
    assert events[2]["stateExitedEventDetails"] == {
        "name": "HelloWorld",
        "output": '"Hello World!"',
        "outputDetails": {"truncated": False},
    }
    assert events[3]["executionSucceededEventDetails"] == {
        "output": '"Hello World!"',
        "outputDetails": {"truncated": False},
    }


def test_every_event_carries_its_virtual_time_to_the_millisecond() -> None:
    states = {
        "Hold": {"Type": "Wait", "Seconds": 90, "Next": "Pick"},
        "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Done"}]},
        "Done": {"Type": "Succeed"},
    }
    _, events = execute(states, {"go": True})
    assert types(events) == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    started = events[0]["timestamp"]
    assert events[1]["timestamp"] == started
    assert events[2]["timestamp"] - started == timedelta(seconds=90)  # the Wait exits when it ends
    assert all(e["timestamp"].microsecond % 1000 == 0 for e in events)


def test_a_fail_state_fails_the_execution_with_its_error_and_cause() -> None:
    _, events = execute({"Boom": {"Type": "Fail", "Error": "SomeFailure", "Cause": "it broke"}})
    assert types(events) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert previous(events) == [0, 0, 2]
    assert events[2]["executionFailedEventDetails"] == {"error": "SomeFailure", "cause": "it broke"}
    # A Fail state without an error or cause leaves the details empty, not absent.
    _, events = execute({"Boom": {"Type": "Fail"}})
    assert events[2]["executionFailedEventDetails"] == {}


# --- tasks -----------------------------------------------------------------------------------------------


def test_a_lambda_function_resource_records_lambda_function_events() -> None:
    states = {"Work": {"Type": "Task", "Resource": FN, "Parameters": {"n.$": "$.n"}, "End": True}}
    _, events = execute(states, {"n": 1}, succeed_with({"Return": "HelloWorld"}))
    assert types(events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5, 6]
    assert events[2]["lambdaFunctionScheduledEventDetails"] == {
        "resource": FN,
        "input": '{"n":1}',  # what the function is given: the state's Parameters
        "inputDetails": {"truncated": False},
    }
    assert "lambdaFunctionStartedEventDetails" not in events[3]
    assert details(events[4]) == {"output": '{"Return":"HelloWorld"}', "outputDetails": {"truncated": False}}


def test_a_service_integration_records_scheduled_started_and_succeeded_with_its_resource() -> None:
    states = {
        "Invoke": {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": "work", "Payload.$": "$"},
            "TimeoutSeconds": 30,
            "End": True,
        }
    }
    _, events = execute(states, {"n": 1}, succeed_with({"Payload": 7}))
    assert types(events)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert events[2]["taskScheduledEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
        "region": "us-east-1",
        "parameters": '{"FunctionName":"work","Payload":{"n":1}}',
        "timeoutInSeconds": 30,
    }
    assert events[3]["taskStartedEventDetails"] == {"resourceType": "lambda", "resource": "invoke"}
    assert events[4]["taskSucceededEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
        "output": '{"Payload":7}',
        "outputDetails": {"truncated": False},
    }


def test_an_aws_sdk_integration_names_its_service_in_the_resource_type() -> None:
    states = {"Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem", "End": True}}
    _, events = execute(states, {}, succeed_with({}))
    assert details(events[2])["resourceType"] == "aws-sdk:dynamodb"
    assert details(events[2])["resource"] == "getItem"


def test_a_task_failure_is_recorded_then_fails_the_execution_or_exits_through_the_catcher() -> None:
    def fail(_resource: str, _parameters: Any, _task: TaskContext) -> Any:
        raise TaskFailed("Lambda.ResourceNotFoundException", "Function not found")

    task = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "missing"}}
    _, events = execute({"Start": {**task, "End": True}}, {}, fail)
    assert types(events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "ExecutionFailed",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5]
    assert events[4]["taskFailedEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
        "error": "Lambda.ResourceNotFoundException",
        "cause": "Function not found",
    }
    # WHEN a catcher takes the error, the state exits with the error output and the next state follows
    caught = {
        "Start": {**task, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}], "End": True},
        "Handler": {"Type": "Pass", "End": True},
    }
    _, events = execute(caught, {}, fail)
    assert types(events)[4:] == [
        "TaskFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert previous(events)[4:] == [4, 5, 6, 7, 8]
    assert json.loads(details(events[5])["output"]) == {
        "Error": "Lambda.ResourceNotFoundException",
        "Cause": "Function not found",
    }


def test_a_retried_task_is_scheduled_again_after_its_failure() -> None:
    attempts: list[int] = []

    def flaky(_resource: str, _parameters: Any, task: TaskContext) -> Any:
        attempts.append(task.retry_count)
        if len(attempts) == 1:
            raise TaskFailed("Busy", None)
        return {"ok": True}

    states = {
        "Call": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1}],
            "End": True,
        }
    }
    _, events = execute(states, {}, flaky)
    assert types(events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5, 6, 7, 8, 9]
    assert details(events[4]) == {"error": "Busy"}


def test_a_callback_task_is_submitted_then_succeeds_with_the_tokens_answer() -> None:
    runtime = VirtualRuntime(succeed_with({"MessageId": "m-1"}))
    states = {
        "Ask": {
            "Type": "Task",
            "Resource": SQS_CALLBACK,
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 60,
            "TimeoutSeconds": 600,
            "End": True,
        }
    }
    results: list[ExecutionResult] = []
    execution = program(states).start({}, local_context(runtime), runtime, results.append)
    (token,) = runtime.task_tokens.open_tokens
    runtime.task_tokens.send_success(token, '"approved"')
    runtime.run()
    events = list(execution.history.rendered())
    assert types(events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = details(events[2])
    assert (scheduled["resourceType"], scheduled["resource"]) == ("sqs", "sendMessage.waitForTaskToken")
    assert (scheduled["timeoutInSeconds"], scheduled["heartbeatInSeconds"]) == (600, 60)
    assert json.loads(scheduled["parameters"])["MessageBody"] == {"token": token}
    assert details(events[4])["output"] == '{"MessageId":"m-1"}'  # the service call's response
    assert details(events[5])["output"] == '"approved"'  # SendTaskSuccess's output


def test_a_callback_task_that_times_out_records_task_timed_out() -> None:
    states = {"Ask": {"Type": "Task", "Resource": SQS_CALLBACK, "TimeoutSeconds": 5, "End": True}}
    result, events = execute(states, {}, succeed_with({}))
    assert types(events)[4:] == ["TaskSubmitted", "TaskTimedOut", "ExecutionFailed"]
    assert previous(events)[4:] == [4, 5, 6]
    assert events[5]["taskTimedOutEventDetails"] == {
        "resourceType": "sqs",
        "resource": "sendMessage.waitForTaskToken",
        "error": "States.Timeout",
    }
    assert events[6]["executionFailedEventDetails"] == {"error": "States.Timeout"}
    assert events[5]["timestamp"] - events[4]["timestamp"] == timedelta(seconds=5)
    assert result.error == "States.Timeout"


# --- Parallel and Map ------------------------------------------------------------------------------------


def test_parallel_branches_chain_from_the_started_event_and_the_state_continues_from_the_last() -> None:
    branch = lambda first, second: {  # noqa: E731
        "StartAt": first,
        "States": {first: {"Type": "Pass", "Next": second}, second: {"Type": "Pass", "End": True}},
    }
    states = {
        "P": {"Type": "Parallel", "Branches": [branch("A1", "A2"), branch("B1", "B2")], "Next": "After"},
        "After": {"Type": "Pass", "End": True},
    }
    result, events = execute(states, {"x": "a"})
    assert result.status is ExecutionStatus.SUCCEEDED
    assert len(events) == 16
    assert [e["id"] for e in events] == list(range(1, 17))
    assert types(events[:3]) == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert types(events[11:]) == [
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    started = events[2]
    assert started["previousEventId"] == 2
    assert "parallelStateStartedEventDetails" not in started
    for prefix in ("A", "B"):
        first_in, first_out = (
            of_type(events, "PassStateEntered", f"{prefix}1")[0],
            of_type(events, "PassStateExited", f"{prefix}1")[0],
        )
        second_in, second_out = (
            of_type(events, "PassStateEntered", f"{prefix}2")[0],
            of_type(events, "PassStateExited", f"{prefix}2")[0],
        )
        assert first_in["previousEventId"] == started["id"]
        assert first_out["previousEventId"] == first_in["id"]
        assert second_in["previousEventId"] == first_out["id"]
        assert second_out["previousEventId"] == second_in["id"]
    # Succeeded follows the latest branch event and is passed by: Exited follows that event too.
    assert events[11]["previousEventId"] == events[10]["id"]
    assert events[12]["previousEventId"] == events[10]["id"]
    assert details(events[12])["output"] == '[{"x":"a"},{"x":"a"}]'
    assert events[13]["previousEventId"] == events[12]["id"]


def test_a_runtime_error_in_a_branch_fails_the_execution_naming_the_branch_state() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Fast",
                    "States": {"Fast": {"Type": "Pass", "Parameters": {"m.$": "$.nope"}, "End": True}},
                }
            ],
            "End": True,
        }
    }
    result, events = execute(states, {"x": "a"})
    assert types(events) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "ExecutionFailed",
    ]
    assert previous(events) == [0, 0, 2, 3, 4]
    failed = details(events[4])
    assert failed["error"] == "States.Runtime"
    assert failed["cause"].startswith(
        "An error occurred while executing the state 'Fast' (entered at the event id #4). "
    )
    assert result.cause == failed["cause"]


def test_a_fail_state_in_a_branch_leaves_a_parallel_state_failed_event() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Boom",
                    "States": {"Boom": {"Type": "Fail", "Error": "MyError", "Cause": "my cause"}},
                }
            ],
            "End": True,
        }
    }
    _, events = execute(states, {"x": "a"})
    assert types(events) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "FailStateEntered",
        "ParallelStateFailed",
        "ExecutionFailed",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5]
    assert "parallelStateFailedEventDetails" not in events[4]
    assert details(events[5]) == {"error": "MyError", "cause": "my cause"}


def test_a_retried_parallel_starts_again_and_fails_once_its_retry_is_used_up() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "MyError"}}}],
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
            "End": True,
        }
    }
    _, events = execute(states, {})
    assert types(events) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "FailStateEntered",
        "ParallelStateStarted",
        "FailStateEntered",
        "ParallelStateFailed",
        "ExecutionFailed",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5, 6, 7]


def test_a_task_failure_ending_a_branch_aborts_the_task_and_the_parallels_catcher_exits_it() -> None:
    def fail(_resource: str, _parameters: Any, _task: TaskContext) -> Any:
        raise TaskFailed("SQS.QueueDoesNotExistException", "The specified queue does not exist.")

    send = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Send", "States": {"Send": send}}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
            "End": True,
        },
        "Handled": {"Type": "Pass", "End": True},
    }
    _, events = execute(states, {"x": "a"}, fail)
    assert types(events) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "TaskStateAborted",
        "ParallelStateFailed",
        "ParallelStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    # TaskStateAborted is passed by: the Parallel's failure follows the task's.
    assert previous(events) == [0, 0, 2, 3, 4, 5, 6, 7, 7, 9, 10, 11, 12]
    assert json.loads(details(events[9])["output"]) == {
        "Error": "SQS.QueueDoesNotExistException",
        "Cause": "The specified queue does not exist.",
    }


def test_a_parallels_own_runtime_error_names_the_parallel_after_its_branches_succeeded() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": True}}}],
            "ResultSelector": {"m.$": "$.nope"},
            "End": True,
        }
    }
    _, events = execute(states, {"x": "a"})
    assert types(events) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "PassStateExited",
        "ParallelStateSucceeded",
        "ExecutionFailed",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5, 5]
    assert details(events[6])["cause"].startswith(
        "An error occurred while executing the state 'P' (entered at the event id #2). "
    )


def map_state(processor: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, **fields}


TWO_PASSES = {
    "StartAt": "I1",
    "States": {"I1": {"Type": "Pass", "Next": "I2"}, "I2": {"Type": "Pass", "End": True}},
}


def test_map_iterations_chain_from_their_iteration_started_events() -> None:
    states = {"M": {**map_state(TWO_PASSES), "Next": "After"}, "After": {"Type": "Pass", "End": True}}
    result, events = execute(states, {"items": [1, 2]})
    assert result.status is ExecutionStatus.SUCCEEDED
    assert len(events) == 20
    assert types(events[:3]) == ["ExecutionStarted", "MapStateEntered", "MapStateStarted"]
    started = events[2]
    assert started["previousEventId"] == 2
    assert details(started) == {"length": 2}
    for index in range(2):
        iteration = next(e for e in of_type(events, "MapIterationStarted") if details(e)["index"] == index)
        done = next(e for e in of_type(events, "MapIterationSucceeded") if details(e)["index"] == index)
        assert details(iteration) == {"name": "M", "index": index}
        assert iteration["previousEventId"] == started["id"]
        chain = [
            e
            for e in events
            if e["type"].startswith("PassState")
            and details(e)["name"] in ("I1", "I2")
            and (details(e).get("input") or details(e).get("output")) == str(index + 1)
        ]
        assert [e["previousEventId"] for e in chain] == [iteration["id"]] + [e["id"] for e in chain[:-1]]
        assert done["previousEventId"] == chain[-1]["id"]
    assert types(events[15:]) == [
        "MapStateSucceeded",
        "MapStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert events[14]["type"] == "MapIterationSucceeded"
    assert events[15]["previousEventId"] == events[14]["id"]
    assert events[16]["previousEventId"] == events[14]["id"]
    assert details(events[16])["output"] == "[1,2]"


def test_a_map_over_no_items_exits_from_its_started_event() -> None:
    single = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    _, events = execute({"M": {**map_state(single), "End": True}}, {"items": []})
    assert types(events) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert previous(events) == [0, 0, 2, 3, 3, 5]


def test_a_failed_iteration_leaves_iteration_and_state_failed_events_a_runtime_error_none() -> None:
    failing = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "MyError"}}}
    _, events = execute({"M": {**map_state(failing, MaxConcurrency=1), "End": True}}, {"items": [1, 2]})
    assert types(events) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "FailStateEntered",
        "MapIterationFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
    # MapIterationFailed is passed by: MapStateFailed follows the iteration's own last event.
    assert previous(events) == [0, 0, 2, 3, 4, 5, 5, 7]
    assert details(events[5]) == {"name": "M", "index": 0}
    broken = {
        "StartAt": "Fast",
        "States": {"Fast": {"Type": "Pass", "Parameters": {"m.$": "$.nope"}, "End": True}},
    }
    _, events = execute({"M": {**map_state(broken, MaxConcurrency=1), "End": True}}, {"items": [1, 2]})
    assert types(events) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "PassStateEntered",
        "ExecutionFailed",
    ]
    assert previous(events) == [0, 0, 2, 3, 4, 5]
    assert details(events[5])["cause"].startswith(
        "An error occurred while executing the state 'Fast' (entered at the event id #5). "
    )


# --- States.Runtime causes -------------------------------------------------------------------------------


def test_a_runtime_cause_is_prefixed_once_with_the_state_and_its_entered_event() -> None:
    states = {
        "First": {"Type": "Pass", "Next": "Second"},
        "Second": {"Type": "Task", "Resource": FN, "Parameters": {"x.$": "$.missing"}, "End": True},
    }
    result, events = execute(states, {"a": 1}, succeed_with({}))
    prefix = "An error occurred while executing the state 'Second' (entered at the event id #4). "
    assert result.error == "States.Runtime"
    assert result.cause is not None
    assert result.cause.startswith(prefix)
    # The rest is the interpreter's own account of the error, once.
    assert prefix not in result.cause[len(prefix) :]
    assert types(events) == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "TaskStateEntered",
        "ExecutionFailed",
    ]


# --- the payload limit -----------------------------------------------------------------------------------


def too_large(who: str) -> str:
    """AWS's cause for a result over the limit (recorded: a Parallel state 'Uppers', a service 'lambda')."""
    return (
        f"The state/task '{who}' returned a result with a size exceeding the maximum number of bytes"
        " service limit."
    )


def sized(total_bytes: int, character: str = "a") -> str:
    """A string whose JSON text is ``total_bytes`` UTF-8 bytes (with its two quotes)."""
    width = len(character.encode("utf-8"))
    assert (total_bytes - 2) % width == 0
    return character * ((total_bytes - 2) // width)


@pytest.mark.parametrize("character", ["a", "é"])
def test_a_state_output_over_256_kib_fails_the_execution_with_data_limit_exceeded(character: str) -> None:
    limit = 262_144
    fits = {"Big": {"Type": "Pass", "Result": sized(limit, character), "End": True}}
    assert execute(fits)[0].status is ExecutionStatus.SUCCEEDED
    over = {"Big": {"Type": "Pass", "Result": sized(limit + len(character.encode()), character), "End": True}}
    result, events = execute(over)
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.DataLimitExceeded")
    assert result.cause == too_large("Big")
    assert types(events) == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]


def test_a_state_output_over_the_limit_is_terminal_no_catcher_takes_it() -> None:
    big = {"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Result": sized(300_000), "End": True}}}
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [big],
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
            "Catch": [
                {"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"},
                {"ErrorEquals": ["States.ALL"], "Next": "Caught"},
            ],
            "End": True,
        },
        "Caught": {"Type": "Succeed"},
    }
    result, events = execute(states)
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.DataLimitExceeded")
    # Neither retried nor caught, by name or by States.ALL.
    assert types(events).count("ParallelStateStarted") == 1
    assert "ParallelStateExited" not in types(events)


def test_a_task_result_over_the_limit_fails_the_task_and_states_all_catches_it() -> None:
    states = {
        "InvokeLambda": {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": "big"},
            "ResultPath": None,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "HandleGeneralError"}],
            "End": True,
        },
        "HandleGeneralError": {"Type": "Pass", "End": True},
    }
    result, events = execute(states, {}, succeed_with({"Payload": sized(300_000)}))
    cause = too_large("lambda")
    assert result.status is ExecutionStatus.SUCCEEDED
    assert json.loads(result.output or "") == {"Error": "States.DataLimitExceeded", "Cause": cause}
    assert types(events)[4:7] == ["TaskFailed", "TaskStateExited", "PassStateEntered"]
    assert details(events[4]) == {
        "resourceType": "lambda",
        "resource": "invoke",
        "error": "States.DataLimitExceeded",
        "cause": cause,
    }


def test_a_lambda_function_result_over_the_limit_names_the_function() -> None:
    states = {"Call": {"Type": "Task", "Resource": FN, "End": True}}
    result, events = execute(states, {}, succeed_with(sized(300_000)))
    assert result.error == "States.DataLimitExceeded"
    assert result.cause == too_large(FN)
    assert types(events)[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_send_task_success_refuses_an_output_over_the_limit_and_the_task_keeps_waiting() -> None:
    runtime = VirtualRuntime(succeed_with({}))
    states = {"Ask": {"Type": "Task", "Resource": SQS_CALLBACK, "End": True}}
    results: list[ExecutionResult] = []
    program(states).start({}, local_context(runtime), runtime, results.append)
    (token,) = runtime.task_tokens.open_tokens
    with pytest.raises(TaskTokenError) as refused:
        runtime.task_tokens.send_success(token, json.dumps(sized(262_145)))
    assert refused.value.code == "ValidationException"
    assert runtime.task_tokens.open_tokens == [token]
    runtime.task_tokens.send_success(token, json.dumps(sized(262_144)))  # at the limit: taken
    runtime.run()
    assert results[0].status is ExecutionStatus.SUCCEEDED


# --- nothing escapes an execution ------------------------------------------------------------------------


def test_an_unexpected_exception_below_a_state_fails_the_execution_with_states_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflowkit.asl import handlers  # noqa: PLC0415
    from workflowkit.asl.states import PassState  # noqa: PLC0415

    def broken(_flow: Any, _state: Any) -> Any:
        raise KeyError("a lower layer's bug")

    monkeypatch.setitem(handlers.HANDLERS, PassState, broken)
    states = {"Start": {"Type": "Wait", "Seconds": 1, "Next": "Odd"}, "Odd": {"Type": "Pass", "End": True}}
    result, events = execute(states, {})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert result.cause is not None
    assert result.cause.startswith(
        "An error occurred while executing the state 'Odd' (entered at the event id #4). "
    )
    assert "KeyError" in result.cause
    assert types(events)[-2:] == ["PassStateEntered", "ExecutionFailed"]


def test_an_exception_while_a_map_starts_its_next_item_fails_the_map_instead_of_escaping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflowkit.asl import handlers  # noqa: PLC0415

    original = handlers._ItemScope.context_object

    def broken(scope: Any) -> dict[str, Any]:
        if scope.index == 1:  # reached from item 0's completion, outside any state's handler
            raise ZeroDivisionError("a lower layer's bug")
        return original(scope)

    monkeypatch.setattr(handlers._ItemScope, "context_object", broken)
    single = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    states = {
        "M": {**map_state(single, MaxConcurrency=1, ItemSelector={"i.$": "$$.Map.Item.Index"}), "End": True}
    }
    result, _ = execute(states, {"items": [1, 2, 3]})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert "ZeroDivisionError" in (result.cause or "")


def test_a_task_result_nested_past_what_json_can_write_fails_the_execution_not_the_host() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    states = {"Call": {"Type": "Task", "Resource": FN, "End": True}}
    result, events = execute(states, {}, succeed_with(deep))
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert events[-1]["type"] == "ExecutionFailed"


def test_a_filter_over_odd_data_ends_the_execution_either_way() -> None:
    """Whatever a JSONPath filter makes of odd data, the execution ends: it never stays RUNNING."""
    states = {"Pick": {"Type": "Pass", "Parameters": {"cheap.$": "$.items[?(@.price > 10)]"}, "End": True}}
    for data in (
        {"items": [{"price": "ten"}, {"price": None}, 3, [1]]},
        {"items": "not a list"},
        {"items": [{}]},
    ):
        result, events = execute(states, data)
        assert result.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED)
        if result.status is ExecutionStatus.FAILED:
            assert result.error == "States.Runtime"
        assert events[-1]["type"] in ("ExecutionSucceeded", "ExecutionFailed")


# --- reading the history ---------------------------------------------------------------------------------


def test_without_execution_data_the_events_keep_everything_but_inputs_and_outputs() -> None:
    runtime = VirtualRuntime(succeed_with({"Payload": 1}))
    results: list[ExecutionResult] = []
    states = {
        "Invoke": {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "f"}, "End": True}
    }
    execution = program(states).start({"secret": 1}, local_context(runtime), runtime, results.append)
    history: History = execution.history
    events = list(history.rendered(include_data=False))
    assert events[0]["executionStartedEventDetails"] == {"roleArn": ROLE}
    assert events[1]["stateEnteredEventDetails"] == {"name": "Invoke"}
    assert "parameters" in events[2]["taskScheduledEventDetails"]
    assert events[4]["taskSucceededEventDetails"] == {"resourceType": "lambda", "resource": "invoke"}
    assert "output" not in events[-1]["executionSucceededEventDetails"]


def test_a_stopped_execution_ends_with_execution_aborted() -> None:
    runtime = VirtualRuntime()
    results: list[ExecutionResult] = []
    states = {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}
    execution = program(states).start({}, local_context(runtime), runtime, results.append)
    execution.stop("Cancelled", "no longer needed")
    events = list(execution.history.rendered())
    assert types(events) == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert previous(events)[-1] == 2
    assert details(events[-1]) == {"error": "Cancelled", "cause": "no longer needed"}


def test_the_first_state_and_execution_started_show_the_input_as_given() -> None:
    runtime = VirtualRuntime()
    results: list[ExecutionResult] = []
    text = '{\n  "a": 1\n}'
    context = local_context(runtime)
    context = type(context)(**{**{f: getattr(context, f) for f in context.__slots__}, "input_text": text})
    execution = program({"P": {"Type": "Pass", "End": True}}).start(
        json.loads(text), context, runtime, results.append
    )
    events = list(execution.history.rendered())
    assert details(events[0])["input"] == text
    assert details(events[1])["input"] == text
    assert details(events[2])["output"] == '{"a":1}'
