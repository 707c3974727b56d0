"""A pattern's structure compiled into rules: dotted field names, ``$or`` branches, last-one-wins keys.

As event-ruler's ``JsonRuleCompiler`` does, in document sequence (the first refusal is the one AWS reports):

* the pattern and every object in it are non-empty JSON objects; a key's value is an object (recursed
  into, its key joining the field name with a dot) or a non-empty array of values (see ``leaves``);
* ``$or`` is an array of at least two objects; each branch copies the fields written so far, and a field
  written after the ``$or`` goes into every branch. Inside a branch, operator names are not field names;
* a field written twice (``"a.b"`` and ``"a": {"b"}``, or a key repeated) keeps the later value.

The result is a list of rules (one per ``$or`` branch), each a name-sorted tuple of steps, and the
wildcard-complexity check over every field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflowkit.patterns.errors import InvalidEventPatternError
from workflowkit.patterns.events import Step, rule_matcher
from workflowkit.patterns.leaves import Leaf, compile_leaf
from workflowkit.patterns.objects import members
from workflowkit.patterns.wildcards import MAX_COMPLEXITY, TOO_COMPLEX, complexity

__all__ = ["MAX_RULES", "compile_pattern"]

Rule = dict[str, Leaf]
# $or branches multiply; a 4096-character pattern could otherwise ask for 2^100 rules.
MAX_RULES = 10_000
OR = "$or"
# event-ruler Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP: refused as field names inside an $or.
RESERVED_IN_OR = frozenset({
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric",
    "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case", "date-after",
    "date-on-or-after", "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range",
    "ip-address-not-in-range",
})  # fmt: skip


def compile_pattern(pattern: Any) -> Callable[[dict[str, Any]], bool]:
    """The matcher of ``pattern`` (a dict, or ``objects.load`` output); refused: InvalidEventPatternError."""
    fields = members(pattern)
    if fields is None:
        raise InvalidEventPatternError("Filter is not an object")
    rules = _object(fields, [], [], inside_or=False, where="")
    _check_complexity(rules)
    matchers = tuple(rule_matcher(_steps(rule)) for rule in rules)
    if len(matchers) == 1:
        return matchers[0]

    def match_any(event: dict[str, Any]) -> bool:
        for match in matchers:  # noqa: SIM110 - a plain loop is faster than any() on this hot path
            if match(event):
                return True
        return False

    return match_any


def _object(fields: list[tuple[str, Any]], path: list[str], rules: list[Rule], *, inside_or: bool,
            where: str) -> list[Rule]:  # fmt: skip
    if not fields:
        raise InvalidEventPatternError("Empty objects are not allowed", where)
    for key, value in fields:
        here = f"{where}.{key}" if where else key
        if key == OR:
            rules = _or(value, path, rules, here)
            continue
        if inside_or and key in RESERVED_IN_OR:
            raise InvalidEventPatternError(
                f"{key} is Ruler reserved fieldName which cannot be used inside {OR}.", here
            )
        nested = members(value)
        if nested is not None:
            rules = _object(nested, [*path, key], rules, inside_or=inside_or, where=here)
        elif isinstance(value, list):
            leaf = compile_leaf(value, here)
            if not rules:
                rules = [{}]
            name = ".".join([*path, key])
            for rule in rules:
                rule[name] = leaf  # written twice: the later writing wins
        else:
            raise InvalidEventPatternError(f'"{key}" must be an object or an array', here)
    return rules


def _or(value: Any, path: list[str], rules: list[Rule], where: str) -> list[Rule]:
    if not isinstance(value, list):
        raise InvalidEventPatternError(f"It must be an Array followed with {OR}.", where)
    branches: list[Rule] = []
    for index, alternative in enumerate(value):
        fields = members(alternative)
        if fields is None:
            raise InvalidEventPatternError(
                f"Only JSON object is allowed in array of {OR} relationship.", f"{where}[{index}]"
            )
        copies = [dict(rule) for rule in rules] or [{}]
        branches.extend(_object(fields, path, copies, inside_or=True, where=f"{where}[{index}]"))
        if len(branches) > MAX_RULES:
            raise InvalidEventPatternError(TOO_COMPLEX, where)
    if len(value) < 2:
        raise InvalidEventPatternError(f"There must have at least 2 Objects in {OR} relationship.", where)
    return branches


def _steps(rule: Rule) -> tuple[Step, ...]:
    # event-ruler visits a rule's fields sorted by name; exists: false depends on that (see events).
    return tuple((name, rule[name].test, rule[name].absent_ok) for name in sorted(rule))


def _check_complexity(rules: list[Rule]) -> None:
    by_field: dict[str, dict[tuple[str, Any], Any]] = {}
    for rule in rules:
        for name, leaf in rule.items():
            for identity, tokens in leaf.wildcards:
                by_field.setdefault(name, {})[identity] = tokens
    for name, groups in by_field.items():
        if complexity(groups.values()) >= MAX_COMPLEXITY:
            raise InvalidEventPatternError(TOO_COMPLEX, name)
