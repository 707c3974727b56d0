"""Wildcards as IAM reads them, each compiled once to one regular expression.

Four dialects, because IAM has four:

- **Action / NotAction**: ``*`` and ``?`` anywhere, case-insensitive (``dynamodb:get*`` matches
  ``dynamodb:GetItem``).
- **Resource / NotResource**: case-sensitive ARNs. IAM User Guide, *Resource*: "You can use wildcard
  characters (``*`` and ``?``) within the individual segments of an ARN (the parts separated by colons)"
  and "If the ``*`` wildcard is the last character of a resource ARN segment, it can expand to match
  beyond the colon boundaries." So a ``*`` that ends a segment matches anything (``log-group:name:*``
  covers ``log-group:name:log-stream:s``); one inside a segment stops at ``:``; ``?`` is one character
  other than ``:``. "The asterisk (``*``) character can expand to replace everything within a segment,
  including characters like a forward slash (``/``)".
- **StringLike**: ``*`` and ``?`` anywhere in the string, case-sensitive.
- **ArnLike / ArnEquals**: "Each of the six colon-delimited components of the ARN is checked separately
  and each can include multi-character match wildcards (``*``) or single-character match wildcards
  (``?``)." The sixth component is the rest of the ARN, colons included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MATCH_ALL = "*"


def _glob(text: str, *, star: str, one: str) -> str:
    return "".join(star if char == "*" else one if char == "?" else re.escape(char) for char in text)


def _alternation(parts: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    return re.compile("(?:" + "|".join(parts) + ")", flags | re.DOTALL)


def compile_actions(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for an Action list; ``None`` when it contains ``*`` (matches all)."""
    patterns = list(patterns)
    if MATCH_ALL in patterns:
        return None
    return _alternation((_glob(p, star=".*", one=".") for p in patterns), re.IGNORECASE)


def _resource_regex(pattern: str) -> str:
    segments = []
    for segment in pattern.split(":"):
        # A trailing * may cross colons; any other * or ? stays inside its segment.
        body, tail = (segment[:-1], ".*") if segment.endswith("*") else (segment, "")
        segments.append(_glob(body, star="[^:]*", one="[^:]") + tail)
    return ":".join(segments)


def compile_resources(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One case-sensitive pattern for a Resource list; ``None`` when it contains ``*`` (matches all)."""
    patterns = list(patterns)
    if MATCH_ALL in patterns:
        return None
    return _alternation(_resource_regex(p) for p in patterns)


def compile_string_like(patterns: Iterable[str]) -> re.Pattern[str]:
    return _alternation(_glob(p, star=".*", one=".") for p in patterns)


def _arn_regex(pattern: str) -> str:
    if pattern == MATCH_ALL:
        return ".*"
    components = pattern.split(":", 5)
    if len(components) != 6:
        raise ValueError(f"{pattern!r} is not an ARN (arn:partition:service:region:account:resource)")
    head = [_glob(c, star="[^:]*", one="[^:]") for c in components[:5]]
    return ":".join([*head, _glob(components[5], star=".*", one=".")])


def compile_arn_like(patterns: Iterable[str]) -> re.Pattern[str]:
    """ArnLike/ArnEquals: component-wise; raises ValueError for a value that is not an ARN."""
    return _alternation(_arn_regex(p) for p in patterns)
