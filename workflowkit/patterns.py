"""EventBridge event-pattern matching for the local cloud, faithful to EventBridge's documented rules.

Three entry points:

* :func:`validate_pattern` rejects what ``PutRule`` rejects, with :class:`InvalidEventPatternError`.
* :func:`matches` says whether an event matches a pattern (the local cloud calls it for every rule on every
  ``PutEvents``). Each distinct pattern is validated and compiled once into a tree of closures, cached by
  its canonical JSON; an invalid pattern raises :class:`InvalidEventPatternError` here too.
* :func:`test_event_pattern` is the ``TestEventPattern`` API: JSON strings in, a boolean out.

Semantics (see docs/decisions/0010-event-pattern-matcher.md for sources and for what the docs leave open):

* every field named in the pattern must match (AND); a field matches when ANY value in its array matches
  (OR); an event value that is an array matches when ANY of its elements matches;
* nested pattern objects recurse; an array of objects in the event is matched element by element, all
  the fields of one sub-pattern against the same element (so ``{"items": {"kind": ["a"]}}`` matches when
  any element of ``items`` has ``kind`` ``"a"``);
* exact matching is type-sensitive: ``"1"`` is not ``1``, ``true`` is not ``1``, ``300`` is not ``300.0``,
  ``null`` matches only ``null`` and ``""`` only ``""``;
* ``prefix``, ``suffix``, ``equals-ignore-case`` and ``wildcard`` apply to strings only, ``numeric`` to
  numbers only (never booleans), ``cidr`` to strings that are IP addresses;
* ``exists`` looks at leaves only: a field whose value is an object is not a leaf, so it does not
  "exist" for ``exists`` (``null`` is a value, so a null field exists);
* ``anything-but`` matches any present leaf value that is not excluded; it never matches a missing field;
* ``$or`` (a list of at least two objects) may appear at any level: one of its alternatives must match.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

__all__ = [
    "REQUIRED_EVENT_FIELDS",
    "InvalidEventError",
    "InvalidEventPatternError",
    "matches",
    "matches_json",
    "test_event_pattern",
    "validate_pattern",
]

# TestEventPattern's "Event" parameter: "the following fields are mandatory" (EventBridge API reference).
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")
# PutRule / TestEventPattern: EventPattern "Length Constraints: Maximum length of 4096."
MAX_PATTERN_LENGTH = 4096

_OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"}
)
_ANYTHING_BUT_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_LOWER_BOUNDS = frozenset({">", ">="})
_UPPER_BOUNDS = frozenset({"<", "<="})
_NUMERIC_OPERATORS = _LOWER_BOUNDS | _UPPER_BOUNDS | {"="}

_MISSING: Any = object()

Predicate = Callable[[Any], bool]
ObjectMatcher = Callable[[dict[str, Any]], bool]
FieldMatcher = Callable[[Any], bool]


class InvalidEventPatternError(ValueError):
    """The pattern is one EventBridge's PutRule / TestEventPattern would reject."""


