"""JSON objects of a pattern, read as EventBridge reads them: members in document sequence, duplicates kept.

EventBridge parses pattern text as a token stream, so a key given twice is read twice and the later one
wins (AWS recording: localstack ``complex_multi_key_event_pattern.json``, ``location`` given twice). Pattern
text is therefore parsed into ``Pairs``; a pattern given as a dict (``matches(pattern, event)``) already
lost its duplicates and is read as it is.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["Pairs", "load", "members", "refuse_constant"]


class Pairs(tuple[tuple[str, Any], ...]):
    """A JSON object parsed from pattern text: its members in sequence, duplicates kept."""


def members(node: Any) -> list[tuple[str, Any]] | None:
    """The (key, value) members of a JSON object, or None when ``node`` is not an object."""
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, Pairs):
        return list(node)
    return None


def refuse_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")  # Jackson refuses NaN and Infinity; so does EventBridge


def load(text: str) -> Any:
    """Pattern text parsed with its objects as ``Pairs``; ValueError (JSONDecodeError) if it is not JSON."""
    return json.loads(text, object_pairs_hook=Pairs, parse_constant=refuse_constant)
