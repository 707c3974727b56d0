"""The local cloud's EventBridge pattern matcher against EventBridge's documented behaviour.

``pattern_cases.json`` holds the examples of the EventBridge user guide (and of the event-ruler README and
the wildcard launch post), each with a negative twin; the tables below cover every operator, type
sensitivity, arrays of objects, ``$or``, every rejection rule of ``validate_pattern`` (with EventBridge's
reason, word for word: event-ruler's ``JsonRuleCompiler`` messages) and the TestEventPattern contract.
Where AWS answers differently from its user guide, AWS wins: see test_pattern_fidelity.py. No moto is
needed, except for the one test that keeps the record of moto's divergences honest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workflowkit import patterns
from workflowkit.patterns import InvalidEventError, InvalidEventPatternError, matches, validate_pattern

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "pattern_cases.json").read_text())["cases"]
DOCUMENTED = [pytest.param(case["pattern"], case["event"], case["expected"], id=case["id"]) for case in CASES]


@pytest.mark.parametrize(("pattern", "event", "expected"), DOCUMENTED)
def test_documented_examples(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    validate_pattern(pattern)
    assert matches(pattern, event) is expected


# --- every operator, positive and negative ---------------------------------------------------------------
def _leaf(name: str, spec: list[Any]) -> dict[str, Any]:
    return {"detail": {name: spec}}


OPERATOR_CASES = [
    # exact values, type-sensitive
    ("exact-string", _leaf("v", ["a"]), {"v": "a"}, True),
    ("exact-string-other", _leaf("v", ["a"]), {"v": "b"}, False),
    ("exact-string-vs-number", _leaf("v", ["1"]), {"v": 1}, False),
    ("exact-number-vs-string", _leaf("v", [1]), {"v": "1"}, False),
    ("exact-true-vs-1", _leaf("v", [True]), {"v": 1}, False),
    ("exact-1-vs-true", _leaf("v", [1]), {"v": True}, False),
    ("exact-false-vs-0", _leaf("v", [False]), {"v": 0}, False),
    ("exact-true", _leaf("v", [True]), {"v": True}, True),
    # AWS compares a pattern number numerically (recorded: localstack number_comparison_float.json5).
    ("exact-int-vs-float", _leaf("v", [300]), {"v": 300.0}, True),
    ("exact-float", _leaf("v", [301.8]), {"v": 301.8}, True),
    ("exact-null", _leaf("v", [None]), {"v": None}, True),
    ("exact-null-vs-missing", _leaf("v", [None]), {}, False),
    ("exact-null-vs-false", _leaf("v", [None]), {"v": False}, False),
    ("exact-string-vs-string-true", _leaf("v", ["true"]), {"v": True}, False),
    ("exact-case-sensitive", _leaf("v", ["Alice"]), {"v": "ALICE"}, False),
    ("exact-missing", _leaf("v", ["a"]), {}, False),
    ("exact-any-of-event-array", _leaf("v", ["b"]), {"v": ["a", "b"]}, True),
    ("exact-none-of-event-array", _leaf("v", ["c"]), {"v": ["a", "b"]}, False),
    ("exact-nested-event-array", _leaf("v", ["c"]), {"v": [["a"], ["c"]]}, True),
    ("exact-empty-event-array", _leaf("v", ["a"]), {"v": []}, False),
    ("exact-vs-object", _leaf("v", ["a"]), {"v": {"a": "a"}}, False),
    # prefix / suffix / equals-ignore-case / wildcard: strings only
    ("prefix", _leaf("v", [{"prefix": "ab"}]), {"v": "abc"}, True),
    ("prefix-no", _leaf("v", [{"prefix": "ab"}]), {"v": "cab"}, False),
    ("prefix-number", _leaf("v", [{"prefix": "12"}]), {"v": 123}, False),
    ("prefix-in-array", _leaf("v", [{"prefix": "ab"}]), {"v": [1, "abc"]}, True),
    ("prefix-ignore-case", _leaf("v", [{"prefix": {"equals-ignore-case": "AB"}}]), {"v": "abc"}, True),
    ("prefix-ignore-case-no", _leaf("v", [{"prefix": {"equals-ignore-case": "AB"}}]), {"v": "cab"}, False),
    ("suffix", _leaf("v", [{"suffix": ".png"}]), {"v": "a.png"}, True),
    ("suffix-case", _leaf("v", [{"suffix": ".png"}]), {"v": "a.PNG"}, False),
    ("suffix-number", _leaf("v", [{"suffix": "5"}]), {"v": 5}, False),
    ("suffix-ignore-case", _leaf("v", [{"suffix": {"equals-ignore-case": ".PNG"}}]), {"v": "a.png"}, True),
    ("equals-ignore-case", _leaf("v", [{"equals-ignore-case": "aLiCe"}]), {"v": "ALICE"}, True),
    ("equals-ignore-case-no", _leaf("v", [{"equals-ignore-case": "alice"}]), {"v": "alicia"}, False),
    ("equals-ignore-case-bool", _leaf("v", [{"equals-ignore-case": "true"}]), {"v": True}, False),
    ("wildcard-middle", _leaf("v", [{"wildcard": "a*c"}]), {"v": "abbbc"}, True),
    ("wildcard-zero-chars", _leaf("v", [{"wildcard": "a*c"}]), {"v": "ac"}, True),
    ("wildcard-anchored", _leaf("v", [{"wildcard": "a*c"}]), {"v": "abcd"}, False),
    ("wildcard-many", _leaf("v", [{"wildcard": "*/lib/*.so"}]), {"v": "/usr/lib/x.so"}, True),
    ("wildcard-escaped-star", _leaf("v", [{"wildcard": "a\\*c"}]), {"v": "a*c"}, True),
    ("wildcard-escaped-star-literal", _leaf("v", [{"wildcard": "a\\*c"}]), {"v": "abc"}, False),
    ("wildcard-escaped-backslash", _leaf("v", [{"wildcard": "a\\\\*"}]), {"v": "a\\bc"}, True),
    ("wildcard-regex-chars-literal", _leaf("v", [{"wildcard": "a.c"}]), {"v": "abc"}, False),
    ("wildcard-newline", _leaf("v", [{"wildcard": "a*"}]), {"v": "a\nb"}, True),
    ("wildcard-number", _leaf("v", [{"wildcard": "1*"}]), {"v": 12}, False),
    # numeric: numbers only, never booleans or numeric strings
    ("numeric-lt", _leaf("v", [{"numeric": ["<", 10]}]), {"v": 9.99}, True),
    ("numeric-lt-edge", _leaf("v", [{"numeric": ["<", 10]}]), {"v": 10}, False),
    ("numeric-le-edge", _leaf("v", [{"numeric": ["<=", 10]}]), {"v": 10}, True),
    ("numeric-gt", _leaf("v", [{"numeric": [">", 0]}]), {"v": 0}, False),
    ("numeric-ge", _leaf("v", [{"numeric": [">=", 0]}]), {"v": 0}, True),
    ("numeric-eq-int-float", _leaf("v", [{"numeric": ["=", 300]}]), {"v": 300.0}, True),
    ("numeric-eq-exponent", _leaf("v", [{"numeric": ["=", 3.018e2]}]), {"v": 301.8}, True),
    ("numeric-range-in", _leaf("v", [{"numeric": [">=", 1, "<", 2]}]), {"v": 1}, True),
    ("numeric-range-top", _leaf("v", [{"numeric": [">=", 1, "<", 2]}]), {"v": 2}, False),
    ("numeric-string", _leaf("v", [{"numeric": [">", 0]}]), {"v": "5"}, False),
    ("numeric-bool", _leaf("v", [{"numeric": [">", 0]}]), {"v": True}, False),
    ("numeric-null", _leaf("v", [{"numeric": [">", 0]}]), {"v": None}, False),
    ("numeric-any-of-array", _leaf("v", [{"numeric": [">", 10]}]), {"v": [1, 20]}, True),
    ("numeric-missing", _leaf("v", [{"numeric": [">", 0]}]), {}, False),
    # exists: leaves only; null is a present value
    ("exists-true-null", _leaf("v", [{"exists": True}]), {"v": None}, True),
    ("exists-true-empty-string", _leaf("v", [{"exists": True}]), {"v": ""}, True),
    ("exists-true-object", _leaf("v", [{"exists": True}]), {"v": {"x": 1}}, False),
    ("exists-true-missing", _leaf("v", [{"exists": True}]), {}, False),
    ("exists-true-array", _leaf("v", [{"exists": True}]), {"v": ["a"]}, True),
    ("exists-false-missing", _leaf("v", [{"exists": False}]), {}, True),
    ("exists-false-null", _leaf("v", [{"exists": False}]), {"v": None}, False),
    ("exists-false-object", _leaf("v", [{"exists": False}]), {"v": {"x": 1}}, True),
    ("exists-false-parent-missing", {"detail": {"a": {"b": [{"exists": False}]}}}, {}, True),
    ("exists-false-or-value", _leaf("v", [{"exists": False}, "a"]), {"v": "a"}, True),
    # anything-but: never matches a missing field
    ("anything-but-missing", _leaf("v", [{"anything-but": "a"}]), {}, False),
    ("anything-but-null", _leaf("v", [{"anything-but": "a"}]), {"v": None}, True),
    ("anything-but-other-type", _leaf("v", [{"anything-but": "1"}]), {"v": 1}, True),
    ("anything-but-number-type", _leaf("v", [{"anything-but": 1}]), {"v": True}, True),
    ("anything-but-array-some-other", _leaf("v", [{"anything-but": "a"}]), {"v": ["a", "b"]}, True),
    ("anything-but-array-all-excluded", _leaf("v", [{"anything-but": "a"}]), {"v": ["a", "a"]}, False),
    ("anything-but-object", _leaf("v", [{"anything-but": "a"}]), {"v": {"a": 1}}, False),
    ("anything-but-prefix-missing", _leaf("v", [{"anything-but": {"prefix": "a"}}]), {}, False),
    ("anything-but-suffix", _leaf("v", [{"anything-but": {"suffix": ".png"}}]), {"v": "a.PNG"}, True),
    (
        "anything-but-ignore-case-list",
        _leaf("v", [{"anything-but": {"equals-ignore-case": ["a", "b"]}}]),
        {"v": "B"},
        False,
    ),
    (
        "anything-but-wildcard-list",
        _leaf("v", [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]),
        {"v": "/usr/share/x"},
        True,
    ),
    ("anything-but-number-list", _leaf("v", [{"anything-but": [1, 2]}]), {"v": 2}, False),
    ("anything-but-number-list-float", _leaf("v", [{"anything-but": [1, 2]}]), {"v": 2.5}, True),
    # cidr
    ("cidr-v4", _leaf("ip", [{"cidr": "10.0.0.0/24"}]), {"ip": "10.0.0.255"}, True),
    ("cidr-v4-outside", _leaf("ip", [{"cidr": "10.0.0.0/24"}]), {"ip": "10.0.1.0"}, False),
    # event-ruler CIDR.cidr: the block runs from the address as written to it with the host bits set.
    ("cidr-v4-host-bits", _leaf("ip", [{"cidr": "10.0.0.9/24"}]), {"ip": "10.0.0.1"}, False),
    ("cidr-v4-host-bits-above", _leaf("ip", [{"cidr": "10.0.0.9/24"}]), {"ip": "10.0.0.10"}, True),
    ("cidr-v6", _leaf("ip", [{"cidr": "2001:db8::/32"}]), {"ip": "2001:db8:1::1"}, True),
    ("cidr-v6-outside", _leaf("ip", [{"cidr": "2001:db8::/32"}]), {"ip": "2001:db9::1"}, False),
    ("cidr-v6-address-v4-block", _leaf("ip", [{"cidr": "10.0.0.0/8"}]), {"ip": "::ffff:10.0.0.1"}, False),
    ("cidr-not-an-ip", _leaf("ip", [{"cidr": "10.0.0.0/24"}]), {"ip": "not-an-ip"}, False),
    ("cidr-number", _leaf("ip", [{"cidr": "10.0.0.0/24"}]), {"ip": 10}, False),
    # several operators in one array: OR
    ("mixed-or", _leaf("v", ["x", {"prefix": "ab"}, {"numeric": [">", 5]}]), {"v": 6}, True),
    ("mixed-or-none", _leaf("v", ["x", {"prefix": "ab"}, {"numeric": [">", 5]}]), {"v": 5}, False),
]


@pytest.mark.parametrize(
    ("pattern", "detail", "expected"), [pytest.param(p, d, e, id=i) for i, p, d, e in OPERATOR_CASES]
)
def test_operators(pattern: dict[str, Any], detail: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, {"source": "test", "detail": detail}) is expected


# --- structure: nesting, arrays of objects, $or at any level ---------------------------------------------
ORDER = {
    "detail": {
        "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 5}],
        "customer": {"tier": "gold", "address": {"country": "DE"}},
        "tags": ["x", "y"],
    }
}

STRUCTURE_CASES = [
    ("array-of-objects-any", {"detail": {"items": {"sku": ["b"]}}}, True),
    ("array-of-objects-none", {"detail": {"items": {"sku": ["c"]}}}, False),
    ("array-of-objects-same-element", {"detail": {"items": {"sku": ["b"], "qty": [5]}}}, True),
    ("array-of-objects-different-elements", {"detail": {"items": {"sku": ["a"], "qty": [5]}}}, False),
    ("array-of-objects-numeric", {"detail": {"items": {"qty": [{"numeric": [">", 4]}]}}}, True),
    ("array-of-objects-exists-false", {"detail": {"items": {"price": [{"exists": False}]}}}, True),
    ("deep-nesting", {"detail": {"customer": {"address": {"country": ["DE"]}}}}, True),
    ("deep-nesting-other", {"detail": {"customer": {"address": {"country": ["FR"]}}}}, False),
    ("nested-pattern-vs-leaf", {"detail": {"tags": {"x": ["y"]}}}, False),
    ("nested-pattern-missing-parent", {"detail": {"nothing": {"x": ["y"]}}}, False),
    ("or-top-level", {"$or": [{"source": ["nope"]}, {"detail": {"tags": ["y"]}}]}, True),
    ("or-top-level-none", {"$or": [{"source": ["nope"]}, {"detail": {"tags": ["z"]}}]}, False),
    ("or-nested", {"detail": {"$or": [{"tags": ["z"]}, {"customer": {"tier": ["gold"]}}]}}, True),
    (
        "or-and-field",
        {"source": ["nope"], "$or": [{"detail": {"tags": ["x"]}}, {"detail": {"tags": ["y"]}}]},
        False,
    ),
    (
        "or-inside-array-element",
        {"detail": {"items": {"$or": [{"sku": ["b"], "qty": [1]}, {"sku": ["a"], "qty": [1]}]}}},
        True,
    ),
    (
        "or-inside-array-element-inconsistent",
        {"detail": {"items": {"$or": [{"sku": ["b"], "qty": [1]}, {"sku": ["a"], "qty": [5]}]}}},
        False,
    ),
    (
        "field-named-like-operator",
        {"detail": {"customer": {"tier": ["gold"]}, "prefix": [{"exists": False}]}},
        True,
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), [pytest.param(p, e, id=i) for i, p, e in STRUCTURE_CASES])
def test_structure(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, {"source": "orders", **ORDER}) is expected


# --- rejection rules: one case per rule, with EventBridge's reason (event-ruler JsonRuleCompiler) --------
INVALID = [
    ("pattern-not-object", ["source"], "Filter is not an object"),
    ("pattern-string", "aws.ec2", "Filter is not an object"),
    ("pattern-empty", {}, "Empty objects are not allowed"),
    ("nested-pattern-empty", {"detail": {}}, "Empty objects are not allowed"),
    ("leaf-not-array", {"source": "aws.ec2"}, '"source" must be an object or an array'),
    ("leaf-number", {"detail": {"n": 5}}, '"n" must be an object or an array'),
    ("leaf-empty-array", {"source": []}, "Empty arrays are not allowed"),
    ("leaf-nested-array", {"source": [["a"]]}, "Match value must be String, number, true, false, or null"),
    ("operator-unknown", {"source": [{"contains": "ec2"}]}, "Unrecognized match type contains"),
    ("operator-typo", {"source": [{"prefx": "aws."}]}, "Unrecognized match type prefx"),
    (
        "operator-two-keys",
        {"source": [{"prefix": "a", "suffix": "b"}]},
        "Only one key allowed in match expression",
    ),
    ("operator-empty-object", {"source": [{}]}, "Match expression name not found"),
    ("prefix-not-string", {"source": [{"prefix": 5}]}, "prefix match pattern must be a string"),
    ("prefix-null", {"source": [{"prefix": None}]}, "prefix match pattern must be a string"),
    (
        "prefix-bad-inner",
        {"source": [{"prefix": {"wildcard": "a*"}}]},
        "Unsupported prefix pattern: wildcard",
    ),
    ("prefix-empty-inner", {"source": [{"prefix": {}}]}, "Prefix expression name not found"),
    (
        "prefix-ignore-case-not-string",
        {"source": [{"prefix": {"equals-ignore-case": 1}}]},
        "equals-ignore-case match pattern must be a string",
    ),
    ("suffix-list", {"source": [{"suffix": [".png"]}]}, "suffix match pattern must be a string"),
    ("suffix-bad-inner", {"source": [{"suffix": {"prefix": "a"}}]}, "Unsupported suffix pattern: prefix"),
    (
        "equals-ignore-case-number",
        {"source": [{"equals-ignore-case": 5}]},
        "equals-ignore-case match pattern must be a string",
    ),
    ("wildcard-not-string", {"source": [{"wildcard": 5}]}, "wildcard match pattern must be a string"),
    # Positions count the bytes of the value with its opening quote (event-ruler WildcardParser).
    ("wildcard-consecutive", {"source": [{"wildcard": "a**b"}]}, "Consecutive wildcard characters at pos 2"),
    ("wildcard-bad-escape", {"source": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 2"),
    ("wildcard-trailing-backslash", {"source": [{"wildcard": "é\\"}]}, "Invalid escape character at pos 3"),
    ("exists-string", {"source": [{"exists": "true"}]}, "exists match pattern must be either true or false."),
    ("exists-number", {"source": [{"exists": 1}]}, "exists match pattern must be either true or false."),
    (
        "exists-two-keys",
        {"source": [{"exists": True, "prefix": "a"}]},
        "Only one key allowed in match expression",
    ),
    ("numeric-not-array", {"n": [{"numeric": 5}]}, "Value of numeric must be an array."),
    ("numeric-empty", {"n": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
    ("numeric-number-first", {"n": [{"numeric": [5, ">"]}]}, "Invalid member in numeric match: 5"),
    ("numeric-object-first", {"n": [{"numeric": [{"a": 1}]}]}, "Invalid member in numeric match: {"),
    ("numeric-odd-length", {"n": [{"numeric": [">", 1, "<"]}]}, "Value of < must be numeric"),
    (
        "numeric-too-long",
        {"n": [{"numeric": [">", 1, "<", 5, "<", 9]}]},
        "Too many terms in numeric range expression",
    ),
    ("numeric-bad-operator", {"n": [{"numeric": ["==", 1]}]}, "Unrecognized numeric range operator: =="),
    ("numeric-string-operand", {"n": [{"numeric": [">", "1"]}]}, "Value of > must be numeric"),
    ("numeric-bool-operand", {"n": [{"numeric": [">", True]}]}, "Value of > must be numeric"),
    ("numeric-equals-string", {"n": [{"numeric": ["=", "1"]}]}, "Value of equals must be numeric"),
    (
        "numeric-upper-then-lower",
        {"n": [{"numeric": ["<", 5, ">", 1]}]},
        "Too many elements in numeric expression",
    ),
    ("numeric-two-lower-bounds", {"n": [{"numeric": [">", 1, ">=", 2]}]}, "Bad numeric range operator: >="),
    ("numeric-bound-not-operator", {"n": [{"numeric": [">", 1, 2, 3]}]}, "Bad value in numeric range: 2"),
    (
        "numeric-equals-in-range",
        {"n": [{"numeric": ["=", 1, "<", 2]}]},
        "Too many elements in numeric expression",
    ),
    ("numeric-bottom-not-below-top", {"n": [{"numeric": [">", 5, "<", 5]}]}, "Bottom must be less than top"),
    (
        "numeric-two-keys",
        {"n": [{"numeric": [">", 5], "prefix": "a"}]},
        "Too many elements in numeric expression",
    ),
    ("cidr-not-string", {"ip": [{"cidr": 10}]}, "prefix match pattern must be a string"),
    ("cidr-no-prefix-length", {"ip": [{"cidr": "10.0.0.1"}]}, "Malformed CIDR, one '/' required"),
    ("cidr-bad-mask", {"ip": [{"cidr": "10.0.0.0/33"}]}, "IPv4 mask bits must be < 32"),
    (
        "cidr-negative-mask",
        {"ip": [{"cidr": "10.0.0.0/-1"}]},
        "Malformed CIDR, mask bits must not be negative",
    ),
    ("cidr-bad-address", {"ip": [{"cidr": "10.0.0.256/24"}]}, "Invalid IP address: 10.0.0.256"),
    ("cidr-bad-v6", {"ip": [{"cidr": "2001:db8:::/32"}]}, "Invalid IP address: 2001:db8:::"),
    ("cidr-text-mask", {"ip": [{"cidr": "10.0.0.0/abc"}]}, "Malformed CIDR, mask bits must be an integer"),
    (
        "anything-but-bool",
        {"s": [{"anything-but": True}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "anything-but-null",
        {"s": [{"anything-but": None}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "anything-but-mixed-list",
        {"s": [{"anything-but": ["a", 1]}]},
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    (
        "anything-but-empty-list",
        {"s": [{"anything-but": []}]},
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    (
        "anything-but-unknown-inner",
        {"s": [{"anything-but": {"numeric": [">", 1]}}]},
        "Unsupported anything-but pattern: numeric",
    ),
    ("anything-but-empty-inner", {"s": [{"anything-but": {}}]}, "Anything-But expression name not found"),
    (
        "anything-but-two-inner",
        {"s": [{"anything-but": {"prefix": "a", "suffix": "b"}}]},
        "Too many elements in numeric expression",
    ),
    (
        "anything-but-two-keys",
        {"s": [{"anything-but": "a", "prefix": "b"}]},
        "Too many elements in numeric expression",
    ),
    (
        "anything-but-prefix-number",
        {"s": [{"anything-but": {"prefix": 1}}]},
        "prefix/suffix match pattern must be a string",
    ),
    (
        "anything-but-prefix-object",
        {"s": [{"anything-but": {"prefix": {"equals-ignore-case": "a"}}}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "anything-but-wildcard-consecutive",
        {"s": [{"anything-but": {"wildcard": "**"}}]},
        "Consecutive wildcard characters at pos 1",
    ),
    # event-ruler's compiler lets an empty list through; AWS reportedly fails the call: we refuse it.
    (
        "anything-but-ignore-case-empty",
        {"s": [{"anything-but": {"equals-ignore-case": []}}]},
        "Empty arrays are not allowed",
    ),
    ("or-not-array", {"$or": {"a": ["b"]}}, "It must be an Array followed with $or."),
    (
        "or-one-alternative",
        {"$or": [{"a": ["b"]}]},
        "There must have at least 2 Objects in $or relationship.",
    ),
    ("or-not-objects", {"$or": ["a", "b"]}, "Only JSON object is allowed in array of $or relationship."),
    ("or-empty-alternative", {"$or": [{"a": ["b"]}, {}]}, "Empty objects are not allowed"),
    (
        "or-nested-invalid",
        {"detail": {"$or": [{"a": ["b"]}, {"c": [{"prefix": 1}]}]}},
        "prefix match pattern must be a string",
    ),
    (
        "or-reserved-name-nested",
        {"$or": [{"a": {"numeric": ["x"]}}, {"b": ["c"]}]},
        "numeric is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        "too-long",
        {"source": ["x" * 5000]},
        "Event pattern is 5015 characters without whitespace; the maximum is 4096",
    ),
]


@pytest.mark.parametrize(("pattern", "message"), [pytest.param(p, m, id=i) for i, p, m in INVALID])
def test_invalid_patterns_are_rejected(pattern: Any, message: str) -> None:
    with pytest.raises(InvalidEventPatternError, match=None) as caught:
        validate_pattern(pattern)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_matches_rejects_an_invalid_pattern_too() -> None:
    with pytest.raises(InvalidEventPatternError, match="Unrecognized match type contains"):
        matches({"source": [{"contains": "x"}]}, {"source": "x"})


def test_error_names_the_offending_field() -> None:
    # AWS gives the place as a line and column; the error carries it as a path into the pattern.
    with pytest.raises(InvalidEventPatternError) as caught:
        validate_pattern({"detail": {"amount": [1, {"numeric": ["<"]}]}})
    assert str(caught.value) == "Value of < must be numeric"
    assert caught.value.path == "detail.amount[1]"


# --- TestEventPattern -----------------------------------------------------------------------------------
EVENT = {
    "id": "1",
    "account": "123456789012",
    "source": "com.example",
    "time": "2024-01-01T00:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail-type": "Thing Happened",
    "detail": {"n": 3},
}


def test_event_pattern_api_matches() -> None:
    assert patterns.test_event_pattern('{"detail": {"n": [{"numeric": [">", 2]}]}}', json.dumps(EVENT))
    assert not patterns.test_event_pattern('{"source": ["other"]}', json.dumps(EVENT))


def test_event_pattern_api_does_not_need_detail() -> None:
    event = {key: value for key, value in EVENT.items() if key != "detail"}
    assert patterns.test_event_pattern('{"source": ["com.example"]}', json.dumps(event))


@pytest.mark.parametrize("field", patterns.REQUIRED_EVENT_FIELDS)
def test_event_pattern_api_requires_the_mandatory_fields(field: str) -> None:
    event = {key: value for key, value in EVENT.items() if key != field}
    with pytest.raises(InvalidEventError) as caught:
        patterns.test_event_pattern('{"source": ["com.example"]}', json.dumps(event))
    assert str(caught.value) == "Parameter Event is not valid."  # AWS names no field
    assert field in caught.value.detail


@pytest.mark.parametrize(
    ("pattern_json", "message"),
    [
        pytest.param("{not json", "Expecting property name", id="not-json"),
        pytest.param('["source"]', "Filter is not an object", id="not-object"),
        pytest.param('{"source": [{"bogus": 1}]}', "Unrecognized match type bogus", id="invalid"),
        pytest.param('{"source": ["' + "x" * 4100 + '"]}', "maximum is 4096", id="too-long"),
    ],
)
def test_event_pattern_api_validates_the_pattern_first(pattern_json: str, message: str) -> None:
    with pytest.raises(InvalidEventPatternError, match=message):
        patterns.test_event_pattern(pattern_json, "{}")  # the event is invalid too: the pattern wins


@pytest.mark.parametrize("event_json", ["{nope", "[]", '"event"'])
def test_event_pattern_api_rejects_a_malformed_event(event_json: str) -> None:
    with pytest.raises(InvalidEventError):
        patterns.test_event_pattern('{"source": ["x"]}', event_json)


# --- compile once ---------------------------------------------------------------------------------------
def test_each_distinct_pattern_is_compiled_once() -> None:
    patterns._compiled.cache_clear()
    pattern = {"source": ["a"], "detail": {"n": [{"numeric": [">", 1]}]}}
    reordered = {"detail": {"n": [{"numeric": [">", 1]}]}, "source": ["a"]}
    for _ in range(50):
        matches(pattern, {"source": "a", "detail": {"n": 2}})
        matches(reordered, {"source": "b"})
    info = patterns._compiled.cache_info()
    assert (info.misses, info.hits) == (1, 99)


# --- where moto 5.2.5's matcher disagrees (we assert OUR answer; counts in decision record 0010) ---------
# (case id in pattern_cases.json, or a pattern/event pair) -> EventBridge's answer; moto answers the opposite.
MOTO_WRONG_ON_DOCUMENTED = [
    "ruler-array-of-objects",
    "ruler-array-of-arrays-of-objects",
    "ruler-array-consistency-same-element",
]

MOTO_WRONG_ELSEWHERE: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("true-is-not-1", {"v": [True]}, {"v": 1}, False),
    ("1-is-not-true", {"v": [1]}, {"v": True}, False),
    ("false-is-not-0", {"v": [False]}, {"v": 0}, False),
    ("numeric-skips-booleans", {"v": [{"numeric": [">", 0]}]}, {"v": True}, False),
    ("array-of-objects", {"items": {"sku": ["a"]}}, {"items": [{"sku": "a"}]}, True),
    (
        "array-of-objects-numeric",
        {"items": {"n": [{"numeric": [">", 1]}]}},
        {"items": [{"n": 0}, {"n": 2}]},
        True,
    ),
    (
        "array-of-objects-or",
        {"items": {"$or": [{"sku": ["b"]}, {"n": [1]}]}},
        {"items": [{"sku": "a", "n": 1}]},
        True,
    ),
]
MOTO_ACCEPTS_INVALID: list[tuple[str, dict[str, Any]]] = [
    ("unknown-operator", {"v": [{"contains": "x"}]}),
    ("numeric-malformed", {"v": [{"numeric": ["<", 5, ">", 1]}]}),
    ("cidr-invalid", {"v": [{"cidr": "10.0.0.256/24"}]}),
    ("wildcard-consecutive", {"v": [{"wildcard": "a**"}]}),
    ("or-single", {"$or": [{"v": ["a"]}]}),
    ("exists-not-bool", {"v": [{"exists": "yes"}]}),
]


@pytest.mark.parametrize("case_id", MOTO_WRONG_ON_DOCUMENTED)
def test_moto_divergence_documented(case_id: str) -> None:
    case = next(case for case in CASES if case["id"] == case_id)
    assert matches(case["pattern"], case["event"]) is case["expected"]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"), [pytest.param(p, e, x, id=i) for i, p, e, x in MOTO_WRONG_ELSEWHERE]
)
def test_moto_divergence_semantics(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected


@pytest.mark.parametrize("pattern", [pytest.param(p, id=i) for i, p in MOTO_ACCEPTS_INVALID])
def test_moto_divergence_validation(pattern: dict[str, Any]) -> None:
    with pytest.raises(InvalidEventPatternError):
        validate_pattern(pattern)


def test_moto_divergences_are_still_as_recorded() -> None:
    """Keeps the table above (and the decision record) honest about the moto version in use."""
    models = pytest.importorskip("moto.events.models")

    def moto(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
        return bool(models.EventPattern.load(json.dumps(pattern)).matches_event(event))

    wrong = [case["id"] for case in CASES if moto(case["pattern"], case["event"]) is not case["expected"]]
    assert wrong == MOTO_WRONG_ON_DOCUMENTED
    for _, pattern, event, expected in MOTO_WRONG_ELSEWHERE:
        assert moto(pattern, event) is not expected
    for _, pattern in MOTO_ACCEPTS_INVALID:
        models.EventPattern.load(json.dumps(pattern))  # no error from moto
