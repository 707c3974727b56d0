"""Choice rules, compiled once into predicates ``(document, scope) -> bool``.

Semantics (Step Functions developer guide and the ASL spec):
- a comparison whose ``Variable`` matches nothing fails the execution with States.Runtime ("You must
  specify the $.type field. If the state input doesn't contain the $.type field, the execution fails");
  ``IsPresent`` is the one test that tolerates a missing field. The same holds for the path of a
  ``...Path`` comparison.
- a value of the wrong type never matches (``StringEquals`` on a number is simply false);
- strings compare as Java's ``compareTo`` does; timestamps are RFC 3339 with an uppercase ``T`` and ``Z``
  (or a numeric offset) and compare as instants;
- ``StringMatches`` has one wildcard, ``*``; ``\\*`` and ``\\\\`` stand for a literal ``*`` and ``\\``;
- ``And``/``Or`` evaluate left to right and stop at the first rule that decides (so an ``IsPresent``
  guard before a comparison of the same field is safe).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any, Final

from workflowkit.asl.errors import AslDefinitionError, PathNotFoundError, PathSyntaxError, runtime_error
from workflowkit.asl.paths import JsonPath, Scope, compile_reference_path
from workflowkit.asl.values import is_number, java_compare, parse_timestamp

Condition = Callable[[Any, Scope], bool]
_Test = Callable[[Any, Any, Scope], bool]

_RELATIONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_TYPE_TESTS: Final[dict[str, Callable[[Any], bool]]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": is_number,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": lambda value: parse_timestamp(value) is not None,
}
_OPERATORS: Final = frozenset(
    [f"{family}{relation}" for family in ("String", "Numeric", "Timestamp") for relation in _RELATIONS]
    + [f"{family}{relation}Path" for family in ("String", "Numeric", "Timestamp") for relation in _RELATIONS]
    + ["BooleanEquals", "BooleanEqualsPath", "StringMatches", "IsPresent", *_TYPE_TESTS]
)


def compile_choices(state: str, choices: Any) -> tuple[tuple[Condition, str], ...]:
    if not isinstance(choices, list) or not choices:
        raise AslDefinitionError(
            "Choices must be a non-empty array of choice rules", state=state, field="Choices"
        )
    compiled = []
    for index, rule in enumerate(choices):
        where = f"Choices[{index}]"
        if not isinstance(rule, dict):
            raise AslDefinitionError("a choice rule must be an object", state=state, field=where)
        following = rule.get("Next")
        if not isinstance(following, str):
            raise AslDefinitionError(
                "a top-level choice rule needs a Next state name", state=state, field=where
            )
        compiled.append((_rule(state, where, rule, top=True), following))
    return tuple(compiled)


def _rule(state: str, where: str, rule: Any, *, top: bool) -> Condition:
    if not isinstance(rule, dict):
        raise AslDefinitionError("a choice rule must be an object", state=state, field=where)
    allowed = {"Comment", "Next"} if top else {"Comment"}
    if "Next" in rule and not top:
        raise AslDefinitionError("Next is only allowed in a top-level choice rule", state=state, field=where)
    combinators = [key for key in ("And", "Or", "Not") if key in rule]
    if combinators:
        if len(combinators) > 1 or set(rule) - allowed - {combinators[0]}:
            raise AslDefinitionError(
                f"a {combinators[0]} rule takes no other condition fields, got {sorted(rule)}",
                state=state,
                field=where,
            )
        return _combinator(state, where, combinators[0], rule[combinators[0]])
    if "Variable" not in rule:
        raise AslDefinitionError("a choice rule needs Variable, And, Or or Not", state=state, field=where)
    tests = [key for key in rule if key not in allowed and key != "Variable"]
    if len(tests) != 1 or tests[0] not in _OPERATORS:
        raise AslDefinitionError(
            f"a choice rule needs exactly one comparison operator, got {tests}", state=state, field=where
        )
    name = tests[0]
    try:
        variable = compile_reference_path(rule["Variable"])
    except PathSyntaxError as error:
        raise AslDefinitionError(str(error), state=state, field=f"{where}.Variable") from None
    try:
        test = _test(name, rule[name])
    except PathSyntaxError as error:
        raise AslDefinitionError(str(error), state=state, field=f"{where}.{name}") from None
    return _bind_variable(variable, test, tolerate_missing=name == "IsPresent")


def _combinator(state: str, where: str, kind: str, operand: Any) -> Condition:
    if kind == "Not":
        inner = _rule(state, f"{where}.Not", operand, top=False)
        return lambda document, scope: not inner(document, scope)
    if not isinstance(operand, list) or not operand:
        raise AslDefinitionError(
            f"{kind} needs a non-empty array of rules", state=state, field=f"{where}.{kind}"
        )
    rules = tuple(_rule(state, f"{where}.{kind}[{i}]", item, top=False) for i, item in enumerate(operand))
    if kind == "And":
        return lambda document, scope: all(rule(document, scope) for rule in rules)
    return lambda document, scope: any(rule(document, scope) for rule in rules)


class _Missing:
    """Stands for a Variable that matched nothing (only IsPresent sees it)."""


_MISSING: Final = _Missing()


def _bind_variable(variable: JsonPath, test: _Test, *, tolerate_missing: bool) -> Condition:
    get = variable.get
    context = variable.context
    text = variable.text

    def condition(document: Any, scope: Scope) -> bool:
        try:
            value = get(scope.context_object() if context else document)
        except PathNotFoundError:
            if not tolerate_missing:
                raise _invalid(text) from None
            value = _MISSING
        return test(value, document, scope)

    return condition


def _invalid(path: str) -> Exception:
    return runtime_error(
        f"Invalid path {path!r}: The choice state's condition path references an invalid value."
    )


def _test(name: str, expected: Any) -> _Test:
    if name == "IsPresent" or name in _TYPE_TESTS:
        if not isinstance(expected, bool):
            raise PathSyntaxError(f"{name} takes true or false, got {expected!r}")
        if name == "IsPresent":
            return lambda value, _document, _scope: (value is not _MISSING) is expected
        check = _TYPE_TESTS[name]
        return lambda value, _document, _scope: check(value) is expected
    if name == "StringMatches":
        if not isinstance(expected, str):
            raise PathSyntaxError(f"StringMatches takes a string pattern, got {expected!r}")
        pattern = _wildcard(expected)
        return lambda value, _document, _scope: isinstance(value, str) and pattern.match(value) is not None
    if name.endswith("Path"):
        other = compile_reference_path(expected)
        compare = _comparison(name[: -len("Path")])

        def against_path(value: Any, document: Any, scope: Scope) -> bool:
            try:
                wanted = other.select(document, scope)
            except PathNotFoundError:
                raise _invalid(other.text) from None
            return compare(value, wanted)

        return against_path
    _check_literal(name, expected)
    compare = _comparison(name)
    if name.startswith("Timestamp"):
        moment = parse_timestamp(expected)
        relation = _RELATIONS[name[len("Timestamp") :]]
        return lambda value, _document, _scope: (
            (parsed := parse_timestamp(value)) is not None and relation(parsed, moment)
        )
    return lambda value, _document, _scope: compare(value, expected)


def _check_literal(name: str, expected: Any) -> None:
    if name.startswith("String") and not isinstance(expected, str):
        raise PathSyntaxError(f"{name} takes a string, got {expected!r}")
    if name.startswith("Numeric") and not is_number(expected):
        raise PathSyntaxError(f"{name} takes a number, got {expected!r}")
    if name == "BooleanEquals" and not isinstance(expected, bool):
        raise PathSyntaxError(f"BooleanEquals takes true or false, got {expected!r}")
    if name.startswith("Timestamp") and parse_timestamp(expected) is None:
        raise PathSyntaxError(
            f"{name} takes an RFC 3339 timestamp such as 2016-08-18T17:33:00Z, got {expected!r}"
        )


def _comparison(name: str) -> Callable[[Any, Any], bool]:
    """``(variable value, comparison value) -> bool``; a value of the wrong type never matches."""
    if name == "BooleanEquals":
        return lambda value, wanted: isinstance(value, bool) and isinstance(wanted, bool) and value is wanted
    if name.startswith("String"):
        relation = _RELATIONS[name[len("String") :]]
        if relation is operator.eq:
            return lambda value, wanted: (
                isinstance(value, str) and isinstance(wanted, str) and value == wanted
            )
        return lambda value, wanted: (
            isinstance(value, str) and isinstance(wanted, str) and relation(java_compare(value, wanted), 0)
        )
    if name.startswith("Numeric"):
        relation = _RELATIONS[name[len("Numeric") :]]
        return lambda value, wanted: is_number(value) and is_number(wanted) and relation(value, wanted)
    relation = _RELATIONS[name[len("Timestamp") :]]

    def timestamps(value: Any, wanted: Any) -> bool:
        left, right = parse_timestamp(value), parse_timestamp(wanted)
        return left is not None and right is not None and relation(left, right)

    return timestamps


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL)