class InvalidEventError(ValueError):
    """The event given to TestEventPattern is not valid JSON or lacks a mandatory field."""


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------
def validate_pattern(pattern: Any) -> None:
    """Raise :class:`InvalidEventPatternError` if EventBridge would reject ``pattern``."""
    _compile_pattern(pattern)


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when ``event`` matches ``pattern`` (raises InvalidEventPatternError for an invalid pattern)."""
    return _compiled(json.dumps(pattern, sort_keys=True))(event)


def matches_json(pattern_json: str, event: dict[str, Any]) -> bool:
    """:func:`matches` for a pattern kept as JSON text (a rule's): compiled once per distinct text."""
    return _compiled(pattern_json)(event)


def test_event_pattern(pattern_json: str, event_json: str) -> bool:
    """The TestEventPattern API: validate the pattern, validate the event, then match."""
    if len(pattern_json) > MAX_PATTERN_LENGTH:
        raise InvalidEventPatternError(
            f"Event pattern is {len(pattern_json)} characters; the maximum is {MAX_PATTERN_LENGTH}"
        )
    try:
        pattern = json.loads(pattern_json)
    except json.JSONDecodeError as error:
        raise InvalidEventPatternError(f"Event pattern is not valid JSON: {error}") from error
    validate_pattern(pattern)
    try:
        event = json.loads(event_json)
    except json.JSONDecodeError as error:
        raise InvalidEventError(f"Event is not valid JSON: {error}") from error
    if not isinstance(event, dict):
        raise InvalidEventError("Event must be a JSON object")
    missing = [name for name in REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise InvalidEventError(f"Event is missing mandatory field(s): {', '.join(missing)}")
    return _compiled(json.dumps(pattern, sort_keys=True))(event)


# Not a pytest test, despite the name.
test_event_pattern.__test__ = False  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def _compiled(canonical_json: str) -> ObjectMatcher:
    return _compile_pattern(json.loads(canonical_json))


def _compile_pattern(pattern: Any) -> ObjectMatcher:
    matcher = _compile_object(pattern, "")
    length = len(json.dumps(pattern, separators=(",", ":"), ensure_ascii=False))
    if length > MAX_PATTERN_LENGTH:
        raise InvalidEventPatternError(
            f"Event pattern is {length} characters without whitespace; the maximum is {MAX_PATTERN_LENGTH}"
        )
    return matcher


# ---------------------------------------------------------------------------------------------------------
# Compiling (and validating) a pattern
# ---------------------------------------------------------------------------------------------------------
def _fail(path: str, message: str) -> InvalidEventPatternError:
    where = f' at "{path}"' if path else ""
    return InvalidEventPatternError(f"Event pattern is not valid{where}: {message}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _compile_object(node: Any, path: str) -> ObjectMatcher:
    if not isinstance(node, dict):
        raise _fail(path, f"a pattern must be a JSON object, not {_json_type(node)}")
    fields: list[tuple[str, FieldMatcher]] = []
    alternatives: list[tuple[ObjectMatcher, ...]] = []
    for key, value in node.items():
        if not isinstance(key, str):
            raise _fail(path, f"field names must be strings, not {_json_type(key)}")
        if key == "$or":
            alternatives.append(_compile_or(value, _join(path, key)))
        elif isinstance(value, dict):
            fields.append((key, _nested_field(_compile_object(value, _join(path, key)))))
        elif isinstance(value, list):
            fields.append((key, _compile_leaf(value, _join(path, key))))
        else:
            raise _fail(_join(path, key), f"must be an object or an array, not {_json_type(value)}")
    return _object_matcher(tuple(fields), tuple(alternatives))


def _compile_or(value: Any, path: str) -> tuple[ObjectMatcher, ...]:
    if not isinstance(value, list):
        raise _fail(path, f"$or must be an array of objects, not {_json_type(value)}")
    if len(value) < 2:
        raise _fail(path, f"$or needs at least two alternatives, got {len(value)}")
    compiled = []
    for index, alternative in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(alternative, dict):
            raise _fail(where, f"each $or alternative must be an object, not {_json_type(alternative)}")
        if not alternative:
            raise _fail(where, "a $or alternative must not be empty")
        compiled.append(_compile_object(alternative, where))
    return tuple(compiled)


def _object_matcher(
    fields: tuple[tuple[str, FieldMatcher], ...], alternatives: tuple[tuple[ObjectMatcher, ...], ...]
) -> ObjectMatcher:
    if not alternatives:
        if len(fields) == 1:
            ((key, only),) = fields

            def match_one(obj: dict[str, Any]) -> bool:
                return only(obj.get(key, _MISSING))

            return match_one

        def match_fields(obj: dict[str, Any]) -> bool:
            get = obj.get
            for key, field in fields:  # noqa: SIM110 - a plain loop is faster than all() on this hot path
                if not field(get(key, _MISSING)):
                    return False
            return True

        return match_fields

    def match_with_or(obj: dict[str, Any]) -> bool:
        get = obj.get
        for key, field in fields:
            if not field(get(key, _MISSING)):
                return False
        for group in alternatives:
            for alternative in group:
                if alternative(obj):
                    break
            else:
                return False
        return True

    return match_with_or


_EMPTY: dict[str, Any] = {}


def _nested_field(child: ObjectMatcher) -> FieldMatcher:
    """A pattern object under a field: recurse into the event object, or into each object of an array."""

    def match_nested(value: Any) -> bool:
        if type(value) is dict:
            return child(value)
        if type(value) is list:
            objects = [item for item in _flatten(value, keep_objects=True) if type(item) is dict]
            if objects:
                return any(child(item) for item in objects)
        # Absent, a leaf, or an array without objects: no field below exists here.
        return child(_EMPTY)

    return match_nested


def _flatten(values: list[Any], *, keep_objects: bool) -> Iterable[Any]:
    for item in values:
        if type(item) is list:
            yield from _flatten(item, keep_objects=keep_objects)
        elif keep_objects or type(item) is not dict:
            yield item


# --- leaves --------------------------------------------------------------------------------------------
def _compile_leaf(values: list[Any], path: str) -> FieldMatcher:
    if not values:
        raise _fail(path, "empty arrays are not allowed; a field's array needs at least one value")
    strings: set[str] = set()
    others: set[tuple[str, Any]] = set()  # (type tag, value) so that true != 1 and 300 != 300.0
    string_tests: list[Predicate] = []
    number_tests: list[Predicate] = []
    any_tests: list[Predicate] = []  # anything-but: applies to every type of value
    exists_true = exists_false = False
    for index, value in enumerate(values):
        where = f"{path}[{index}]"
        if isinstance(value, str):
            strings.add(value)
        elif value is None or isinstance(value, bool | int | float):
            others.add(_tag(value))
        elif isinstance(value, dict):
            operator, operand = _single_operator(value, where)
            if operator == "exists":
                if not isinstance(operand, bool):
                    raise _fail(where, f"exists takes true or false, not {_json(operand)}")
                exists_true |= operand
                exists_false |= not operand
            elif operator == "numeric":
                number_tests.append(_compile_numeric(operand, where))
            elif operator == "anything-but":
                any_tests.append(_compile_anything_but(operand, where))
            elif operator == "cidr":
                string_tests.append(_compile_cidr(operand, where))
            else:
                string_tests.append(_compile_string_operator(operator, operand, where))
        else:
            raise _fail(
                where,
                f"a match value must be a string, number, true, false, null or an object, "
                f"not {_json_type(value)}",
            )
    return _leaf_matcher(
        frozenset(strings), frozenset(others), tuple(string_tests), tuple(number_tests), tuple(any_tests),
        exists_true=exists_true, exists_false=exists_false,
    )  # fmt: skip


def _single_operator(expression: dict[str, Any], path: str) -> tuple[str, Any]:
    if len(expression) != 1:
        keys = ", ".join(sorted(expression)) or "none"
        raise _fail(path, f"a match expression has exactly one operator, got {len(expression)} ({keys})")
    ((operator, operand),) = expression.items()
    if operator not in _OPERATORS:
        known = ", ".join(sorted(_OPERATORS))
        raise _fail(path, f'unknown operator "{operator}" (known operators: {known})')
    return operator, operand


def _leaf_matcher(
    strings: frozenset[str],
    others: frozenset[tuple[str, Any]],
    string_tests: tuple[Predicate, ...],
    number_tests: tuple[Predicate, ...],
    any_tests: tuple[Predicate, ...],
    *,
    exists_true: bool,
    exists_false: bool,
) -> FieldMatcher:
    def scalar(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            if value in strings:
                return True
            for test in string_tests:
                if test(value):
                    return True
        else:
            if others and _tag(value) in others:
                return True
            if number_tests and (kind is int or kind is float):
                for test in number_tests:
                    if test(value):
                        return True
        for test in any_tests:  # noqa: SIM110 - hot path
            if test(value):
                return True
        return False

    if not (exists_true or exists_false):

        def match_leaf(value: Any) -> bool:
            kind = type(value)
            if kind is list:
                return any(scalar(item) for item in _flatten(value, keep_objects=False))
            if kind is dict or value is _MISSING:
                return False
            return scalar(value)

        return match_leaf

    def match_leaf_with_exists(value: Any) -> bool:
        kind = type(value)
        if kind is list:
            present = list(_flatten(value, keep_objects=False))
        elif kind is dict or value is _MISSING:  # an object is not a leaf: for `exists` it is absent
            present = []
        else:
            present = [value]
        if not present:
            return exists_false
        return exists_true or any(scalar(item) for item in present)

    return match_leaf_with_exists


def _tag(value: Any) -> tuple[str, Any]:
    kind = type(value)
    if kind is bool:
        return ("bool", value)
    if kind is int:
        return ("int", value)
    if kind is float:
        return ("float", value)
    if value is None:
        return ("null", None)
    return ("str", value)


# --- string operators ----------------------------------------------------------------------------------
def _compile_string_operator(operator: str, operand: Any, path: str) -> Predicate:
    if operator in ("prefix", "suffix") and isinstance(operand, dict):
        inner, text = _single_operator(operand, f"{path}.{operator}")
        if inner != "equals-ignore-case":
            raise _fail(path, f'{operator} takes a string or {{"equals-ignore-case": string}}, not "{inner}"')
        _require_string(text, f"{operator}/equals-ignore-case", path)
        folded = text.lower()
        if operator == "prefix":
            return lambda value: value.lower().startswith(folded)
        return lambda value: value.lower().endswith(folded)
    _require_string(operand, operator, path)
    if operator == "prefix":
        return lambda value: value.startswith(operand)
    if operator == "suffix":
        return lambda value: value.endswith(operand)
    if operator == "equals-ignore-case":
        folded = operand.lower()
        return lambda value: value.lower() == folded
    return _compile_wildcard(operand, path)


def _require_string(operand: Any, operator: str, path: str) -> None:
    if not isinstance(operand, str):
        raise _fail(path, f"{operator} takes a string, not {_json_type(operand)}")


def _compile_wildcard(text: str, path: str) -> Predicate:
    """``*`` matches any run of characters; ``\\*`` is a literal star and ``\\\\`` a literal backslash."""
    parts: list[str] = []
    previous_star = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following not in ("*", "\\"):
                raise _fail(path, f"wildcard {_json(text)}: a backslash may only escape * or \\ "
                            f"(position {index})")  # fmt: skip
            parts.append(re.escape(following))
            previous_star = False
            index += 2
            continue
        if char == "*":
            if previous_star:
                raise _fail(
                    path, f"wildcard {_json(text)}: consecutive wildcard characters at position {index}"
                )
            parts.append(".*")
            previous_star = True
        else:
            parts.append(re.escape(char))
            previous_star = False
        index += 1
    fullmatch = re.compile("".join(parts), re.DOTALL).fullmatch
    return lambda value: fullmatch(value) is not None


# --- anything-but --------------------------------------------------------------------------------------
def _compile_anything_but(operand: Any, path: str) -> Predicate:
    if isinstance(operand, dict):
        operator, inner = _single_operator(operand, f"{path}.anything-but")
        if operator not in _ANYTHING_BUT_OPERATORS:
            raise _fail(path, f'anything-but takes a value, a list or an object with one of '
                        f'{", ".join(_ANYTHING_BUT_OPERATORS)}; not "{operator}"')  # fmt: skip
        if isinstance(inner, list) and operator in ("equals-ignore-case", "wildcard"):
            if not inner:
                raise _fail(path, f"anything-but/{operator} list must not be empty")
            tests = [_compile_string_operator(operator, item, path) for item in inner]
        else:
            if isinstance(inner, dict):
                raise _fail(path, f"anything-but/{operator} takes a string, not an object")
            tests = [_compile_string_operator(operator, inner, path)]

        def excluded_by_operator(value: Any) -> bool:
            if type(value) is not str:
                return True  # not a string, so not a string with that prefix/suffix/spelling/shape
            return not any(test(value) for test in tests)

        return excluded_by_operator

    items = operand if isinstance(operand, list) else [operand]
    if not items:
        raise _fail(path, "anything-but list must not be empty")
    kinds = set()
    for item in items:
        if isinstance(item, str):
            kinds.add("string")
        elif isinstance(item, int | float) and not isinstance(item, bool):
            kinds.add("number")
        else:
            raise _fail(path, f"anything-but takes strings or numbers, not {_json_type(item)}")
    if len(kinds) > 1:
        raise _fail(path, "an anything-but list must contain only strings or only numbers")
    excluded = frozenset(_tag(item) for item in items)
    return lambda value: _tag(value) not in excluded


# --- numeric -------------------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compile_numeric(operand: Any, path: str) -> Predicate:
    if not isinstance(operand, list) or not operand:
        raise _fail(path, f'numeric takes a non-empty array like [">", 0, "<=", 5], not {_json(operand)}')
    if len(operand) not in (2, 4):
        raise _fail(path, f"numeric takes one comparison or a lower and an upper bound, got {_json(operand)}")
    terms: list[tuple[str, float]] = []
    for index in range(0, len(operand), 2):
        operator, number = operand[index], operand[index + 1]
        if not isinstance(operator, str) or operator not in _NUMERIC_OPERATORS:
            raise _fail(path, f"unknown numeric operator {_json(operator)} (use <, <=, =, >, >=)")
        if not _is_number(number):
            raise _fail(path, f"numeric {operator} needs a number, not {_json(number)}")
        terms.append((operator, number))
    if len(terms) == 2:
        (low_op, low), (high_op, high) = terms
        if low_op not in _LOWER_BOUNDS or high_op not in _UPPER_BOUNDS:
            raise _fail(path, f"a numeric range is a lower bound (> or >=) then an upper bound (< or <=), "
                        f"got {_json(operand)}")  # fmt: skip
        if not low < high:
            raise _fail(path, f"numeric range bottom {low} must be less than top {high}")
    checks = tuple(_numeric_check(operator, number) for operator, number in terms)
    if len(checks) == 1:
        return checks[0]
    first, second = checks
    return lambda value: first(value) and second(value)


def _numeric_check(operator: str, bound: float) -> Predicate:
    if operator == "<":
        return lambda value: bool(value < bound)
    if operator == "<=":
        return lambda value: bool(value <= bound)
    if operator == ">":
        return lambda value: bool(value > bound)
    if operator == ">=":
        return lambda value: bool(value >= bound)
    return lambda value: bool(value == bound)


# --- cidr ----------------------------------------------------------------------------------------------
def _compile_cidr(operand: Any, path: str) -> Predicate:
    if not isinstance(operand, str):
        raise _fail(path, f'cidr takes a string like "10.0.0.0/24", not {_json_type(operand)}')
    _address, slash, bits = operand.partition("/")
    if not slash or not bits.isdigit():
        raise _fail(path, f"cidr {_json(operand)} is not ADDRESS/PREFIX-LENGTH")
    try:
        network = ipaddress.ip_network(operand, strict=False)
    except ValueError as error:
        raise _fail(path, f"cidr {_json(operand)} is not a valid IPv4 or IPv6 CIDR block ({error})") from None

    def in_network(value: str) -> bool:
        parsed = _ip(value)
        return parsed is not None and parsed.version == network.version and parsed in network

    return in_network


@lru_cache(maxsize=4096)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# --- messages ------------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
