"""What EventBridge checks of a PutEvents request before it routes anything, as its API documents it.

The request: 1 to 10 entries (``ValidationException`` otherwise: botocore checks the minimum, the
service the maximum), whose sizes together stay within the limit (``ValidationException``, "Total
size of the entries in the request is over the limit."). The entries' sizes are computed as the
EventBridge User Guide's "Calculating PutEvents event entry size" does: 14 bytes for a ``Time``, the
UTF-8 bytes of ``Source``, ``DetailType``, ``Detail`` and each of ``Resources``, counted as its Java
example counts them (``String.getBytes(UTF_8)``: an unpaired surrogate is one ``?``).

Each entry: ``Source``, ``DetailType`` and ``Detail`` present and not empty (``InvalidArgument``); a
``Detail`` that is a JSON object (``MalformedDetail``), where JSON is RFC 8259 (no ``NaN`` or
``Infinity``), integers are 64-bit ("for the JSON number (integer) data type, the constraints are a
minimum value of -9,223,372,036,854,775,808 and a maximum value of 9,223,372,036,854,775,807") and
nesting stops at 1,100 levels ("PutEvents will only process nested JSON up to 1100 levels deep").
A failed entry fails alone: the others are put (docs/decisions/0038).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
MAX_DETAIL_DEPTH = 1100
TIME_BYTES = 14
_INT64 = range(-(2**63), 2**63)
_REQUIRED = ("Source", "DetailType", "Detail")

TOO_MANY_ENTRIES = (
    "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy "
    "constraint: Member must have length less than or equal to 10"
)
TOO_LARGE = "Total size of the entries in the request is over the limit."
MALFORMED_DETAIL = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}


class RequestRefusedError(ValueError):
    """The whole request is refused (EventBridge's ``ValidationException``): no entry is put."""


def check_request(entries: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`RequestRefusedError` for a request EventBridge refuses as a whole."""
    if len(entries) > MAX_ENTRIES:
        raise RequestRefusedError(TOO_MANY_ENTRIES)
    if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
        raise RequestRefusedError(TOO_LARGE)


def entry_size(entry: Mapping[str, Any]) -> int:
    """The entry's size as EventBridge calculates it (see the module's docstring)."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for field in _REQUIRED:
        value = entry.get(field)
        if isinstance(value, str):
            size += _java_utf8_length(value)
    for resource in entry.get("Resources") or ():
        if isinstance(resource, str):
            size += _java_utf8_length(resource)
    return size


def entry_error(entry: Mapping[str, Any]) -> tuple[dict[str, str] | None, dict[str, Any]]:
    """(the entry's error result, or None; its parsed ``Detail`` when it has no error)."""
    for field in _REQUIRED:
        if not entry.get(field):
            return {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": f"Parameter {field} is not valid. Reason: {field} is a required argument.",
            }, {}
    detail = parse_detail(entry["Detail"])
    if detail is None:
        return dict(MALFORMED_DETAIL), {}
    return None, detail


def parse_detail(text: str) -> dict[str, Any] | None:
    """The ``Detail`` as a JSON object, or None when EventBridge would call it malformed."""
    if _may_nest_deeper(text) and _depth(text) > MAX_DETAIL_DEPTH:
        return None
    try:
        detail = json.loads(text, parse_constant=_not_json, parse_int=_int64)
    except (ValueError, RecursionError):
        return None
    return detail if isinstance(detail, dict) else None


def _java_utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "replace"))  # an unpaired surrogate: one "?", as in Java


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _int64(literal: str) -> int:
    value = int(literal)
    if value not in _INT64:
        raise ValueError(f"{literal} is not a 64-bit integer")
    return value


def _may_nest_deeper(text: str) -> bool:
    """Whether the text holds enough brackets to nest past the limit (cheap: most details hold few)."""
    return text.count("[") + text.count("{") > MAX_DETAIL_DEPTH


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
