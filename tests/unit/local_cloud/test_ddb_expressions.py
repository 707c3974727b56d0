"""Expression parsing and evaluation, and attribute-value semantics, below the operations."""

from __future__ import annotations

from typing import Any

import pytest

from workflowkit.ddb.conditions import evaluate
from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.expressions import parse_condition, parse_projection, parse_update
from workflowkit.ddb.values import canonical_number, compare, convert_item, equal

ITEM: dict[str, Any] = {
    "a": {"N": "5"},
    "s": {"S": "héllo"},
    "m": {"M": {"k": {"L": [{"S": "x"}, {"M": {"z": {"BOOL": True}}}]}}},
    "ss": {"SS": ["p", "q"]},
}


def holds(text: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None) -> bool:
    return evaluate(parse_condition(text), ITEM, names or {}, values or {})


def test_a_parsed_expression_is_cached_per_string() -> None:
    assert parse_condition("a = :v") is parse_condition("a = :v")
    assert parse_update("SET a = :v") is parse_update("SET a = :v")


def test_a_parsed_expression_lists_the_placeholders_it_uses() -> None:
    parsed = parse_condition("#a.#b[1] = :x AND begins_with(#a, :y) OR size(c) IN (:x, :z)")
    assert parsed.names == {"#a", "#b"}
    assert parsed.values == {":x", ":y", ":z"}
    update = parse_update("SET #n = if_not_exists(#n, :zero) + :one REMOVE stale ADD c :one DELETE s :gone")
    assert (update.names, update.values) == ({"#n"}, {":zero", ":one", ":gone"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = :five", True),
        ("NOT a = :five OR a = :five AND a <> :five", False),  # NOT > AND > OR
        ("(NOT a = :five OR a = :five) AND a <> :five", False),
        ("NOT (a = :five AND a <> :five)", True),
        ("m.k[1].z = :t", True),
        ("m.k[2] = :t", False),
        ("size(m.k) = :two AND size(s) = :five", True),  # size of a string counts characters
        ("contains(ss, :p) AND NOT contains(ss, :five)", True),
        ("a BETWEEN :two AND :five", True),
        ("attribute_type(m, :map)", True),
    ],
)
def test_conditions_evaluate_with_dynamodb_precedence_and_paths(text: str, expected: bool) -> None:
    values = {
        ":five": {"N": "5"},
        ":two": {"N": "2"},
        ":t": {"BOOL": True},
        ":p": {"S": "p"},
        ":map": {"S": "M"},
    }
    used = {name: value for name, value in values.items() if name in parse_condition(text).values}
    assert holds(text, used) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = ", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'),
        (
            "status = :v",
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        ("nope(a)", "Invalid ConditionExpression: Invalid function name; function: nope"),
        (
            "if_not_exists(a, :v)",
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
            "function: if_not_exists",
        ),
        (
            "begins_with(a)",
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or "
            "function: begins_with, number of operands: 1",
        ),
        ("", "Invalid ConditionExpression: The expression can not be empty;"),
        ("a = :v $", 'Invalid ConditionExpression: Syntax error; token: "$", near: " :v $"'),
    ],
)
def test_malformed_conditions_are_validation_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationException) as raised:
        parse_condition(text)
    assert raised.value.message == message


def test_update_expressions_reject_unknown_clauses_and_functions() -> None:
    with pytest.raises(ValidationException, match="Syntax error"):
        parse_update("UPSERT a = :v")
    with pytest.raises(ValidationException, match="function: size"):
        parse_update("SET a = size(b)")


def test_projection_paths_keep_names_and_indexes() -> None:
    parsed = parse_projection("a.b[3], #c")
    assert [path.elements for path in parsed.root] == [("a", "b", 3), ("#c",)]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.50", "1.5"),
        ("007", "7"),
        ("-0.000", "0"),
        ("1E+3", "1000"),
        ("1.25e-5", "0.0000125"),
        ("-12.0", "-12"),
        ("+3", "3"),
        (".5", "0.5"),
        ("9" * 38, "9" * 38),
    ],
)
def test_numbers_are_kept_in_dynamodbs_canonical_text(text: str, canonical: str) -> None:
    assert canonical_number(text) == canonical


def test_numbers_order_numerically_strings_by_utf8_and_binary_by_bytes() -> None:
    assert compare({"N": "10"}, {"N": "9"}) == 1
    assert compare({"N": "-1"}, {"N": "0.5"}) == -1
    # "z" < "é" in UTF-8 bytes (0x7a < 0xc3), and code points order the same way
    assert compare({"S": "z"}, {"S": "é"}) == -1
    assert compare({"B": b"\x7f"}, {"B": b"\x80"}) == -1
    assert compare({"S": "1"}, {"N": "1"}) is None
    assert compare({"BOOL": True}, {"BOOL": False}) is None


def test_equality_ignores_set_order_and_compares_numbers_by_value() -> None:
    assert equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert equal({"M": {"x": {"NS": ["1", "2"]}}}, {"M": {"x": {"NS": ["2", "1"]}}})
    assert not equal({"L": [{"S": "a"}, {"S": "b"}]}, {"L": [{"S": "b"}, {"S": "a"}]})
    item, _ = convert_item({"a": {"N": "1.0"}, "b": {"N": "1"}})
    assert equal(item["a"], item["b"])


def test_item_size_counts_names_and_values_like_dynamodb() -> None:
    _, size = convert_item(
        {"name": {"S": "abc"}, "n": {"N": "12345"}, "ok": {"BOOL": True}, "b": {"B": "AAE="}}
    )
    # 4+3, 1+(5 digits -> 3+1=4)... name "n" + number 12345 (ceil(5/2)+1 = 4), "ok"+1, "b"+2 bytes
    assert size == (4 + 3) + (1 + 4) + (2 + 1) + (1 + 2)
