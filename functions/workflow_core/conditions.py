"""Conditions a declaration attaches to a step: data the controller evaluates, never code.

A condition reads the workflow's *facts*: ``subject.<field>`` (the start event's data) and
``outputs.<step>.<field>`` (the data of the event that completed an earlier step), in their wire
(camelCase) names, dotted into nested objects. A step whose condition does not hold is recorded as
skipped. Conditions are plain data so that the stack, the docs and the controller read the same thing
and a declaration stays reviewable; they are evaluated by :func:`Condition.holds`.

A value that is missing makes a comparison false (``exists`` tells missing from present). A comparison
that cannot be made (a string against a number) is an error, not ``False``: a compliance step must not
be skipped because a field changed type (decision 0028).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists"]
_SYMBOLS: dict[str, str] = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
}
_MISSING = object()


class ConditionError(ValueError):
    """A condition that cannot be evaluated on these facts (incomparable types)."""


@dataclass(frozen=True)
class Condition:
    """Base of the condition vocabulary; see :func:`fact`, :func:`all_of`, :func:`any_of`, :func:`not_`."""

    def holds(self, facts: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def paths(self) -> tuple[str, ...]:
        """Every fact path the condition reads (the declaration checks them)."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Comparison(Condition):
    path: str
    operator: Operator
    value: Any = None

    def __post_init__(self) -> None:
        if self.operator in ("in", "not_in") and not isinstance(self.value, tuple | frozenset):
            raise ValueError(f"{self.path} {self.operator}: the value must be a tuple of choices")
        parts = self.path.split(".")
        if parts[0] not in ("subject", "outputs") or len(parts) < (2 if parts[0] == "subject" else 3):
            raise ValueError(
                f"condition path {self.path!r} must be subject.<field> or outputs.<step>.<field>"
            )

    def holds(self, facts: Mapping[str, Any]) -> bool:
        actual = _read(facts, self.path)
        if self.operator == "exists":
            return actual is not _MISSING and actual is not None
        if actual is _MISSING:
            return False
        expected = self.value
        try:
            if self.operator == "eq":
                return bool(actual == expected)
            if self.operator == "ne":
                return bool(actual != expected)
            if self.operator == "in":
                return actual in expected
            if self.operator == "not_in":
                return actual not in expected
            _check_comparable(self.path, actual, expected)
            if self.operator == "lt":
                return bool(actual < expected)
            if self.operator == "le":
                return bool(actual <= expected)
            if self.operator == "gt":
                return bool(actual > expected)
            return bool(actual >= expected)
        except TypeError as error:
            raise ConditionError(f"{self.describe()}: {error}") from None

    def paths(self) -> tuple[str, ...]:
        return (self.path,)

    def describe(self) -> str:
        if self.operator == "exists":
            return f"{self.path} exists"
        value = list(self.value) if isinstance(self.value, tuple | frozenset) else self.value
        return f"{self.path} {_SYMBOLS[self.operator]} {value!r}"


@dataclass(frozen=True)
class AllOf(Condition):
    conditions: tuple[Condition, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.conditions)

    def paths(self) -> tuple[str, ...]:
        return tuple(p for c in self.conditions for p in c.paths())

    def describe(self) -> str:
        return " and ".join(f"({c.describe()})" for c in self.conditions)


@dataclass(frozen=True)
class AnyOf(Condition):
    conditions: tuple[Condition, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return any(c.holds(facts) for c in self.conditions)

    def paths(self) -> tuple[str, ...]:
        return tuple(p for c in self.conditions for p in c.paths())

    def describe(self) -> str:
        return " or ".join(f"({c.describe()})" for c in self.conditions)


@dataclass(frozen=True)
class Not(Condition):
    condition: Condition

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return not self.condition.holds(facts)

    def paths(self) -> tuple[str, ...]:
        return self.condition.paths()

    def describe(self) -> str:
        return f"not ({self.condition.describe()})"


class Fact:
    """``fact("outputs.verify.result").equals("REFER")``: builds comparisons on one fact path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def equals(self, value: Any) -> Comparison:
        return Comparison(self.path, "eq", value)

    def differs_from(self, value: Any) -> Comparison:
        return Comparison(self.path, "ne", value)

    def below(self, value: Any) -> Comparison:
        return Comparison(self.path, "lt", value)

    def at_most(self, value: Any) -> Comparison:
        return Comparison(self.path, "le", value)

    def above(self, value: Any) -> Comparison:
        return Comparison(self.path, "gt", value)

    def at_least(self, value: Any) -> Comparison:
        return Comparison(self.path, "ge", value)

    def one_of(self, *values: Any) -> Comparison:
        return Comparison(self.path, "in", tuple(values))

    def none_of(self, *values: Any) -> Comparison:
        return Comparison(self.path, "not_in", tuple(values))

    def exists(self) -> Comparison:
        return Comparison(self.path, "exists")


def fact(path: str) -> Fact:
    return Fact(path)


def all_of(*conditions: Condition) -> AllOf:
    return AllOf(tuple(conditions))


def any_of(*conditions: Condition) -> AnyOf:
    return AnyOf(tuple(conditions))


def not_(condition: Condition) -> Not:
    return Not(condition)


def facts_of(subject: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a condition reads, from a workflow's subject and completed steps' outputs (wire form)."""
    return {"subject": subject, "outputs": outputs}


def _read(facts: Mapping[str, Any], path: str) -> Any:
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _check_comparable(path: str, actual: Any, expected: Any) -> None:
    # bool is an int in Python; ranking a flag against a number is a declaration mistake, not a fact.
    numbers = (int, float)
    if isinstance(actual, bool) or isinstance(expected, bool):
        raise TypeError(f"{path}: cannot rank booleans")
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return
    if type(actual) is not type(expected):
        raise TypeError(f"{path} is {type(actual).__name__}, compared with {type(expected).__name__}")
