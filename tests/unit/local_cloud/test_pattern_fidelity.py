"""The pattern matcher and TestEventPattern against what AWS EventBridge answers, case by case.

``aws_pattern_cases.json`` holds the cases of the areas where our matcher used to disagree with AWS
(``anything-but`` lists, keys with dots, numbers, wildcards, exists/null/arrays, ``$or``, ``cidr``) and the
refusals with AWS's reason word for word; each case names its source (a case recorded against AWS in
localstack's suite, aws/event-ruler - the library EventBridge matches with -, the user guide, or an AWS
answer quoted in a public issue). The tests below the table cover what does not fit one row: the wildcard
complexity count against event-ruler's own expectations, and TestEventPattern's checks of the event.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workflowkit import patterns
from workflowkit.patterns import InvalidEventError, InvalidEventPatternError, matches, validate_pattern
from workflowkit.patterns.wildcards import MAX_COMPLEXITY, TOO_COMPLEX, complexity, parse_wildcard

TABLE = json.loads((Path(__file__).parent / "aws_pattern_cases.json").read_text())
ENVELOPE: dict[str, Any] = TABLE["envelope"]


def _test_event_pattern(pattern: Any, fields: dict[str, Any]) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return patterns.test_event_pattern(text, json.dumps({**ENVELOPE, **fields}))


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=f"{case['area']}: {case['id']} [{case['source']}]") for case in TABLE["matches"]],
)
def test_matches_as_aws_does(case: dict[str, Any]) -> None:
    assert _test_event_pattern(case["pattern"], case["event"]) is case["expected"]


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=f"{case['id']} [{case['source']}]") for case in TABLE["refusals"]]
)
def test_refuses_as_aws_does(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidEventPatternError) as caught:
        patterns.test_event_pattern(json.dumps(case["pattern"]), json.dumps(ENVELOPE))
    assert str(caught.value) == case["reason"]


def test_a_field_written_twice_keeps_the_later_value() -> None:
    # aws:complex_multi_key_event_pattern.json: "location" given twice, the second one decides.
    text = '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'
    assert _test_event_pattern(text, {"detail": {"location": "eu-central-1"}}) is True
    # The same holds when the two writings are a dotted key and a nested one (ruler: one name, overridden).
    text = '{"detail": {"a.b": ["first"], "a": {"b": ["second"]}}}'
    assert _test_event_pattern(text, {"detail": {"a": {"b": "second"}}}) is True
    assert _test_event_pattern(text, {"detail": {"a": {"b": "first"}}}) is False


# The complexity count, checked against event-ruler's own MachineComplexityEvaluatorTest expectations.
RULER_COMPLEXITY = [
    (["*"], 1),
    (["abc"], 1),
    (["*ab"], 2),
    (["*aa"], 3),
    (["a*b"], 2),
    (["aa*"], 2),
    (["a*bb"], 3),
    (["a*bbb"], 4),
    (["*ab*ad"], 4),
    (["*aba*"], 4),
    (["a*b*bb"], 5),
    (["a*b*cd"], 3),
    (["ab*b*"], 3),
    (["*", "ab*c"], 3),
    (["*abc", "*abcde"], 4),
    (["a*aaa", "aa*aa"], 7),
    (["a*aaa", "aaa*a"], 6),
    (["ab*cd", "ab*wx", "ab*yz"], 6),
    (["*ab*b*b*"], 7),
    (["*a*a*a*a*a*a*a*a*"], 17),
    (["ab*c", "ab*c"], 2),
    (["F*eatureFeature", "Fe*atureFeature", "Fea*tureFeature"], 10),
    (["a*a*a*a*a*a*"], 11),
]


@pytest.mark.parametrize(
    ("values", "expected"), [pytest.param(v, e, id="|".join(v)) for v, e in RULER_COMPLEXITY]
)
def test_complexity_counts_as_event_ruler_does(values: list[str], expected: int) -> None:
    groups = {value: [parse_wildcard(value, "")[0]] for value in values}  # equal patterns are one pattern
    assert complexity(groups.values(), limit=100) == expected


def test_an_anything_but_wildcard_list_is_one_pattern_with_shared_prefixes() -> None:
    # ruler:MachineComplexityEvaluatorWalkCountTest - four leading-star values of one anything-but score 7.
    values = ["*kiwi*", "*BASE_QuxB*", "*Delta*", "*a/example-lake-abc98765432*"]
    assert complexity([[parse_wildcard(value, "")[0] for value in values]], limit=100) == 7


COMPLEXITY_LIMIT = [
    ("event-bus-arn-too-complex", "aws:content_wildcard_complex_EXC", ["*:*:*:*:*:event-bus/*"], False),
    (
        "three-stack-patterns",
        "issue:vals-ai/Valkyrie#278 (3 accepted)",
        ["*:stack/Shared/*", "*:stack/Data/*", "*:stack/Api/*"],
        True,
    ),
    (
        "four-stack-patterns",
        "issue:vals-ai/Valkyrie#278 (4 refused: Rule is too complex)",
        ["*:stack/Shared/*", "*:stack/Data/*", "*:stack/Api/*", "*:stack/Monitoring/*"],
        False,
    ),
    ("repeating-sequence", "aws:content_wildcard_repeating", ["/Users/*/dir/dir/dir/dir/dir/doc.txt"], True),
]


@pytest.mark.parametrize(
    ("values", "accepted"), [pytest.param(v, a, id=f"{n} [{s}]") for n, s, v, a in COMPLEXITY_LIMIT]
)
def test_put_rule_refuses_too_complex_wildcards(values: list[str], accepted: bool) -> None:
    pattern = {"detail": {"arn": [{"wildcard": value} for value in values]}}
    if accepted:
        validate_pattern(pattern)
        return
    with pytest.raises(InvalidEventPatternError) as caught:
        validate_pattern(pattern)
    assert str(caught.value) == TOO_COMPLEX
    assert caught.value.path == "detail.arn"


def test_complexity_is_counted_per_field_and_across_or_branches() -> None:
    four = ["*:stack/Shared/*", "*:stack/Data/*", "*:stack/Api/*", "*:stack/Monitoring/*"]
    # Two fields of two patterns each stay under the limit: fields are separate machines.
    validate_pattern({"a": [{"wildcard": v} for v in four[:2]], "b": [{"wildcard": v} for v in four[2:]]})
    # One field across $or branches is one machine: the same four patterns are refused.
    branches = [{"a": [{"wildcard": v} for v in four[:2]]}, {"a": [{"wildcard": v} for v in four[2:]]}]
    with pytest.raises(InvalidEventPatternError, match="Rule is too complex"):
        validate_pattern({"$or": branches})
    # anything-but wildcards count too (ruler: MATCH_TYPES_WITH_COMPLEXITY includes ANYTHING_BUT_WILDCARD).
    with pytest.raises(InvalidEventPatternError, match="Rule is too complex"):
        validate_pattern({"a": [{"anything-but": {"wildcard": ["*:*:*:*:*:event-bus/*"]}}]})
    assert MAX_COMPLEXITY == 10


def test_a_key_repeated_inside_a_match_expression_is_two_keys() -> None:
    # ruler:JsonRuleCompiler reads the token stream: the second "prefix" is a second key of the expression.
    with pytest.raises(InvalidEventPatternError) as caught:
        patterns.test_event_pattern('{"s": [{"prefix": "a", "prefix": "b"}]}', json.dumps(ENVELOPE))
    assert str(caught.value) == "Only one key allowed in match expression"


def test_a_reserved_word_is_a_field_name_outside_or() -> None:
    # ruler: only parseObjectInsideOrRelationship refuses reserved names.
    assert matches({"prefix": ["a"]}, {"prefix": "a"})


def test_a_pattern_that_is_not_json_is_refused_with_the_parser_reason() -> None:
    # aws:test_invalid_json_event_pattern - the JSON parser's reason, as InvalidEventPatternException.
    with pytest.raises(InvalidEventPatternError):
        patterns.test_event_pattern("{'bad': 'quotation'}", json.dumps(ENVELOPE))
    with pytest.raises(InvalidEventPatternError, match="Filter is not an object"):
        patterns.test_event_pattern('["not", "a", "dict", "but valid json"]', json.dumps(ENVELOPE))
    with pytest.raises(InvalidEventPatternError):  # Jackson refuses NaN
        patterns.test_event_pattern('{"n": [NaN]}', json.dumps(ENVELOPE))


# --- TestEventPattern's event: the fields AWS requires, and its answer otherwise ------------------------
def test_an_event_without_resources_is_tested() -> None:
    # aws:test_event_pattern_source - id, source, detail-type, account, region, time; no resources, no detail.
    assert _test_event_pattern({"source": ["test-source"]}, {}) is True
    assert _test_event_pattern({"source": ["other"]}, {}) is False


@pytest.mark.parametrize("field", ["id", "account", "source", "time", "region", "detail-type"])
def test_an_event_without_an_envelope_field_is_refused(field: str) -> None:
    # aws:test_invalid_event_payload - ValidationException "Parameter Event is not valid."
    event = {key: value for key, value in ENVELOPE.items() if key != field}
    with pytest.raises(InvalidEventError) as caught:
        patterns.test_event_pattern('{"source": ["test-source"]}', json.dumps(event))
    assert str(caught.value) == "Parameter Event is not valid."
    assert field in caught.value.detail


@pytest.mark.parametrize("event_json", ["this is not json", '"a string"', "[1, 2]", '{"n": NaN}'])
def test_an_event_that_is_not_a_json_object_is_refused(event_json: str) -> None:
    # aws:test_plain_string_payload - ValidationException "Parameter Event is not valid."
    with pytest.raises(InvalidEventError, match=r"^Parameter Event is not valid\.$"):
        patterns.test_event_pattern('{"source": ["x"]}', event_json)
