"""A definition is validated once, at parse time, with errors that name the state and the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflowkit.asl import AslDefinitionError, StateMachineProgram

TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True}


def parse(definition: Any) -> StateMachineProgram:
    return StateMachineProgram.parse(definition if isinstance(definition, str) else json.dumps(definition))


def rejected(definition: Any) -> AslDefinitionError:
    with pytest.raises(AslDefinitionError) as raised:
        parse(definition)
    return raised.value


def one(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": state}}


def test_the_repository_definitions_parse() -> None:
    for name in ("payment", "refund"):
        with open(f"statemachines/{name}.asl.json", encoding="utf-8") as handle:
            program = parse(handle.read())
        assert program.machine.start_at in program.state_names


@pytest.mark.parametrize(
    ("definition", "state", "field", "message"),
    [
        ("{not json", None, None, "not JSON"),
        ([], None, None, "JSON object"),
        ({"StartAt": "S", "States": {}}, None, "States", "non-empty"),
        ({"StartAt": "X", "States": {"S": TASK}}, None, "StartAt", "StartAt"),
        (
            {"StartAt": "S", "States": {"S": TASK}, "QueryLanguage": "JSONata"},
            None,
            "QueryLanguage",
            "JSONata",
        ),
        (one({**TASK, "QueryLanguage": "JSONata"}), "S", "QueryLanguage", "JSONata"),
        (one({**TASK, "Arguments": {}}), "S", "Arguments", "JSONata"),
        (one({**TASK, "Assign": {"x": 1}}), "S", "Assign", "variables"),
        (one({"Type": "Magic", "End": True}), "S", "Type", "unknown state type"),
        (one({**TASK, "Resultpath": "$.x"}), "S", "Resultpath", "not supported in a Task"),
        (one({"Type": "Pass", "Retry": [], "End": True}), "S", "Retry", "not supported in a Pass"),
        (one({"Type": "Pass"}), "S", "Next", "exactly one of Next or End"),
        (one({"Type": "Pass", "Next": "S", "End": True}), "S", "Next", "exactly one of Next or End"),
        (one({"Type": "Pass", "Next": "Nowhere"}), "S", "Next", "no state named 'Nowhere'"),
        (one({"Type": "Succeed", "End": True}), "S", "End", "not supported in a Succeed"),
        (one({**TASK, "Resource": 1}), "S", "Resource", "Resource"),
        (one({**TASK, "InputPath": "data"}), "S", "InputPath", "starting with '$'"),
        (one({**TASK, "ResultPath": "$.a[*]"}), "S", "ResultPath", "not a reference path"),
        (one({**TASK, "ResultPath": "$$.Execution"}), "S", "ResultPath", None),
        (one({**TASK, "Parameters": {"a.$": "$.x[?(@.y ==)]"}}), "S", "Parameters", "filter"),
        (one({**TASK, "Parameters": {"a.$": "$.x.length()"}}), "S", "Parameters", "not supported"),
        (one({**TASK, "TimeoutSeconds": 0}), "S", "TimeoutSeconds", "integer from 1"),
        (
            one({**TASK, "TimeoutSeconds": 10, "TimeoutSecondsPath": "$.t"}),
            "S",
            "TimeoutSecondsPath",
            "exclusive",
        ),
        (one({**TASK, "TimeoutSeconds": 10, "HeartbeatSeconds": 10}), "S", "HeartbeatSeconds", "smaller"),
        (one({**TASK, "Retry": [{"ErrorEquals": []}]}), "S", "Retry[0].ErrorEquals", "non-empty"),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}),
            "S",
            "Retry[0].ErrorEquals",
            "alone",
        ),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}),
            "S",
            "Retry[0].ErrorEquals",
            "last",
        ),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}),
            "S",
            "Retry[0].BackoffRate",
            ">= 1.0",
        ),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 0}]}),
            "S",
            "Retry[0].IntervalSeconds",
            None,
        ),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": -1}]}),
            "S",
            "Retry[0].MaxAttempts",
            None,
        ),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]}),
            "S",
            "Retry[0].JitterStrategy",
            None,
        ),
        (
            one({**TASK, "Retry": [{"ErrorEquals": ["X"], "Interval": 1}]}),
            "S",
            "Retry[0].Interval",
            "unknown",
        ),
        (one({**TASK, "Catch": [{"ErrorEquals": ["X"]}]}), "S", "Catch[0].Next", "Next"),
        (one({**TASK, "Catch": [{"ErrorEquals": ["X"], "Next": "Gone"}]}), "S", "Catch[0].Next", "no state"),
        (
            one({**TASK, "Catch": [{"ErrorEquals": ["X"], "Next": "S", "ResultPath": "$.a[*]"}]}),
            "S",
            "Catch[0].ResultPath",
            "reference path",
        ),
        (one({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}), "S", None, "exactly one"),
        (one({"Type": "Wait", "Seconds": -1, "End": True}), "S", "Seconds", "integer from 0 to 99999999"),
        (one({"Type": "Wait", "Timestamp": "tomorrow", "End": True}), "S", "Timestamp", "RFC 3339"),
        (one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}), "S", "ErrorPath", "exclusive"),
        (one({"Type": "Choice", "Choices": []}), "S", "Choices", "non-empty"),
        (one({"Type": "Parallel", "Branches": [], "End": True}), "S", "Branches", "non-empty"),
    ],
)
def test_invalid_definitions_are_rejected_naming_state_and_field(
    definition: Any, state: str | None, field: str | None, message: str | None
) -> None:
    error = rejected(definition)
    assert (error.state, error.field) == (state, field)
    if message is not None:
        assert message in str(error)


@pytest.mark.parametrize(
    ("state", "field"),
    [
        # Wait: "an integer value from 0 to 99999999" (a null used to slip through and crash at run time)
        ({"Type": "Wait", "Seconds": 10**12, "End": True}, "Seconds"),
        ({"Type": "Wait", "Seconds": 100_000_000, "End": True}, "Seconds"),
        ({"Type": "Wait", "Seconds": None, "End": True}, "Seconds"),
        # Retry: MaxDelaySeconds "must be less than 31622401"; the others at most 99999999
        (
            {**TASK, "Retry": [{"ErrorEquals": ["X"], "MaxDelaySeconds": 31_622_401}]},
            "Retry[0].MaxDelaySeconds",
        ),
        (
            {**TASK, "Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 100_000_000}]},
            "Retry[0].IntervalSeconds",
        ),
        ({**TASK, "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 100_000_000}]}, "Retry[0].MaxAttempts"),
        # BackoffRate: a finite number (a 400-digit integer overflowed float() with OverflowError)
        ({**TASK, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 10**400}]}, "Retry[0].BackoffRate"),
    ],
)
def test_out_of_range_waits_and_retriers_are_rejected_naming_state_and_field(
    state: dict[str, Any], field: str
) -> None:
    # GIVEN a Wait or a retrier beyond the bounds Step Functions documents
    # WHEN it is parsed THEN it is refused, naming the state and the field
    error = rejected(one(state))
    assert (error.state, error.field) == ("S", field)


def test_the_largest_documented_wait_and_max_delay_are_accepted() -> None:
    parse(one({"Type": "Wait", "Seconds": 99_999_999, "End": True}))
    parse(
        one({**TASK, "Retry": [{"ErrorEquals": ["X"], "MaxDelaySeconds": 31_622_400, "BackoffRate": 1e308}]})
    )


@pytest.mark.parametrize("kind", [[1], {"a": 1}, None, 7])
def test_a_state_type_that_is_not_a_string_is_a_definition_error(kind: Any) -> None:
    # GIVEN a Type that is a list or an object (unhashable: it used to raise TypeError)
    definition = {"StartAt": "A", "States": {"A": {"Type": kind, "End": True}}}
    # WHEN parsed THEN AslDefinitionError names state A, field Type
    error = rejected(definition)
    assert (error.state, error.field) == ("A", "Type")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_definition_with_nan_infinity_or_an_overflowing_number_is_not_json(literal: str) -> None:
    # GIVEN definition text Python's json module would accept (NaN) or turn into inf (1e400)
    text = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": ' + literal + ', "End": true}}}'
    # WHEN parsed THEN it is rejected as JSON text, as Step Functions rejects it
    assert "not JSON" in str(rejected(text))


def test_state_names_are_unique_across_branches_and_states_must_be_reachable() -> None:
    duplicate = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [{"StartAt": "P", "States": {"P": TASK}}], "End": True},
        },
    }
    assert "unique" in str(rejected(duplicate))
    orphan = {"StartAt": "A", "States": {"A": TASK, "B": TASK}}
    error = rejected(orphan)
    assert (error.state, "not reachable" in str(error)) == ("B", True)


def test_map_is_inline_only() -> None:
    processor = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    distributed = one(
        {
            "Type": "Map",
            "ItemProcessor": {
                **processor,
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            },
            "End": True,
        }
    )
    assert "Distributed Map" in str(rejected(distributed))
    reader = one({"Type": "Map", "ItemProcessor": processor, "ItemReader": {}, "End": True})
    assert (rejected(reader).field, "Distributed Map" in str(rejected(reader))) == ("ItemReader", True)
    both = one({"Type": "Map", "ItemProcessor": processor, "Iterator": processor, "End": True})
    assert rejected(both).field == "ItemProcessor"
    nested = one(
        {"Type": "Map", "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass"}}}, "End": True}
    )
    assert (rejected(nested).state, rejected(nested).field) == ("I", "Next")


def test_a_parsed_program_is_reusable_across_executions() -> None:
    program = parse(one({"Type": "Pass", "End": True}))
    assert program.state_names == frozenset({"S"})
