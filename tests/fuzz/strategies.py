"""Hypothesis strategies for hostile input: text, JSON and not-quite-JSON, and broken event contracts.

Text reaches every corner of Unicode the wire can carry, on purpose: NUL, other control characters,
lone surrogates (a JSON ``\\ud800`` escape decodes to one), characters outside the BMP. A *broken*
event is a real one (an event the consumer received in a reference run) with one change that its
documented JSON Schema (``EventCatalog.json_schemas``, the catalog docs) rules out, or with an
envelope no consumer can read (unknown detail-type, unknown schema version, wrong source, no JSON).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

# Characters chosen to break things: NUL and controls, a lone high and low surrogate, a BOM, the
# replacement character, a right-to-left override, an astral-plane emoji, a lone combining mark.
HOSTILE_CHARACTERS = (
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\ud800",
    "\udfff",
    "\ufeff",
    "\ufffd",
    "\u202e",
    "😀",
    "\u0301",
)

hostile_text = st.one_of(
    st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS), min_size=1, max_size=8),
    st.text(max_size=40),  # any code point, surrogates included
    st.builds(lambda a, b: a + b, st.text(max_size=10), st.sampled_from(HOSTILE_CHARACTERS)),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past int64 too
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(hostile_text, children, max_size=4),
    ),
    max_leaves=12,
)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


# Text that is not JSON: truncated, wrong quotes, trailing garbage, bare words, JS constants.
not_json = st.one_of(
    st.sampled_from(
        [
            "",
            "{",
            "}",
            '{"a":}',
            "{'a': 1}",
            '{"a": 1,}',
            '{"a": 1} trailing',
            "undefined",
            "NaN",
            '{"a": NaN}',
            '{"a": Infinity}',
            '{"a": -Infinity}',
            "\ufeff{}",
            '{"a": "\\x41"}',
            '{"a": ' + "9" * 5_000 + "}",  # more digits than Python converts to an int
        ]
    ),
    st.builds(lambda value: json.dumps(value)[:-1], json_values).filter(lambda t: not _is_json(t)),
    hostile_text.filter(lambda t: not _is_json(t)),
)


def nested(depth: int) -> str:
    """A JSON text nested ``depth`` levels deep (arrays in objects in arrays...)."""
    return (
        '{"a":' * (depth // 2) + "[" * (depth - depth // 2) + "]" * (depth - depth // 2) + "}" * (depth // 2)
    )


deeply_nested = st.sampled_from([1_100, 5_000, 100_000]).map(nested)


def oversized(size: int) -> str:
    """A JSON object of about ``size`` bytes."""
    return json.dumps({"padding": "x" * max(0, size - 15)})


# --- broken events -------------------------------------------------------------------------------------
def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (keys and indexes), the value itself first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _other_kind(value: Any) -> Any:
    """A value of another JSON kind, one no lax validator turns back into ``value``'s kind."""
    if isinstance(value, dict):
        return ["not", "an", "object"]
    if isinstance(value, list):
        return {"not": "an array"}
    return {"unexpected": [value]}


@st.composite
def broken_detail(draw: st.DrawFn, detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` (an event's envelope) with one change somewhere in it: a member dropped, a member
    added, or a value replaced by one of another kind."""
    broken = copy.deepcopy(detail)
    paths = [p for p in _paths(broken) if p]
    path = draw(st.sampled_from(paths))
    parent = _get(broken, path[:-1])
    change = draw(st.sampled_from(["drop", "add", "retype"]))
    if change == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif change == "add" and isinstance(parent, dict):
        parent[draw(hostile_text.filter(lambda k: k not in parent))] = draw(json_values)
    else:
        parent[path[-1]] = _other_kind(parent[path[-1]])
    return broken
