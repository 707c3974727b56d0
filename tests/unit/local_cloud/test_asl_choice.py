"""Choice rules decide as Step Functions does: types, missing fields, timestamps, wildcards, order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflowkit.asl import (
    AslDefinitionError,
    ExecutionResult,
    StateMachineProgram,
    VirtualRuntime,
    run_to_completion,
)


def choose(rule: dict[str, Any], document: Any) -> ExecutionResult:
    """Run a Choice with one rule: the output names the branch taken ("yes" or "no")."""
    definition = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
            "Yes": {"Type": "Pass", "Result": "yes", "End": True},
            "No": {"Type": "Pass", "Result": "no", "End": True},
        },
    }
    return run_to_completion(StateMachineProgram.parse(json.dumps(definition)), document, VirtualRuntime())


def matches(rule: dict[str, Any], document: Any) -> bool:
    result = choose(rule, document)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output == '"yes"'


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"StringEquals": "a"}, "a", True),
        ({"StringEquals": "a"}, "b", False),
        ({"StringEquals": "1"}, 1, False),  # no conversion between types
        ({"StringLessThan": "b"}, "a", True),
        ({"StringGreaterThan": "b"}, "a", False),
        ({"StringLessThanEquals": "a"}, "a", True),
        ({"StringGreaterThanEquals": "b"}, "c", True),
        ({"NumericEquals": 1}, 1.0, True),
        ({"NumericEquals": 1}, "1", False),
        ({"NumericEquals": 1}, True, False),  # a boolean is not a number
        ({"NumericLessThan": 10}, 9.5, True),
        ({"NumericGreaterThan": 10}, 10, False),
        ({"NumericLessThanEquals": 10}, 10, True),
        ({"NumericGreaterThanEquals": 90}, 90, True),
        ({"BooleanEquals": True}, True, True),
        ({"BooleanEquals": True}, 1, False),
        ({"TimestampEquals": "2026-01-05T09:00:00Z"}, "2026-01-05T10:00:00+01:00", True),  # same instant
        ({"TimestampLessThan": "2026-01-05T09:00:00Z"}, "2026-01-05T08:59:59.999Z", True),
        ({"TimestampGreaterThan": "2026-01-05T09:00:00Z"}, "2026-01-05T09:00:00Z", False),
        ({"TimestampLessThanEquals": "2026-01-05T09:00:00Z"}, "2026-01-05T09:00:00Z", True),
        ({"TimestampGreaterThanEquals": "2026-01-05T09:00:00Z"}, "2026-01-06T00:00:00Z", True),
        (
            {"TimestampEquals": "2026-01-05T09:00:00Z"},
            "2026-01-05 09:00:00Z",
            False,
        ),  # lowercase/space: not a timestamp
        ({"TimestampEquals": "2026-01-05T09:00:00Z"}, "2026-01-05t09:00:00z", False),
        ({"StringMatches": "log-*.txt"}, "log-2026-01.txt", True),
        ({"StringMatches": "log-*.txt"}, "log-1.csv", False),
        ({"StringMatches": "*"}, "", True),
        ({"StringMatches": "a\\*b"}, "a*b", True),  # an escaped star is a literal star
        ({"StringMatches": "a\\*b"}, "axxb", False),
        ({"StringMatches": "a\\\\*"}, "a\\anything", True),  # an escaped backslash, then a wildcard
        ({"StringMatches": "x"}, 1, False),
    ],
)
def test_comparison_operators(rule: dict[str, Any], value: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", **rule}, {"v": value}) is expected


def test_strings_order_by_utf16_code_units_like_java() -> None:
    # U+FF5E sorts after U+1F600 in UTF-16 (0xFF5E > 0xD83D), though before it by code point.
    assert matches({"Variable": "$.v", "StringGreaterThan": "\U0001f600"}, {"v": "\uff5e"})


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("IsNull", None, True),
        ("IsNull", 0, False),
        ("IsNumeric", 3.5, True),
        ("IsNumeric", "3.5", False),
        ("IsString", "", True),
        ("IsString", None, False),
        ("IsBoolean", False, True),
        ("IsBoolean", 0, False),
        ("IsTimestamp", "2016-03-14T01:59:00Z", True),
        ("IsTimestamp", "2016-03-14T01:59:00.123456789-07:00", True),
        ("IsTimestamp", "2016-03-14", False),
        ("IsTimestamp", "2016-13-14T01:59:00Z", False),
    ],
)
def test_type_tests(operator: str, value: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", operator: True}, {"v": value}) is expected
    assert matches({"Variable": "$.v", operator: False}, {"v": value}) is not expected


def test_is_present_is_the_one_test_that_accepts_a_missing_field() -> None:
    assert matches({"Variable": "$.v", "IsPresent": True}, {"v": None})
    assert matches({"Variable": "$.v", "IsPresent": False}, {})
    assert not matches({"Variable": "$.a.b", "IsPresent": True}, {"a": "not an object"})


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.missing", "StringEquals": "x"},
        {"Variable": "$.missing", "IsNull": True},
        {"Variable": "$.v", "StringEqualsPath": "$.missing"},
    ],
)
def test_a_comparison_on_a_missing_field_fails_the_execution(rule: dict[str, Any]) -> None:
    result = choose(rule, {"v": "x"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause is not None
    assert "$.missing" in result.cause


@pytest.mark.parametrize(
    ("rule", "document", "expected"),
    [
        ({"StringEqualsPath": "$.w"}, {"v": "a", "w": "a"}, True),
        ({"StringLessThanPath": "$.w"}, {"v": "a", "w": "b"}, True),
        ({"NumericGreaterThanPath": "$.w"}, {"v": 2, "w": 1}, True),
        ({"NumericEqualsPath": "$.w"}, {"v": 2, "w": "2"}, False),
        ({"BooleanEqualsPath": "$.w"}, {"v": False, "w": False}, True),
        ({"TimestampLessThanPath": "$.w"}, {"v": "2026-01-01T00:00:00Z", "w": "2026-01-02T00:00:00Z"}, True),
        ({"TimestampEqualsPath": "$.w"}, {"v": "2026-01-01T00:00:00Z", "w": "tomorrow"}, False),
    ],
)
def test_path_variants_compare_with_another_field(
    rule: dict[str, Any], document: Any, expected: bool
) -> None:
    assert matches({"Variable": "$.v", **rule}, document) is expected


def test_and_or_not_combine_and_and_stops_at_the_first_false_rule() -> None:
    guarded = {
        "And": [
            {"Variable": "$.v", "IsPresent": True},
            {"Variable": "$.v", "StringEquals": "x"},  # would fail on a missing $.v if evaluated
        ]
    }
    assert not matches(guarded, {})
    assert matches(guarded, {"v": "x"})
    either = {"Or": [{"Variable": "$.v", "NumericEquals": 1}, {"Variable": "$.v", "NumericEquals": 2}]}
    assert matches(either, {"v": 2})
    assert not matches(either, {"v": 3})
    assert matches({"Not": {"Variable": "$.v", "StringEquals": "Private"}}, {"v": "Public"})


def test_the_first_matching_rule_wins_and_context_paths_can_be_tested() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$$.Execution.Name", "StringEquals": "other", "Next": "First"},
                    {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Second"},
                    {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "First"},
                ],
                "OutputPath": "$.n",
            },
            "First": {"Type": "Fail", "Error": "WrongRule"},
            "Second": {"Type": "Succeed"},
        },
    }
    result = run_to_completion(StateMachineProgram.parse(json.dumps(definition)), {"n": 5}, VirtualRuntime())
    assert (result.status, result.output) == ("SUCCEEDED", "5")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"Variable": "$.v", "StringEquals": 1}, "Choices[0].StringEquals"),
        ({"Variable": "$.v", "NumericEquals": "1"}, "Choices[0].NumericEquals"),
        ({"Variable": "$.v", "TimestampEquals": "yesterday"}, "Choices[0].TimestampEquals"),
        ({"Variable": "$.v", "IsNull": "yes"}, "Choices[0].IsNull"),
        ({"Variable": "$.v[*]", "IsNull": True}, "Choices[0].Variable"),
        ({"Variable": "$.v", "StringEquals": "a", "NumericEquals": 1}, "Choices[0]"),
        ({"Variable": "$.v", "StringContains": "a"}, "Choices[0]"),
        ({"And": []}, "Choices[0].And"),
        ({"Not": {"Variable": "$.v", "IsNull": True, "Next": "Yes"}}, "Choices[0].Not"),
    ],
)
def test_malformed_rules_are_rejected_at_parse_time(rule: dict[str, Any], field: str) -> None:
    with pytest.raises(AslDefinitionError) as raised:
        choose(rule, {})
    assert (raised.value.state, raised.value.field) == ("C", field)
