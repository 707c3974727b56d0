"""A field's value list (``"state": ["a", {"prefix": "b"}, ...]``) compiled into one test of one value.

EventBridge flattens an event into leaf fields (strings, numbers, true, false, null; an array gives one
field per element, an object none). A field's list matches a leaf when any member matches it (OR).
Match expressions are validated member by member, in document sequence, with event-ruler's messages
(``JsonRuleCompiler.processMatchExpression``): the first refusal is the one AWS reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workflowkit.patterns import anything_but, numbers
from workflowkit.patterns.addresses import Address, compile_cidr, parse_address
from workflowkit.patterns.errors import InvalidEventPatternError
from workflowkit.patterns.objects import members
from workflowkit.patterns.wildcards import WildcardGroup, parse_wildcard

__all__ = ["Leaf", "compile_leaf"]

Predicate = Callable[[Any], bool]
ONE_KEY = "Only one key allowed in match expression"
TOO_MANY = "Too many elements in numeric expression"  # event-ruler's word for extra keys after these two


@dataclass(frozen=True, slots=True)
class Leaf:
    """How one field's list judges the event: ``test`` for each present leaf value (None when only
    ``exists: false`` is listed), ``absent_ok`` when the list holds ``{"exists": false}``."""

    test: Predicate | None
    absent_ok: bool
    wildcards: tuple[WildcardGroup, ...]


@dataclass
class _Builder:
    path: str
    strings: set[str]
    addresses: set[Address]
    literals: set[Any]  # true, false, null
    number_spellings: set[tuple[str, Any]]  # numbers without a comparable form: matched as spelled
    numbers_equal: set[float]
    string_tests: list[Predicate]
    number_tests: list[Callable[[float], bool]]
    any_tests: list[Predicate]
    wildcards: list[WildcardGroup]
    exists_true: bool = False
    exists_false: bool = False


def compile_leaf(values: list[Any], path: str) -> Leaf:
    build = _Builder(path, set(), set(), set(), set(), set(), [], [], [], [])
    for index, value in enumerate(values):
        where = f"{path}[{index}]"
        if isinstance(value, str):
            address = parse_address(value)
            if address is None:
                build.strings.add(value)
            else:  # event-ruler turns a value that is an IP address into a one-address range
                build.addresses.add(address)
        elif value is None or isinstance(value, bool):
            build.literals.add(value)
        elif numbers.is_number(value):
            _add_number(build, value, where)
        else:
            expression = members(value)
            if expression is None:
                raise InvalidEventPatternError(
                    "Match value must be String, number, true, false, or null", where
                )
            _add_expression(build, expression, where)
    if not values:
        raise InvalidEventPatternError("Empty arrays are not allowed", path)
    return Leaf(_tester(build), build.exists_false, tuple(build.wildcards))


def _add_number(build: _Builder, value: int | float, where: str) -> None:
    try:
        build.numbers_equal.add(numbers.pattern_comparable(value, where))
    except InvalidEventPatternError:  # event-ruler keeps the spelled value and drops the numeric one
        build.number_spellings.add(_spelling(value))


def _spelling(value: Any) -> tuple[str, Any]:
    # We see parsed numbers, not their text: an int and a float stand for two different spellings.
    return (type(value).__name__, value)


def _add_expression(build: _Builder, expression: list[tuple[str, Any]], where: str) -> None:
    if not expression:
        raise InvalidEventPatternError("Match expression name not found", where)
    (operator, operand), extra = expression[0], expression[1:]

    def single_key(reason: str = ONE_KEY) -> None:
        if extra:
            raise InvalidEventPatternError(reason, where)

    if operator in ("prefix", "suffix"):
        build.string_tests.append(_prefix_or_suffix(operator, operand, where))
        single_key()
    elif operator == "equals-ignore-case":
        if not isinstance(operand, str):
            raise InvalidEventPatternError("equals-ignore-case match pattern must be a string", where)
        folded = operand.lower()
        build.string_tests.append(lambda value: value.lower() == folded)
        single_key()
    elif operator == "wildcard":
        if not isinstance(operand, str):
            raise InvalidEventPatternError("wildcard match pattern must be a string", where)
        tokens, test = parse_wildcard(operand, where)
        build.string_tests.append(test)
        build.wildcards.append((("wildcard", operand), (tokens,)))
        single_key()
    elif operator == "numeric":
        build.number_tests.append(numbers.compile_numeric(operand, where))
        single_key(TOO_MANY)
    elif operator == "anything-but":
        test, group = anything_but.compile_anything_but(operand, where)
        build.any_tests.append(test)
        if group is not None:
            build.wildcards.append(group)
        single_key(TOO_MANY)
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise InvalidEventPatternError("exists match pattern must be either true or false.", where)
        build.exists_true |= operand
        build.exists_false |= not operand
        single_key()
    elif operator == "cidr":
        if not isinstance(operand, str):  # sic: event-ruler reuses the prefix message here
            raise InvalidEventPatternError("prefix match pattern must be a string", where)
        build.string_tests.append(compile_cidr(operand, where))
        single_key()
    else:
        raise InvalidEventPatternError(f"Unrecognized match type {operator}", where)


def _prefix_or_suffix(operator: str, operand: Any, where: str) -> Predicate:
    if isinstance(operand, str):
        if operator == "prefix":
            return lambda value: value.startswith(operand)
        return lambda value: value.endswith(operand)
    inner = members(operand)
    if inner is None:
        raise InvalidEventPatternError(f"{operator} match pattern must be a string", where)
    if not inner:
        raise InvalidEventPatternError(f"{operator.capitalize()} expression name not found", where)
    (name, text), extra = inner[0], inner[1:]
    if name != "equals-ignore-case":
        raise InvalidEventPatternError(f"Unsupported {operator} pattern: {name}", where)
    if not isinstance(text, str):
        raise InvalidEventPatternError("equals-ignore-case match pattern must be a string", where)
    if extra:
        raise InvalidEventPatternError(ONE_KEY, where)
    folded = text.lower()
    if operator == "prefix":
        return lambda value: value.lower().startswith(folded)
    return lambda value: value.lower().endswith(folded)


def _tester(build: _Builder) -> Predicate | None:
    if build.exists_true:
        return _present  # exists: true takes any leaf, whatever else the list says
    kinds = (build.strings, build.addresses, build.literals, build.number_spellings, build.numbers_equal)
    if not any(kinds) and not (build.string_tests or build.number_tests or build.any_tests):
        return None  # only exists: false
    strings = frozenset(build.strings)
    addresses = frozenset(build.addresses)
    literals = frozenset(build.literals)
    spellings = frozenset(build.number_spellings)
    numbers_equal = frozenset(build.numbers_equal)
    string_tests = tuple(build.string_tests)
    number_tests = tuple(build.number_tests)
    any_tests = tuple(build.any_tests)
    numeric = bool(numbers_equal or number_tests)
    limit, decimals = numbers.LIMIT, numbers.DECIMALS
    if not (addresses or literals or spellings or numbers_equal or number_tests or any_tests):
        if not string_tests:
            # Only exact strings, the usual list: a number, true or null is in no set of strings either.
            return strings.__contains__
        if not strings and len(string_tests) == 1:
            (only,) = string_tests  # one prefix, suffix, wildcard, ...: strings only
            return lambda value: type(value) is str and only(value)

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            if value in strings:
                return True
            for string_test in string_tests:
                if string_test(value):
                    return True
            if addresses and parse_address(value) in addresses:
                return True
        elif kind is int or kind is float:
            if numeric and -limit <= value <= limit and (kind is int or round(value, decimals) == value):
                # It has a comparable form (numbers.comparable): EventBridge compares it as a number, and
                # only so. An int and a float of equal value hash alike, so the set needs no conversion.
                if value in numbers_equal:
                    return True
                for number_test in number_tests:
                    if number_test(value):
                        return True
            elif spellings and _spelling(value) in spellings:
                return True
        elif literals and value in literals:  # true / false / null; 1 is no bool here: kind ruled it out
            return True
        for any_test in any_tests:  # noqa: SIM110 - a plain loop is faster than any() on this hot path
            if any_test(value):
                return True
        return False

    return test


def _present(value: Any) -> bool:
    return True
