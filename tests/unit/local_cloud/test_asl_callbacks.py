"""``.waitForTaskToken`` tasks: the token in the context object, the wait on virtual time, and the answers
SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat give, as the Step Functions documentation describes
the callback pattern (see docs/decisions/0030-task-tokens-in-the-local-cloud.md)."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest

from workflowkit.asl import (
    AslDefinitionError,
    Execution,
    ExecutionResult,
    ExecutionStatus,
    InvalidDefinitionError,
    StateMachineProgram,
    TaskContext,
    TaskFailed,
    TaskTokenError,
    TransitionEvent,
    VirtualRuntime,
    local_context,
)
from workflowkit.asl.tokens import execution_of, new_token, state_machine_of

SQS = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
MESSAGE = {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals"}


class Harness:
    """An execution on a VirtualRuntime whose task runner records each call (and its token)."""

    def __init__(self, states: dict[str, Any], execution_input: Any = None, *, fail_calls: int = 0) -> None:
        self.calls: list[tuple[str, Any, TaskContext]] = []
        self.fail_calls = fail_calls
        self.runtime = VirtualRuntime(self._task)
        self.results: list[ExecutionResult] = []
        self.events: list[TransitionEvent] = []
        definition = json.dumps({"StartAt": next(iter(states)), "States": states})
        self.context = local_context(self.runtime, "e-1", "approvals")
        self.execution: Execution = StateMachineProgram.parse(definition).start(
            execution_input if execution_input is not None else {},
            self.context,
            self.runtime,
            self.results.append,
            self.events.append,
        )

    def _task(self, resource: str, parameters: Any, task: TaskContext) -> Any:
        self.calls.append((resource, parameters, task))
        if len(self.calls) <= self.fail_calls:
            raise TaskFailed("SQS.AmazonSQSException", "the queue is busy")
        return {"MessageId": f"m-{len(self.calls)}"}

    @property
    def tokens(self) -> list[str]:
        return [task.task_token for _, _, task in self.calls if task.task_token is not None]

    @property
    def result(self) -> ExecutionResult:
        assert len(self.results) == 1, self.results
        return self.results[0]

    def succeed(self, token: str, output: Any) -> None:
        self.runtime.task_tokens.send_success(token, json.dumps(output))

    def run_for(self, seconds: float) -> None:
        self.runtime.run(until=self.runtime.now() + timedelta(seconds=seconds))

    def kinds(self, state: str) -> list[str]:
        return [event.kind for event in self.events if event.state_name == state]


def ask(**extra: Any) -> dict[str, Any]:
    """A task that sends the token in an SQS message and waits for the answer."""
    return {
        "Type": "Task",
        "Resource": SQS,
        "Parameters": {**MESSAGE, "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
        **extra,
    }


def refused(code: str, send: Any) -> None:
    with pytest.raises(TaskTokenError) as caught:
        send()
    assert caught.value.code == code


# --- success ----------------------------------------------------------------------------------------


def test_the_task_waits_for_send_task_success_and_its_output_is_the_result() -> None:
    # GIVEN a task that sends its token, then a Pass
    states = {
        "Ask": ask(ResultSelector={"decision.$": "$.decision"}, ResultPath="$.answer", Next="Done"),
        "Done": {"Type": "Pass", "End": True},
    }
    harness = Harness(states, {"order": "o-1"})
    # THEN the service was called with the token in the Parameters, and the execution waits
    ((resource, parameters, task),) = harness.calls
    assert resource == "arn:aws:states:::sqs:sendMessage"
    assert parameters["MessageBody"] == {"order": "o-1", "token": task.task_token}
    assert harness.execution.status is ExecutionStatus.RUNNING
    assert harness.runtime.pending == 0  # no timeout asked: nothing is scheduled, nothing is busy
    assert harness.kinds("Ask") == ["entered", "submitted"]
    # WHEN the token is answered
    token = harness.tokens[0]
    harness.succeed(token, {"decision": "approve", "by": "ana"})
    harness.runtime.run()
    # THEN the answer is the task's result, through ResultSelector and ResultPath
    assert harness.result.status is ExecutionStatus.SUCCEEDED
    assert json.loads(harness.result.output or "") == {"order": "o-1", "answer": {"decision": "approve"}}
    assert harness.kinds("Ask") == ["entered", "submitted", "exited"]
    # AND the token is closed: a second answer is too late
    refused("TaskTimedOut", lambda: harness.succeed(token, {}))


def test_the_token_names_the_execution_and_its_state_machine() -> None:
    harness = Harness({"Ask": ask(End=True)}, {"order": "o-1"})
    token = harness.tokens[0]
    assert execution_of(token) == harness.context.execution_arn
    assert state_machine_of(token) == harness.context.state_machine_arn


def test_an_answer_given_during_the_service_call_completes_the_task_when_the_call_returns() -> None:
    # GIVEN a callee that answers at once (a Lambda that calls SendTaskSuccess before it returns)
    runtime = VirtualRuntime(
        lambda _r, _p, task: runtime.task_tokens.send_success(task.task_token or "", '{"quick": true}')
    )
    results: list[ExecutionResult] = []
    definition = json.dumps({"StartAt": "Ask", "States": {"Ask": ask(End=True)}})
    StateMachineProgram.parse(definition).start(
        {"order": "o"}, local_context(runtime), runtime, results.append
    )
    # THEN the execution finished synchronously with the answer
    assert [json.loads(r.output or "") for r in results] == [{"quick": True}]


# --- failure, Retry, Catch --------------------------------------------------------------------------


def test_send_task_failure_fails_the_task_with_its_error_and_cause_and_catch_applies() -> None:
    states = {
        "Ask": ask(Catch=[{"ErrorEquals": ["Rejected"], "ResultPath": "$.why", "Next": "Refused"}], End=True),
        "Refused": {"Type": "Pass", "End": True},
    }
    harness = Harness(states, {"order": "o-1"})
    harness.runtime.task_tokens.send_failure(harness.tokens[0], "Rejected", "the customer said no")
    harness.runtime.run()
    assert json.loads(harness.result.output or "") == {
        "order": "o-1",
        "why": {"Error": "Rejected", "Cause": "the customer said no"},
    }
    assert harness.kinds("Ask") == ["entered", "submitted", "failed", "caught", "exited"]


def test_an_uncaught_failure_fails_the_execution_with_that_error() -> None:
    harness = Harness({"Ask": ask(End=True)}, {"order": "o-1"})
    harness.runtime.task_tokens.send_failure(harness.tokens[0], "Rejected", None)
    harness.runtime.run()
    assert (harness.result.status, harness.result.error, harness.result.cause) == (
        ExecutionStatus.FAILED,
        "Rejected",
        None,
    )


def test_a_retry_issues_a_new_token_and_the_old_one_is_then_timed_out() -> None:
    states = {"Ask": ask(Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5}], End=True)}
    harness = Harness(states, {"order": "o-1"})
    first = harness.tokens[0]
    harness.runtime.task_tokens.send_failure(first, "Flaky", "try again")
    harness.runtime.run()
    # THEN the task ran again, after the back-off, with a new token in its Parameters
    assert len(harness.calls) == 2
    second = harness.tokens[1]
    assert second != first
    assert harness.calls[1][1]["MessageBody"]["token"] == second
    assert harness.calls[1][2].retry_count == 1
    # AND the first token is no longer answered; the second is
    refused("TaskTimedOut", lambda: harness.succeed(first, {"late": True}))
    harness.succeed(second, {"ok": True})
    harness.runtime.run()
    assert json.loads(harness.result.output or "") == {"ok": True}


def test_a_failed_service_call_closes_its_token_and_the_retry_gets_another() -> None:
    states = {"Ask": ask(Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}], End=True)}
    harness = Harness(states, {"order": "o-1"}, fail_calls=1)
    harness.runtime.run()
    first, second = harness.tokens
    refused("TaskTimedOut", lambda: harness.succeed(first, {}))
    harness.succeed(second, {"ok": True})
    harness.runtime.run()
    assert harness.result.status is ExecutionStatus.SUCCEEDED


# --- timeouts ---------------------------------------------------------------------------------------


def test_without_a_heartbeat_the_task_fails_with_states_heartbeat_timeout() -> None:
    # GIVEN a task with a 10 s heartbeat (and a long timeout)
    harness = Harness({"Ask": ask(HeartbeatSeconds=10, TimeoutSeconds=300, End=True)}, {"order": "o-1"})
    token = harness.tokens[0]
    started = harness.runtime.now()
    # WHEN a heartbeat comes after 6 s, then nothing
    harness.run_for(6)
    harness.runtime.task_tokens.send_heartbeat(token)
    harness.runtime.run()
    # THEN the task fails 10 s after the last heartbeat, with the heartbeat error
    assert (harness.result.status, harness.result.error) == (
        ExecutionStatus.FAILED,
        "States.HeartbeatTimeout",
    )
    assert harness.result.stop_time == started + timedelta(seconds=16)
    # AND the token is closed
    refused("TaskTimedOut", lambda: harness.runtime.task_tokens.send_heartbeat(token))


def test_timeout_seconds_ends_the_wait_with_states_timeout_whatever_the_heartbeats() -> None:
    # GIVEN a task that must finish within 30 s and beat every 20 s; a TaskFailed catcher
    states = {
        "Ask": ask(
            TimeoutSeconds=30,
            HeartbeatSeconds=20,
            Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}],
            End=True,
        ),
        "Caught": {"Type": "Pass", "End": True},
    }
    harness = Harness(states, {"order": "o-1"})
    started = harness.runtime.now()
    for _ in range(3):  # heartbeats at 15, 30 (too late), ...
        harness.run_for(15)
        if harness.execution.status is ExecutionStatus.RUNNING:
            harness.runtime.task_tokens.send_heartbeat(harness.tokens[0])
    harness.runtime.run()
    # THEN it timed out at 30 s; States.TaskFailed does not match States.Timeout, so nothing caught it
    assert (harness.result.status, harness.result.error) == (ExecutionStatus.FAILED, "States.Timeout")
    assert harness.result.stop_time == started + timedelta(seconds=30)


def test_timeouts_can_come_from_the_input_with_their_path_forms() -> None:
    states = {"Ask": ask(TimeoutSecondsPath="$.limits.total", HeartbeatSecondsPath="$.limits.beat", End=True)}
    harness = Harness(states, {"order": "o-1", "limits": {"total": 100, "beat": 40}})
    assert (harness.calls[0][2].timeout_seconds, harness.calls[0][2].heartbeat_seconds) == (100, 40)
    harness.runtime.run()
    assert harness.result.error == "States.HeartbeatTimeout"
    assert harness.result.stop_time == harness.context.start_time + timedelta(seconds=40)


def test_an_answered_task_is_not_timed_out_later() -> None:
    harness = Harness({"Ask": ask(TimeoutSeconds=30, HeartbeatSeconds=10, End=True)}, {"order": "o-1"})
    harness.run_for(5)
    harness.succeed(harness.tokens[0], {"ok": True})
    harness.runtime.run()  # the timers fire after the answer: they do nothing
    assert harness.result.status is ExecutionStatus.SUCCEEDED


# --- stopping -----------------------------------------------------------------------------------------


def test_stopping_a_waiting_execution_invalidates_its_token() -> None:
    harness = Harness({"Ask": ask(TimeoutSeconds=60, End=True)}, {"order": "o-1"})
    harness.run_for(5)
    harness.execution.stop("Stopped", "by an operator")
    refused("TaskTimedOut", lambda: harness.succeed(harness.tokens[0], {"ok": True}))
    harness.runtime.run()
    assert [(r.status, r.error) for r in harness.results] == [(ExecutionStatus.ABORTED, "Stopped")]


def test_an_execution_stopped_during_the_service_call_leaves_no_open_token() -> None:
    results: list[ExecutionResult] = []
    seen: list[str] = []

    def stop_then_return(_resource: str, _parameters: Any, task: TaskContext) -> Any:
        seen.append(task.task_token or "")
        execution.stop("Stopped", "while the message was sent")
        return {}

    runtime = VirtualRuntime(stop_then_return)
    states = {"Pause": {"Type": "Wait", "Seconds": 1, "Next": "Ask"}, "Ask": ask(TimeoutSeconds=60, End=True)}
    definition = json.dumps({"StartAt": "Pause", "States": states})
    execution = StateMachineProgram.parse(definition).start(
        {"order": "o"}, local_context(runtime), runtime, results.append
    )
    runtime.run()
    assert [r.status for r in results] == [ExecutionStatus.ABORTED]
    assert runtime.task_tokens.open_tokens == []
    assert runtime.pending == 0  # no timer was armed
    refused("TaskTimedOut", lambda: runtime.task_tokens.send_success(seen[0], "{}"))


def test_a_failing_parallel_branch_closes_the_token_another_branch_waits_on() -> None:
    states = {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Ask", "States": {"Ask": ask(End=True)}},
                {
                    "StartAt": "Later",
                    "States": {
                        "Later": {"Type": "Wait", "Seconds": 5, "Next": "Boom"},
                        "Boom": {"Type": "Fail", "Error": "Boom"},
                    },
                },
            ],
            "End": True,
        }
    }
    harness = Harness(states, {"order": "o-1"})
    harness.runtime.run()
    assert harness.result.error == "Boom"
    refused("TaskTimedOut", lambda: harness.succeed(harness.tokens[0], {}))


# --- the context object -------------------------------------------------------------------------------


def test_the_token_is_in_the_context_object_only_for_a_callback_task() -> None:
    # A request-response task has no $$.Task
    states = {
        "Plain": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {**MESSAGE, "MessageBody": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    }
    harness = Harness(states)
    assert (harness.result.status, harness.result.error) == (ExecutionStatus.FAILED, "States.Runtime")
    assert "$$.Task.Token" in (harness.result.cause or "")
    # Nor has the state after a callback task
    states = {
        "Ask": ask(Next="After"),
        "After": {"Type": "Pass", "Parameters": {"t.$": "$$.Task"}, "End": True},
    }
    harness = Harness(states, {"order": "o-1"})
    harness.succeed(harness.tokens[0], {})
    harness.runtime.run()
    assert harness.result.error == "States.Runtime"


# --- the API's errors --------------------------------------------------------------------------------


def test_the_api_errors_for_bad_unknown_and_closed_tokens_and_bad_output() -> None:
    harness = Harness({"Ask": ask(End=True)}, {"order": "o-1"})
    tokens = harness.runtime.task_tokens
    token = harness.tokens[0]
    refused("InvalidToken", lambda: tokens.send_success("not a token", "{}"))
    refused("InvalidToken", lambda: tokens.send_heartbeat("bm90IGEgdG9rZW4="))  # base64 of "not a token"
    unknown = new_token(harness.context.execution_arn, random.Random(99))  # well formed, never issued
    refused("TaskDoesNotExist", lambda: tokens.send_failure(unknown, "E", None))
    refused("InvalidOutput", lambda: tokens.send_success(token, "{not json"))
    refused("InvalidOutput", lambda: tokens.send_success(token, "NaN"))
    # the refused output changed nothing: the task still waits and takes a valid answer
    assert tokens.open_tokens == [token]
    tokens.send_success(token, "[1, 2]")
    harness.runtime.run()
    assert json.loads(harness.result.output or "") == [1, 2]


# --- the definition ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::events:putEvents.waitForTaskToken",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:::sns:publish.waitForTaskToken",
        "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
    ],
)
def test_callback_integrations_are_accepted(resource: str) -> None:
    StateMachineProgram.parse(
        json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}})
    )


@pytest.mark.parametrize(
    ("resource", "express"),
    [
        # the optimised DynamoDB integration has no callback pattern ("Not supported")
        ("arn:aws:states:::dynamodb:putItem.waitForTaskToken", False),
        ("arn:aws:states:::dynamodb:updateItem.waitForTaskToken", False),
        # a Lambda function ARN is no service integration
        ("arn:aws:lambda:us-east-1:123456789012:function:work.waitForTaskToken", False),
        # Express workflows support request-response only
        ("arn:aws:states:::sqs:sendMessage.waitForTaskToken", True),
    ],
)
def test_a_callback_step_functions_refuses_is_an_invalid_definition(resource: str, express: bool) -> None:
    definition = json.dumps(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}
    )
    with pytest.raises(InvalidDefinitionError) as caught:
        StateMachineProgram.parse(definition, express=express)
    assert isinstance(caught.value, AslDefinitionError)
    assert (caught.value.state, caught.value.field) == ("T", "Resource")
