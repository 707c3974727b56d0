"""``anything-but``: matches any present leaf that the operand does not exclude (event-ruler ``AnythingBut``).

Accepted operands (event-ruler ``JsonRuleCompiler``; AWS recordings in localstack's
``tests/aws/services/events/event_pattern_templates/content_anything_*``):

* a string, a number, or a non-empty list of only strings or only numbers (numbers compare as numbers:
  ``[100]`` excludes ``100.0``);
* an object with one of ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``, whose value is a
  string or a list of strings; ``prefix``/``suffix`` may not be empty.

A value the operand cannot speak about is not excluded: a number or null passes a string exclusion, and
a string passes a numeric one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflowkit.patterns import numbers
from workflowkit.patterns.errors import InvalidEventPatternError
from workflowkit.patterns.objects import members
from workflowkit.patterns.wildcards import WildcardGroup, parse_wildcard

__all__ = ["compile_anything_but"]

Predicate = Callable[[Any], bool]
_NOT_A_VALUE = "Value of anything-but must be an array or single string/number value."
_SET_OPERATORS = ("equals-ignore-case", "prefix", "suffix", "wildcard")


def compile_anything_but(operand: Any, where: str) -> tuple[Predicate, WildcardGroup | None]:
    """The exclusion test, and the wildcard group it adds to its field's complexity (if any)."""

    def fail(reason: str) -> InvalidEventPatternError:
        return InvalidEventPatternError(reason, where)

    inner = members(operand)
    if inner is None:
        if isinstance(operand, list):
            return _excluding_values(operand, where), None
        if isinstance(operand, str):
            return _excluding_strings({operand}), None
        if numbers.is_number(operand):
            return _excluding_numbers({numbers.pattern_comparable(operand, where)}), None
        raise fail(_NOT_A_VALUE)
    if not inner:
        raise fail("Anything-But expression name not found")
    (operator, value), extra = inner[0], inner[1:]
    if operator not in _SET_OPERATORS:
        raise fail(f"Unsupported anything-but pattern: {operator}")
    if isinstance(value, list):
        texts = value
    elif isinstance(value, str) or numbers.is_number(value):
        texts = [value]
    else:
        raise fail(_NOT_A_VALUE)
    for text in texts:
        if not isinstance(text, str):
            raise fail(_wrong_type(operator))
        if operator in ("prefix", "suffix") and not text:
            raise fail("Null prefix/suffix not allowed")
    if not texts:
        # event-ruler's compiler lets an empty set through; AWS is reported to fail the call instead.
        raise fail("Empty arrays are not allowed")
    group: WildcardGroup | None = None
    if operator == "wildcard":
        parsed = [parse_wildcard(text, where) for text in texts]
        tests = tuple(test for _, test in parsed)
        group = (("anything-but-wildcard", frozenset(texts)), tuple(tokens for tokens, _ in parsed))
        excluded: Predicate = lambda text: any(test(text) for test in tests)  # noqa: E731
    elif operator == "prefix":
        starts = tuple(texts)
        excluded = lambda text: text.startswith(starts)  # noqa: E731
    elif operator == "suffix":
        ends = tuple(texts)
        excluded = lambda text: text.endswith(ends)  # noqa: E731
    else:
        folded = frozenset(text.lower() for text in texts)
        excluded = lambda text: text.lower() in folded  # noqa: E731
    if extra:
        raise fail("Too many elements in numeric expression")
    return (lambda value: type(value) is not str or not excluded(value)), group


def _wrong_type(operator: str) -> str:
    if operator == "equals-ignore-case":
        return "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
    if operator == "wildcard":
        return "wildcard match pattern must be a string"
    return "prefix/suffix match pattern must be a string"


def _excluding_values(values: list[Any], where: str) -> Predicate:
    strings: set[str] = set()
    comparables: set[float] = set()
    for value in values:
        if isinstance(value, str):
            strings.add(value)
        elif numbers.is_number(value):
            comparables.add(numbers.pattern_comparable(value, where))
        else:
            raise InvalidEventPatternError(
                "Inside anything but list, start|null|boolean is not supported.", where
            )
    if bool(strings) == bool(comparables):  # both, or an empty list
        raise InvalidEventPatternError(
            "Inside anything but list, either all values are number or string, mixed type is not supported",
            where,
        )
    return _excluding_strings(strings) if strings else _excluding_numbers(comparables)


def _excluding_strings(strings: set[str]) -> Predicate:
    excluded = frozenset(strings)
    return lambda value: type(value) is not str or value not in excluded


def _excluding_numbers(comparables: set[float]) -> Predicate:
    excluded = frozenset(comparables)

    def test(value: Any) -> bool:
        number = numbers.comparable(value)
        return number is None or number not in excluded

    return test
