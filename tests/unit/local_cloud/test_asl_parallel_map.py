"""Parallel branches and Map iterations: independent flows on one runtime, joined in order."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

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
from workflowkit.asl.virtual import EPOCH

FN = "arn:aws:lambda:us-east-1:123456789012:function:"


def program(states: dict[str, Any]) -> StateMachineProgram:
    return StateMachineProgram.parse(json.dumps({"StartAt": next(iter(states)), "States": states}))


def branch(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    chained: dict[str, Any] = {}
    for index, (name, state) in enumerate(states):
        follow = {"Next": states[index + 1][0]} if index + 1 < len(states) else {"End": True}
        chained[name] = {**state, **(follow if state["Type"] not in ("Succeed", "Fail") else {})}
    return {"StartAt": states[0][0], "States": chained}


def output(result: ExecutionResult) -> Any:
    assert result.status is ExecutionStatus.SUCCEEDED, (result.error, result.cause)
    return json.loads(result.output or "null")


def test_parallel_output_is_the_list_of_branch_outputs_in_branch_order() -> None:
    states = {
        "Fan": {
            "Type": "Parallel",
            "Parameters": {"n.$": "$.n"},
            "Branches": [
                branch(("Slow", {"Type": "Wait", "Seconds": 10}), ("A", {"Type": "Pass", "Result": "a"})),
                branch(("B", {"Type": "Pass", "InputPath": "$.n"})),
            ],
            "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"},
            "ResultPath": "$.fan",
            "End": True,
        }
    }
    result = run_to_completion(program(states), {"n": 7}, VirtualRuntime())
    assert output(result) == {"n": 7, "fan": {"first": "a", "second": 7}}


def test_a_waiting_branch_lets_the_others_progress_on_virtual_time() -> None:
    calls: list[tuple[str, float]] = []

    def task(resource: str, _parameters: Any, _task: TaskContext) -> Any:
        calls.append((resource.rsplit(":", 1)[-1], (runtime.now() - EPOCH).total_seconds()))
        return None

    runtime = VirtualRuntime(task, start=EPOCH)
    states = {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                branch(
                    ("W1", {"Type": "Wait", "Seconds": 5}), ("T1", {"Type": "Task", "Resource": FN + "one"})
                ),
                branch(
                    ("W2", {"Type": "Wait", "Seconds": 1}), ("T2", {"Type": "Task", "Resource": FN + "two"})
                ),
            ],
            "End": True,
        }
    }
    result = run_to_completion(program(states), {}, runtime)
    assert output(result) == [None, None]
    assert calls == [("two", 1.0), ("one", 5.0)]


def test_a_failing_branch_fails_the_parallel_and_stops_the_others() -> None:
    ran: list[str] = []

    def task(resource: str, _parameters: Any, _task: TaskContext) -> Any:
        ran.append(resource)
        return None

    states = {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                branch(
                    ("Wait", {"Type": "Wait", "Seconds": 60}),
                    ("Late", {"Type": "Task", "Resource": FN + "late"}),
                ),
                branch(
                    ("Wait2", {"Type": "Wait", "Seconds": 1}),
                    ("Boom", {"Type": "Fail", "Error": "Boom", "Cause": "c"}),
                ),
            ],
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Handled"}],
            "End": True,
        },
        "Handled": {"Type": "Pass", "End": True},
    }
    runtime = VirtualRuntime(task)
    result = run_to_completion(program(states), {"in": 1}, runtime)
    # The branch's own error reaches the Parallel state's Catch; the other branch never runs its task.
    assert output(result) == {"in": 1, "error": {"Error": "Boom", "Cause": "c"}}
    assert ran == []
    assert result.stop_time is not None
    assert result.start_time is not None
    assert result.stop_time - result.start_time == timedelta(seconds=1)


def test_parallel_retry_reruns_every_branch() -> None:
    attempts: list[str] = []

    def task(resource: str, _parameters: Any, task: TaskContext) -> Any:
        attempts.append(resource.rsplit(":", 1)[-1])
        if resource.endswith("flaky") and len([a for a in attempts if a == "flaky"]) == 1:
            raise TaskFailed("Flaky", None)
        return resource.rsplit(":", 1)[-1]

    states = {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                branch(("Steady", {"Type": "Task", "Resource": FN + "steady"})),
                branch(("Flaky", {"Type": "Task", "Resource": FN + "flaky"})),
            ],
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3}],
            "End": True,
        }
    }
    result = run_to_completion(program(states), {}, VirtualRuntime(task))
    assert output(result) == ["steady", "flaky"]
    assert attempts == ["steady", "flaky", "steady", "flaky"]


def test_map_runs_the_processor_per_item_with_item_selector_and_map_context() -> None:
    states = {
        "Each": {
            "Type": "Map",
            "InputPath": "$.detail",
            "ItemsPath": "$.shipped",
            "ItemSelector": {
                "parcel.$": "$$.Map.Item.Value",
                "index.$": "$$.Map.Item.Index",
                "courier.$": "$.delivery-partner",
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Label",
                "States": {
                    "Label": {
                        "Type": "Pass",
                        "Parameters": {
                            "label.$": "States.Format('{}-{}', $.courier, $.parcel.prod)",
                            "i.$": "$.index",
                        },
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.detail.labels",
            "End": True,
        }
    }
    document = {"detail": {"delivery-partner": "UQS", "shipped": [{"prod": "R31"}, {"prod": "S39"}]}}
    result = run_to_completion(program(states), document, VirtualRuntime())
    assert output(result)["detail"]["labels"] == [{"label": "UQS-R31", "i": 0}, {"label": "UQS-S39", "i": 1}]


def test_map_with_legacy_iterator_and_parameters_and_a_result_selector() -> None:
    states = {
        "Each": {
            "Type": "Map",
            "Parameters": {"v.$": "$$.Map.Item.Value"},
            "Iterator": {
                "StartAt": "Double",
                "States": {"Double": {"Type": "Pass", "OutputPath": "$.v", "End": True}},
            },
            "ResultSelector": {"count.$": "States.ArrayLength($)", "items.$": "$"},
            "End": True,
        }
    }
    result = run_to_completion(program(states), [3, 4], VirtualRuntime())
    assert output(result) == {"count": 2, "items": [3, 4]}


def test_map_respects_max_concurrency_and_keeps_item_order() -> None:
    active: list[int] = []
    peak: list[int] = [0]

    def task(resource: str, parameters: Any, _task: TaskContext) -> Any:
        if resource.endswith("begin"):
            active.append(parameters)
            peak[0] = max(peak[0], len(active))
        else:
            active.remove(parameters)
        return parameters

    runtime = VirtualRuntime(task)
    processor = branch(
        ("Begin", {"Type": "Task", "Resource": FN + "begin"}),
        ("Work", {"Type": "Wait", "SecondsPath": "$"}),
        ("End", {"Type": "Task", "Resource": FN + "end"}),
    )
    states = {"Each": {"Type": "Map", "MaxConcurrency": 2, "ItemProcessor": processor, "End": True}}
    events: list[TransitionEvent] = []
    result = run_to_completion(program(states), [5, 1, 3, 2], runtime, on_transition=events.append)
    assert output(result) == [5, 1, 3, 2]
    assert peak == [2]
    # Items start as slots free up: 0 and 1 at once, 2 when 1 ends (t=1), 3 when 2 ends (t=4).
    begins = [
        (e.scope, e.time - events[0].time) for e in events if e.kind == "entered" and e.state_name == "Begin"
    ]
    assert begins == [
        ("Each/0", timedelta(0)),
        ("Each/1", timedelta(0)),
        ("Each/2", timedelta(seconds=1)),
        ("Each/3", timedelta(seconds=4)),
    ]


def test_a_failing_iteration_fails_the_map_with_its_error() -> None:
    def task(_resource: str, parameters: Any, _task: TaskContext) -> Any:
        if parameters == 2:
            raise TaskFailed("BadItem", f"item {parameters}")
        return parameters

    processor = branch(("T", {"Type": "Task", "Resource": FN + "t"}))
    states = {"Each": {"Type": "Map", "ItemProcessor": processor, "End": True}}
    result = run_to_completion(program(states), [1, 2, 3], VirtualRuntime(task))
    assert (result.status, result.error, result.cause) == (ExecutionStatus.FAILED, "BadItem", "item 2")


def test_a_long_sequential_map_stays_shallow() -> None:
    processor = branch(
        ("Inc", {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, 1)"}, "OutputPath": "$.v"})
    )
    states = {"Each": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": processor, "End": True}}
    result = run_to_completion(program(states), list(range(10_000)), VirtualRuntime())
    assert output(result) == list(range(1, 10_001))


def test_an_empty_map_outputs_an_empty_list_and_items_must_be_an_array() -> None:
    processor = branch(("P", {"Type": "Pass"}))
    states = {"Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True}}
    assert output(run_to_completion(program(states), {"items": []}, VirtualRuntime())) == []
    result = run_to_completion(program(states), {"items": "nope"}, VirtualRuntime())
    assert (result.status, result.error) == (ExecutionStatus.FAILED, "States.Runtime")


def test_stopping_the_execution_stops_its_branches() -> None:
    ran: list[str] = []
    states = {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                branch(("W", {"Type": "Wait", "Seconds": 5}), ("T", {"Type": "Task", "Resource": FN + "t"})),
                branch(
                    ("W2", {"Type": "Wait", "Seconds": 9}), ("T2", {"Type": "Task", "Resource": FN + "t2"})
                ),
            ],
            "End": True,
        }
    }
    runtime = VirtualRuntime(lambda resource, *_: ran.append(resource))
    results: list[ExecutionResult] = []
    execution = program(states).start({}, local_context(runtime), runtime, results.append)
    execution.stop("Stop", None)
    runtime.run()
    assert ran == []
    assert [r.status for r in results] == [ExecutionStatus.ABORTED]
