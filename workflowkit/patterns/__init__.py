"""EventBridge event-pattern matching for the local cloud, as EventBridge (event-ruler) matches.

Entry points:

* :func:`validate_pattern` refuses what ``PutRule`` refuses, with :class:`InvalidEventPatternError` whose
  message is EventBridge's reason;
* :func:`matches` / :func:`matches_json` say whether an event matches a pattern (the local cloud calls
  ``matches_json`` for every rule on every ``PutEvents``); each distinct pattern text is compiled once;
* :func:`test_event_pattern` is the ``TestEventPattern`` API: JSON strings in, a boolean out.

The modules of this package, one concern each: ``objects`` (pattern JSON as EventBridge reads it),
``compiler`` (structure, ``$or``, dotted names), ``leaves`` (a field's value list), ``anything_but``,
``numbers``, ``wildcards`` (syntax and the complexity limit), ``addresses`` (``cidr``), ``events`` (fields
of an event, array consistency). docs/decisions/0010-event-pattern-matcher.md gives the sources.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from workflowkit.patterns import objects
from workflowkit.patterns.compiler import compile_pattern
from workflowkit.patterns.errors import EVENT_NOT_VALID, InvalidEventError, InvalidEventPatternError

__all__ = [
    "EVENT_NOT_VALID",
    "MAX_PATTERN_LENGTH",
    "REQUIRED_EVENT_FIELDS",
    "InvalidEventError",
    "InvalidEventPatternError",
    "matches",
    "matches_json",
    "test_event_pattern",
    "validate_pattern",
]

# The fields TestEventPattern refuses an event without. The API reference also lists "resources", but AWS
# takes events without it (recorded: localstack test_events_patterns.py, test_event_pattern_source).
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")
# PutRule / TestEventPattern: EventPattern "Length Constraints: Maximum length of 4096."
MAX_PATTERN_LENGTH = 4096

Matcher = Callable[[dict[str, Any]], bool]


def validate_pattern(pattern: Any) -> None:
    """Raise :class:`InvalidEventPatternError` if EventBridge would refuse ``pattern`` (a parsed pattern)."""
    _check_length(len(json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)), " without whitespace")
    compile_pattern(pattern)


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when ``event`` matches ``pattern`` (raises InvalidEventPatternError for an invalid pattern)."""
    return _compiled(json.dumps(pattern, sort_keys=True))(event)


def matches_json(pattern_json: str, event: dict[str, Any]) -> bool:
    """:func:`matches` for a pattern kept as JSON text (a rule's): compiled once per distinct text."""
    return _compiled(pattern_json)(event)


def test_event_pattern(pattern_json: str, event_json: str) -> bool:
    """The TestEventPattern API: the pattern is checked first, then the event, then they are matched."""
    _check_length(len(pattern_json), "")
    matcher = _compiled(pattern_json)
    try:
        event = json.loads(event_json, parse_constant=objects.refuse_constant)
    except ValueError as error:
        raise InvalidEventError(f"not JSON: {error}") from error
    if not isinstance(event, dict):
        raise InvalidEventError("not a JSON object")
    missing = [name for name in REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise InvalidEventError(f"missing {', '.join(missing)}")
    return matcher(event)


# Not a pytest test, despite the name.
test_event_pattern.__test__ = False  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def _compiled(pattern_json: str) -> Matcher:
    try:
        pattern = objects.load(pattern_json)
    except ValueError as error:
        raise InvalidEventPatternError(str(error)) from error
    return compile_pattern(pattern)


def _check_length(length: int, how: str) -> None:
    if length > MAX_PATTERN_LENGTH:
        raise InvalidEventPatternError(
            f"Event pattern is {length} characters{how}; the maximum is {MAX_PATTERN_LENGTH}"
        )
