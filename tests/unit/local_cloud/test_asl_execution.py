"""The ASL interpreter runs a definition as Step Functions does: data flow, errors, time, stopping."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from workflowkit.asl import (
    ExecutionResult,
    ExecutionStatus,
    StateMachineProgram,
    TaskContext,
    TaskFailed,
    TransitionEvent,
    VirtualRuntime,
    local_context,
    run_to_completion,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function:work"


def program(states: dict[str, Any], start: str | None = None) -> StateMachineProgram:
    return StateMachineProgram.parse(json.dumps({"StartAt": start or next(iter(states)), "States": states}))


def run(
    states: dict[str, Any],
    execution_input: Any = None,
    task: Callable[[str, Any, TaskContext], Any] | None = None,
    *,
    seed: int = 0,
) -> tuple[ExecutionResult, VirtualRuntime, list[TransitionEvent]]:
    runtime = VirtualRuntime(task, seed=seed)
    events: list[TransitionEvent] = []
    result = run_to_completion(program(states), execution_input, runtime, on_transition=events.append)
    return result, runtime, events


def output(result: ExecutionResult) -> Any:
    assert result.status is ExecutionStatus.SUCCEEDED, (result.error, result.cause)
    assert result.output is not None
    return json.loads(result.output)


# --- input and output processing -------------------------------------------------------------------


def test_processing_order_is_inputpath_parameters_task_resultselector_resultpath_outputpath() -> None:
    seen: list[Any] = []

    def task(_resource: str, parameters: Any, _task: TaskContext) -> Any:
        seen.append(parameters)
        return {"value": parameters["v"] * 10, "noise": True}

    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "InputPath": "$.inner",
            "Parameters": {"v.$": "$.number", "fixed": "x"},
            "ResultSelector": {"picked.$": "$.value"},
            "ResultPath": "$.inner.result",
            "OutputPath": "$.inner",
            "End": True,
        }
    }
    result, _, _ = run(states, {"inner": {"number": 4}, "other": 1}, task)

    assert seen == [{"v": 4, "fixed": "x"}]
    # ResultPath places the result into the *raw* input, then OutputPath filters it.
    assert output(result) == {"number": 4, "result": {"picked": 40}}


def test_resultpath_null_discards_the_result_and_keeps_the_input() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "ResultPath": None, "End": True}}
    result, _, _ = run(states, {"keep": True}, lambda *_: {"dropped": True})
    assert output(result) == {"keep": True}


def test_default_resultpath_replaces_the_input_with_the_result() -> None:
    result, _, _ = run({"T": {"Type": "Task", "Resource": FN, "End": True}}, {"a": 1}, lambda *_: "done")
    assert output(result) == "done"


def test_resultpath_creates_missing_objects_and_never_changes_the_execution_input() -> None:
    execution_input = {"a": {"b": 1}}
    states = {"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a.c.d", "End": True}}
    result, _, _ = run(states, execution_input)
    assert output(result) == {"a": {"b": 1, "c": {"d": {"x": 1}}}}
    assert execution_input == {"a": {"b": 1}}


def test_resultpath_into_a_non_object_fails_with_result_path_match_failure() -> None:
    states = {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": True}}
    result, _, _ = run(states, {"a": "text"})
    assert result.status is ExecutionStatus.FAILED
    assert result.error == "States.ResultPathMatchFailure"


def test_inputpath_and_outputpath_null_give_an_empty_object() -> None:
    states = {
        "A": {"Type": "Pass", "InputPath": None, "ResultPath": "$.r", "Result": 1, "Next": "B"},
        "B": {"Type": "Pass", "OutputPath": None, "End": True},
    }
    result, _, _ = run(states, {"dropped": True})
    assert output(result) == {}


def test_pass_parameters_build_the_result_from_input_and_context() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {"who.$": "$.name", "execution.$": "$$.Execution.Name", "state.$": "$$.State.Name"},
            "End": True,
        }
    }
    result, _, _ = run(states, {"name": "ada"})
    assert output(result) == {"who": "ada", "execution": "local", "state": "P"}


def test_a_parameters_path_that_matches_nothing_fails_the_execution_with_states_runtime() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Parameters": {"v.$": "$.missing"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Succeed"},
    }
    result, _, _ = run(states, {}, lambda *_: 1)
    assert result.status is ExecutionStatus.FAILED
    assert result.error == "States.Runtime"  # not caught: States.ALL does not catch States.Runtime
    assert result.cause is not None
    assert "'$.missing'" in result.cause
    assert "'v.$'" in result.cause


def test_an_inputpath_that_matches_nothing_fails_with_states_runtime() -> None:
    result, _, _ = run({"P": {"Type": "Pass", "InputPath": "$.nope", "End": True}}, {})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")


def test_context_object_carries_execution_state_machine_and_state() -> None:
    states = {"P": {"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": True}}
    runtime = VirtualRuntime()
    results: list[ExecutionResult] = []
    context = local_context(runtime, "order-1", "payment")
    program(states).start({"in": 1}, context, runtime, results.append)
    assert output(results[0])["c"] == {
        "Execution": {
            "Id": "arn:aws:states:us-east-1:123456789012:execution:payment:order-1",
            "Input": {"in": 1},
            "Name": "order-1",
            "RoleArn": "arn:aws:iam::123456789012:role/local",
            "StartTime": "2026-01-05T09:00:00.000Z",
            "RedriveCount": 0,
        },
        # A Pass state cannot retry: recorded against AWS, its $$.State has no RetryCount (a Task's has).
        "State": {"EnteredTime": "2026-01-05T09:00:00.000Z", "Name": "P"},
        "StateMachine": {
            "Id": "arn:aws:states:us-east-1:123456789012:stateMachine:payment",
            "Name": "payment",
        },
    }


def test_state_entered_time_is_the_virtual_time_of_entry() -> None:
    states = {
        "W": {"Type": "Wait", "Seconds": 90, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": True},
    }
    result, _, _ = run(states, {})
    assert output(result) == {"at": "2026-01-05T09:01:30.000Z"}


# --- finishing ----------------------------------------------------------------------------------------


def test_an_execution_without_waits_finishes_inside_start() -> None:
    runtime = VirtualRuntime()
    results: list[ExecutionResult] = []
    execution = program({"P": {"Type": "Pass", "End": True}}).start(
        {"x": 1}, local_context(runtime), runtime, results.append
    )
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert [r.output for r in results] == ['{"x":1}']
    assert runtime.pending == 0


def test_succeed_state_ends_the_execution_with_its_filtered_input() -> None:
    states = {"S": {"Type": "Succeed", "OutputPath": "$.keep"}}
    result, _, _ = run(states, {"keep": [1, 2], "drop": 0})
    assert output(result) == [1, 2]


def test_fail_state_reports_error_and_cause() -> None:
    result, _, _ = run({"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}, {})
    assert (result.status, result.error, result.cause) == (ExecutionStatus.FAILED, "Nope", "because")


def test_fail_state_error_path_and_cause_path_read_the_input_or_an_intrinsic() -> None:
    states = {
        "F": {
            "Type": "Fail",
            "ErrorPath": "$.code",
            "CausePath": "States.Format('order {} failed', $.order)",
        }
    }
    result, _, _ = run(states, {"code": "OrderError", "order": "o-1"})
    assert (result.error, result.cause) == ("OrderError", "order o-1 failed")


def test_choice_without_match_or_default_fails_with_no_choice_matched() -> None:
    states = {"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "C"}]}}
    result, _, _ = run(states, {"n": 2})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.NoChoiceMatched")


def test_a_long_pass_choice_loop_does_not_hit_the_recursion_limit() -> None:
    count = 10_000
    assert count > sys.getrecursionlimit()
    states = {
        "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.i", "NumericGreaterThanEquals": count, "Next": "Done"}],
            "Default": "Step",
        },
        "Step": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Check"},
        "Done": {"Type": "Succeed"},
    }
    result, _, _ = run(states, {})
    assert output(result) == {"i": count}


def test_output_that_is_not_json_fails_the_execution() -> None:
    result, _, _ = run(
        {"T": {"Type": "Task", "Resource": FN, "End": True}}, {}, lambda *_: {"when": object()}
    )
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")


def test_a_task_runner_that_crashes_fails_the_execution_not_the_host() -> None:
    def broken(*_: Any) -> Any:
        raise KeyError("bug")

    result, _, _ = run({"T": {"Type": "Task", "Resource": FN, "End": True}}, {}, broken)
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert result.cause is not None
    assert "KeyError" in result.cause


def test_the_run_a_job_pattern_fails_at_run_time_with_states_runtime() -> None:
    # .waitForTaskToken runs (tests/unit/local_cloud/test_asl_callbacks.py); .sync does not.
    states = {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::ecs:runTask.sync",
            "Parameters": {"Cluster": "c", "TaskDefinition": "t"},
            "End": True,
        }
    }
    result, _, _ = run(states, {}, lambda *_: {})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert result.cause is not None
    assert ".sync integration pattern" in result.cause


def test_stopping_from_inside_a_task_ends_the_execution_as_aborted_only() -> None:
    results: list[ExecutionResult] = []
    states = {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "T"},
        "T": {"Type": "Task", "Resource": FN, "Next": "After"},
        "After": {"Type": "Pass", "End": True},
    }

    def task(*_: Any) -> Any:
        execution.stop("Stopped", "by the task itself")
        return "ignored"

    runtime = VirtualRuntime(task)
    execution = program(states).start({}, local_context(runtime), runtime, results.append)
    runtime.run()
    assert [(r.status, r.error) for r in results] == [(ExecutionStatus.ABORTED, "Stopped")]


# --- Wait -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wait", "execution_input", "seconds"),
    [
        ({"Seconds": 30}, {}, 30),
        ({"SecondsPath": "$.delay"}, {"delay": 45}, 45),
        ({"Timestamp": "2026-01-05T10:00:00Z"}, {}, 3600),
        ({"TimestampPath": "$.at"}, {"at": "2026-01-05T09:00:05.5+00:00"}, 5.5),
        ({"Timestamp": "2020-01-01T00:00:00Z"}, {}, 0),  # in the past: no wait
    ],
)
def test_wait_advances_virtual_time_only(wait: dict[str, Any], execution_input: Any, seconds: float) -> None:
    states = {"W": {"Type": "Wait", **wait, "Next": "Done"}, "Done": {"Type": "Succeed"}}
    result, runtime, _ = run(states, execution_input)
    assert output(result) == execution_input
    assert result.stop_time is not None
    assert result.start_time is not None
    assert result.stop_time - result.start_time == timedelta(seconds=seconds)
    assert runtime.scheduled == [(result.stop_time, "wait W")]


def test_wait_seconds_path_with_a_negative_number_fails_with_states_runtime() -> None:
    states = {"W": {"Type": "Wait", "SecondsPath": "$.d", "End": True}}
    result, _, _ = run(states, {"d": -1})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")


# --- Retry and Catch ---------------------------------------------------------------------------------


def failing(*errors: str, then: Any = "ok") -> Callable[[str, Any, TaskContext], Any]:
    """A task that fails with the given errors in turn, then returns ``then``."""
    pending = list(errors)

    def task(_resource: str, _parameters: Any, _task: TaskContext) -> Any:
        if pending:
            raise TaskFailed(pending.pop(0), "it broke")
        return then

    return task


def retry_times(runtime: VirtualRuntime) -> list[float]:
    start = runtime.scheduled[0][0] if runtime.scheduled else None
    times = [(due - start).total_seconds() for due, _label in runtime.scheduled] if start else []
    return times


def test_retry_backs_off_exponentially_on_virtual_time() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}],
            "End": True,
        }
    }
    result, runtime, _ = run(states, {}, failing("Boom", "Boom", "Boom"))
    assert output(result) == "ok"
    # waits of 2, 6 and 18 s: the retries run at +2, +8 and +26 s of virtual time
    labels = [label for _due, label in runtime.scheduled]
    assert labels == ["retry T"] * 3
    assert result.stop_time is not None
    assert result.start_time is not None
    assert result.stop_time - result.start_time == timedelta(seconds=26)


def test_retry_defaults_are_one_second_three_attempts_rate_two() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "Retry": [{"ErrorEquals": ["Boom"]}], "End": True}}
    result, _, events = run(states, {}, failing("Boom", "Boom", "Boom", "Boom"))
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "Boom")
    assert [e.delay_seconds for e in events if e.kind == "retrying"] == [1, 2, 4]


def test_max_delay_seconds_caps_the_back_off() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [
                {"ErrorEquals": ["Boom"], "IntervalSeconds": 4, "MaxAttempts": 4, "MaxDelaySeconds": 10}
            ],
            "End": True,
        }
    }
    _, _, events = run(states, {}, failing("Boom", "Boom", "Boom", "Boom"))
    assert [e.delay_seconds for e in events if e.kind == "retrying"] == [4, 8, 10, 10]


def test_full_jitter_draws_delays_below_the_back_off_from_the_seeded_random() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [
                {"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "MaxAttempts": 3, "JitterStrategy": "FULL"}
            ],
            "End": True,
        }
    }

    def delays(seed: int) -> list[float | None]:
        _, _, events = run(states, {}, failing("Boom", "Boom", "Boom"), seed=seed)
        return [e.delay_seconds for e in events if e.kind == "retrying"]

    first = delays(7)
    assert first == delays(7)  # deterministic for a seed
    assert first != delays(8)
    assert all(d is not None and 0 <= d <= limit for d, limit in zip(first, [10, 20, 40], strict=True))


def test_max_attempts_zero_never_retries() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}],
            "End": True,
        }
    }
    result, runtime, _ = run(states, {}, failing("Boom"))
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "Boom")
    assert runtime.scheduled == []  # the first matching retrier decides, even when it allows no attempt


def test_each_retrier_counts_its_own_attempts_as_in_the_spec_example() -> None:
    # The ASL spec's example: ErrorA, ErrorB (first retrier: waits of 1 and 2 s), ErrorC (second retrier:
    # 5 s), then ErrorB again: the first retrier's two attempts are used up, so the Catch applies.
    states = {
        "X": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [
                {
                    "ErrorEquals": ["ErrorA", "ErrorB"],
                    "IntervalSeconds": 1,
                    "BackoffRate": 2.0,
                    "MaxAttempts": 2,
                },
                {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}],
            "End": True,
        },
        "Z": {"Type": "Pass", "End": True},
    }
    result, _, events = run(states, {}, failing("ErrorA", "ErrorB", "ErrorC", "ErrorB"))
    assert [e.delay_seconds for e in events if e.kind == "retrying"] == [1, 2, 5]
    assert output(result) == {"Error": "ErrorB", "Cause": "it broke"}


def test_retry_counters_start_again_on_each_entry_of_the_state() -> None:
    attempts: list[int] = []

    def task(_resource: str, parameters: Any, task: TaskContext) -> Any:
        attempts.append(task.retry_count)
        if task.retry_count == 0:
            raise TaskFailed("Boom", None)
        return parameters

    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Parameters": {"round.$": "$.round", "retries.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}],
            "Next": "Again",
        },
        "Again": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.round", "NumericEquals": 0, "Next": "Bump"}],
            "Default": "Done",
        },
        "Bump": {"Type": "Pass", "Result": 1, "ResultPath": "$.round", "Next": "T"},
        "Done": {"Type": "Succeed"},
    }
    result, _, _ = run(states, {"round": 0}, task)
    # One attempt allowed per entry, used on both entries; $$.State.RetryCount is 1 on the retry.
    assert attempts == [0, 1, 0, 1]
    assert output(result) == {"round": 1, "retries": 1}


def test_catch_places_the_error_output_at_its_result_path() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "OutputPath": "$.never",
            "Catch": [
                {"ErrorEquals": ["Other"], "Next": "No"},
                {"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Yes"},
            ],
            "End": True,
        },
        "No": {"Type": "Fail"},
        "Yes": {"Type": "Pass", "End": True},
    }
    result, _, events = run(states, {"order": 1}, failing("Boom"))
    # The catcher's output goes to Next as is: the state's OutputPath does not apply.
    assert output(result) == {"order": 1, "error": {"Error": "Boom", "Cause": "it broke"}}
    assert [(e.kind, e.state_name) for e in events] == [
        ("entered", "T"),
        ("failed", "T"),
        ("caught", "T"),
        ("exited", "T"),
        ("entered", "Yes"),
        ("exited", "Yes"),
    ]


def test_catch_result_path_null_keeps_the_input() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": None, "Next": "N"}],
            "End": True,
        },
        "N": {"Type": "Pass", "End": True},
    }
    result, _, _ = run(states, {"order": 1}, failing("Boom"))
    assert output(result) == {"order": 1}


def test_retries_happen_before_the_catch() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["Boom"], "Next": "N"}],
            "End": True,
        },
        "N": {"Type": "Pass", "End": True},
    }
    result, _, events = run(states, {}, failing("Boom", "Boom", "Boom"))
    assert [e.kind for e in events if e.state_name == "T"] == [
        "entered",
        "failed",
        "retrying",
        "failed",
        "retrying",
        "failed",
        "caught",
        "exited",
    ]
    assert output(result) == {"Error": "Boom", "Cause": "it broke"}


@pytest.mark.parametrize(
    ("error", "caught"),
    [("Lambda.Unknown", True), ("MyError", True), ("States.Timeout", False), ("States.Permissions", True)],
)
def test_task_failed_matches_every_error_but_timeout(error: str, caught: bool) -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "N"}],
            "End": True,
        },
        "N": {"Type": "Succeed"},
    }
    result, _, _ = run(states, {}, failing(error))
    assert (result.status is ExecutionStatus.SUCCEEDED) is caught


def test_states_all_catches_timeout_but_error_names_match_exactly() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Catch": [
                {"ErrorEquals": ["boom"], "Next": "Lower"},
                {"ErrorEquals": ["States.ALL"], "Next": "All"},
            ],
            "End": True,
        },
        "Lower": {"Type": "Fail", "Error": "WrongCatcher"},
        "All": {"Type": "Succeed"},
    }
    assert run(states, {}, failing("Boom"))[0].status is ExecutionStatus.SUCCEEDED
    assert run(states, {}, failing("States.Timeout"))[0].status is ExecutionStatus.SUCCEEDED


def test_states_runtime_is_neither_retried_nor_caught() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "N"}],
            "End": True,
        },
        "N": {"Type": "Succeed"},
    }
    result, runtime, _ = run(states, {}, failing("States.Runtime"))
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert runtime.scheduled == []


# --- stopping -----------------------------------------------------------------------------------------


def test_stop_aborts_a_waiting_execution_once_and_voids_its_continuation() -> None:
    ran: list[str] = []
    states = {
        "W": {"Type": "Wait", "Seconds": 60, "Next": "T"},
        "T": {"Type": "Task", "Resource": FN, "End": True},
    }
    runtime = VirtualRuntime(lambda resource, *_: ran.append(resource))
    results: list[ExecutionResult] = []
    execution = program(states).start({}, local_context(runtime), runtime, results.append)
    assert execution.status is ExecutionStatus.RUNNING
    assert results == []

    runtime.advance(10)
    execution.stop("Operator", "stopped by hand")
    execution.stop("Again", "ignored")
    runtime.run()

    assert ran == []  # the Wait's continuation did nothing
    assert [(r.status, r.error, r.cause) for r in results] == [
        (ExecutionStatus.ABORTED, "Operator", "stopped by hand")
    ]
    assert execution.result is not None
    assert execution.result.status is ExecutionStatus.ABORTED


def test_stop_after_the_end_changes_nothing() -> None:
    runtime = VirtualRuntime()
    results: list[ExecutionResult] = []
    execution = program({"P": {"Type": "Pass", "End": True}}).start(
        {}, local_context(runtime), runtime, results.append
    )
    execution.stop("Late", None)
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert len(results) == 1


def test_stop_during_a_retry_back_off_aborts() -> None:
    calls: list[int] = []

    def task(*_: Any) -> Any:
        calls.append(1)
        raise TaskFailed("Boom", None)

    states = {"T": {"Type": "Task", "Resource": FN, "Retry": [{"ErrorEquals": ["Boom"]}], "End": True}}
    runtime = VirtualRuntime(task)
    results: list[ExecutionResult] = []
    execution = program(states).start({}, local_context(runtime), runtime, results.append)
    execution.stop(None, None)
    runtime.run()
    assert calls == [1]
    assert [r.status for r in results] == [ExecutionStatus.ABORTED]


def test_timeout_and_heartbeat_reach_the_task_runner_and_a_bad_timeout_path_fails() -> None:
    seen: list[tuple[int | None, int | None]] = []

    def task(_resource: str, _parameters: Any, task: TaskContext) -> Any:
        seen.append((task.timeout_seconds, task.heartbeat_seconds))
        return None

    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "TimeoutSecondsPath": "$.timeout",
            "HeartbeatSeconds": 5,
            "End": True,
        }
    }
    assert run(states, {"timeout": 30}, task)[0].status is ExecutionStatus.SUCCEEDED
    assert seen == [(30, 5)]
    result, _, _ = run(states, {"timeout": 0}, task)
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")


# --- time bounds: no delay escapes the one-year limit -----------------------------------------------

ONE_YEAR = 31_622_400  # a Standard execution's maximum duration, in seconds (366 days)


class DelayRecordingRuntime(VirtualRuntime):
    """A VirtualRuntime that records each delay handed to call_later (it, like the host, builds a
    datetime from the delay, which overflows past the year 9999)."""

    def __init__(self, run_task: Callable[[str, Any, TaskContext], Any] | None = None) -> None:
        super().__init__(run_task)
        self.delays: list[float] = []

    def call_later(self, seconds: float, label: str, action: Callable[[], None]) -> None:
        self.delays.append(seconds)
        super().call_later(seconds, label, action)


def run_recording(
    states: dict[str, Any], execution_input: Any = None, task: Any = None
) -> tuple[ExecutionResult, DelayRecordingRuntime, list[TransitionEvent]]:
    runtime = DelayRecordingRuntime(task)
    events: list[TransitionEvent] = []
    result = run_to_completion(program(states), execution_input, runtime, on_transition=events.append)
    return result, runtime, events


@pytest.mark.parametrize(
    ("retrier", "longest"),
    [
        # 2 x 2^39 s (1.1e12 s) by the last attempt: capped at the one-year maximum
        ({"IntervalSeconds": 2, "BackoffRate": 2.0, "MaxAttempts": 40}, ONE_YEAR),
        # 1e308^2 overflows a float (OverflowError from **): as long as allowed
        ({"IntervalSeconds": 1, "BackoffRate": 1e308, "MaxAttempts": 3}, ONE_YEAR),
        # MaxDelaySeconds still caps below the year
        ({"IntervalSeconds": 1, "BackoffRate": 1e308, "MaxAttempts": 3, "MaxDelaySeconds": 60}, 60),
    ],
)
def test_a_huge_retry_back_off_is_capped_and_the_execution_fails_normally(
    retrier: dict[str, Any], longest: float
) -> None:
    # GIVEN a task that always fails and a retrier whose back-off grows past any representable time
    states = {
        "T": {"Type": "Task", "Resource": FN, "Retry": [{"ErrorEquals": ["Boom"], **retrier}], "End": True}
    }
    attempts = retrier["MaxAttempts"]

    # WHEN it runs to the end (this used to raise OverflowError out of call_later / **)
    result, runtime, events = run_recording(states, {}, failing(*["Boom"] * (attempts + 1)))

    # THEN every retry happened, no delay exceeded the cap, and the execution failed with the task's error
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "Boom")
    assert len(runtime.delays) == attempts
    assert max(runtime.delays) == longest
    assert [e.delay_seconds for e in events if e.kind == "retrying"] == runtime.delays


def test_the_longest_documented_wait_is_capped_at_one_year() -> None:
    # GIVEN Wait Seconds 99,999,999 (3.2 years, the documented maximum)
    states = {"W": {"Type": "Wait", "Seconds": 99_999_999, "End": True}}
    # WHEN it runs THEN the continuation is scheduled one year ahead, and the execution succeeds
    result, runtime, _ = run_recording(states, {})
    assert result.status is ExecutionStatus.SUCCEEDED
    assert runtime.delays == [ONE_YEAR]


@pytest.mark.parametrize("seconds", [10**30, 100_000_000, 1e308, -1, 1.5, "10"])
def test_seconds_path_out_of_range_fails_the_execution_with_states_runtime(seconds: Any) -> None:
    # GIVEN a SecondsPath selecting a value outside Seconds' 0..99,999,999
    states = {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}
    # WHEN it runs THEN the execution fails (nothing escapes into the host's loop)
    result, runtime, _ = run_recording(states, {"s": seconds})
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert result.cause is not None
    assert "SecondsPath" in result.cause
    assert runtime.delays == []


def test_a_timestamp_in_the_year_9999_waits_one_year_not_forever() -> None:
    # GIVEN a TimestampPath selecting a valid timestamp 7,974 years ahead (251e9 s: now + that overflows)
    states = {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}
    # WHEN it runs THEN the delay handed to call_later is capped at one year
    result, runtime, _ = run_recording(states, {"at": "9999-12-31T23:59:59Z"})
    assert result.status is ExecutionStatus.SUCCEEDED
    assert runtime.delays == [ONE_YEAR]


def test_a_timeout_seconds_path_beyond_the_maximum_fails_with_states_runtime() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "TimeoutSecondsPath": "$.t", "End": True}}
    result, _, _ = run(states, {"t": 100_000_000}, lambda *_: None)
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert run(states, {"t": 99_999_999}, lambda *_: None)[0].status is ExecutionStatus.SUCCEEDED


def test_a_naive_start_time_is_refused() -> None:
    runtime = VirtualRuntime()
    naive = dataclasses.replace(local_context(runtime), start_time=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        program({"P": {"Type": "Pass", "End": True}}).start({}, naive, runtime, lambda _result: None)
