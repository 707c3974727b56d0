"""Matching a compiled rule against an event, the way EventBridge walks an event (event-ruler ``ACFinder``).

* A field is named by its keys joined with dots, arrays adding nothing: ``{"a": {"b": 1}}``,
  ``{"a.b": 1}`` and ``{"a": [{"b": 1}]}`` all hold a field ``a.b`` (EventBridge user guide, "uses dot (.)
  as the joining character"; AWS recordings ``dot_joining_event``/``dot_joining_pattern``). A pattern name
  is looked up along every split of its dotted segments into event keys.
* Only leaves are fields: an object is not, an empty array holds none, an array holds one per element.
* Array consistency: the fields that satisfy one rule may not come from different elements of one array
  (event-ruler README, "JSON Array Matching").
* A rule's fields are visited in name sequence, and ``exists: false`` asks whether the field is absent *among
  the fields consistent with the elements chosen so far* - event-ruler's ``getNameTransitions``. So
  ``{"items": {"b": [{"exists": false}]}}`` does not match ``{"items": [{"a": 1}, {"b": 2}]}``: ``items.b``
  exists in the event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Membership", "Step", "rule_matcher"]

# The array elements a field sits in: (id of the array, index), outermost first.
Membership = tuple[tuple[int, int], ...]
# A field's leaf values, and their memberships when any sits under an array of objects (else None).
Found = tuple[Sequence[Any], Sequence[Membership] | None]
Lookup = Callable[[dict[str, Any]], Found]
Test = Callable[[Any], bool]
# One field of a rule: (name, leaf test or None when only exists: false is listed, absent_ok).
Step = tuple[str, Test | None, bool]
# A step's quick verdict on an event: True/False, or None when an array of objects (or a dotted key that
# spells part of the name) lies on the field's path and the array-consistent search must decide.
Check = Callable[[dict[str, Any]], bool | None]

_MISSING: Any = object()


def rule_matcher(steps: tuple[Step, ...]) -> Callable[[dict[str, Any]], bool]:
    """One rule (one $or branch), its steps sorted by field name."""
    checks = tuple(_check(name, test, absent_ok) for name, test, absent_ok in steps)
    searched = tuple((_lookup(name), test, absent_ok) for name, test, absent_ok in steps)

    if len(checks) == 1:
        (only,) = checks

        def match_one(event: dict[str, Any]) -> bool:
            verdict = only(event)
            return _search(event, searched, 0, (), {}) if verdict is None else verdict

        return match_one

    def match(event: dict[str, Any]) -> bool:
        for check in checks:
            verdict = check(event)
            if verdict is None:  # the steps before gave no membership: the search may start at this one
                return _search(event, searched, checks.index(check), (), {})
            if not verdict:
                return False
        return True

    return match


def _judge(value: Any, test: Test | None, absent_ok: bool) -> bool:
    """A field's verdict on the value its name leads to (no array of objects on the way)."""
    kind = type(value)
    if value is _MISSING or kind is dict:  # an object is no leaf: for the pattern the field is absent
        return absent_ok
    if kind is list:
        leaves: list[Any] = []
        _leaves(value, leaves)
        if not leaves:
            return absent_ok
        if test is None:
            return False
        for leaf in leaves:  # noqa: SIM110 - a plain loop is faster than any() on this hot path
            if test(leaf):
                return True
        return False
    return test is not None and test(value)


def _check(name: str, test: Test | None, absent_ok: bool) -> Check:
    segments = name.split(".")
    if len(segments) == 1:
        if test is not None and not absent_ok:

            def check_key(event: dict[str, Any]) -> bool | None:
                value = event.get(name, _MISSING)
                kind = type(value)
                if kind is not list and kind is not dict and value is not _MISSING:
                    return test(value)  # the usual case: one leaf
                return _judge(value, test, absent_ok)

            return check_key
        return lambda event: _judge(event.get(name, _MISSING), test, absent_ok)

    # Each segment a key of its own; a dotted key spelling several segments sends us to the full search.
    head = [(segments[start], _spellings(segments, start)) for start in range(len(segments) - 1)]
    last = segments[-1]

    def check_path(event: dict[str, Any]) -> bool | None:
        node: Any = event
        for key, dotted in head:
            for spelling in dotted:
                if spelling in node:
                    return None
            node = node.get(key, _MISSING)
            if type(node) is not dict:
                if type(node) is list:
                    return None
                return absent_ok  # missing, or a leaf where the name goes on: no such field
        value = node.get(last, _MISSING)
        kind = type(value)
        if test is not None and kind is not list and kind is not dict and value is not _MISSING:
            return test(value)  # the usual case: one leaf
        return _judge(value, test, absent_ok)

    return check_path


def _spellings(segments: list[str], start: int) -> tuple[str, ...]:
    """The dotted event keys that spell segments[start] and more (``a.b``, ``a.b.c`` for ``a``)."""
    return tuple(".".join(segments[start:end]) for end in range(start + 2, len(segments) + 1))


def _lookup(name: str) -> Lookup:
    """Every leaf of the field ``name`` in an event, every dotted spelling of it, with memberships."""
    segments = name.split(".")
    count = len(segments)
    # For each position: the event keys that spell the next segments, and where each leaves us.
    keys = [
        [(".".join(segments[start:end]), end) for end in range(start + 1, count + 1)]
        for start in range(count)
    ]
    last, last_key = count - 1, segments[-1]

    def lookup(event: dict[str, Any]) -> Found:
        values: list[Any] = []
        memberships: list[Membership] = []
        deep = False
        # (node, position in segments, membership); a node is an object, or an array crossed on the way.
        pending: list[tuple[Any, int, Membership]] = [(event, 0, ())]
        while pending:
            node, start, membership = pending.pop()
            if type(node) is list:
                identity = id(node)
                for index, item in enumerate(node):
                    kind = type(item)
                    if kind is dict and start == last:  # the usual array of objects: read their leaf
                        value = item.get(last_key, _MISSING)
                        if value is not _MISSING:
                            _collect(value, (*membership, (identity, index)), values, memberships)
                    elif kind is dict or kind is list:
                        pending.append((item, start, (*membership, (identity, index))))
                continue
            for key, end in keys[start]:
                value = node.get(key, _MISSING)
                if value is _MISSING:
                    continue
                kind = type(value)
                if end < count:
                    if kind is dict:
                        pending.append((value, end, membership))
                    elif kind is list:
                        pending.append((value, end, membership))
                        deep = True
                else:
                    _collect(value, membership, values, memberships)
        return values, (memberships if deep else None)

    return lookup


def _collect(value: Any, membership: Membership, values: list[Any], memberships: list[Membership]) -> None:
    """The leaves a field's name leads to, each with the membership of where the name led."""
    kind = type(value)
    if kind is list:
        before = len(values)
        _leaves(value, values)
        memberships.extend([membership] * (len(values) - before))
    elif kind is not dict:
        values.append(value)
        memberships.append(membership)


def _leaves(value: Any, out: list[Any]) -> None:
    """The leaves of a value at the end of a field's name: itself, or an array's (nested) scalar elements.

    No membership is kept for them: every element of such an array belongs to the same single field.
    """
    kind = type(value)
    if kind is list:
        for item in value:
            _leaves(item, out)
    elif kind is not dict:
        out.append(value)


SearchStep = tuple[Lookup, Test | None, bool]


def _search(event: dict[str, Any], steps: tuple[SearchStep, ...], position: int, membership: Membership,
            found: dict[int, Found]) -> bool:  # fmt: skip
    """Can steps[position:] be satisfied by fields consistent with ``membership`` (and with each other)?"""
    if position == len(steps):
        return True
    lookup, test, absent_ok = steps[position]
    got = found.get(position)
    if got is None:
        got = found[position] = lookup(event)
    values, memberships = got
    following = position + 1
    if memberships is None:  # no array of objects on this field's path: any leaf will do
        if not values:
            return absent_ok and _search(event, steps, following, membership, found)
        if test is not None:
            for value in values:
                if test(value):
                    return _search(event, steps, following, membership, found)
        return False
    consistent = False
    tried: set[Membership] = set()
    for value, own in zip(values, memberships, strict=True):
        if membership and own and not _consistent(membership, own):
            continue
        consistent = True
        if test is None or own in tried or not test(value):
            continue
        tried.add(own)
        if _search(event, steps, following, _join(membership, own), found):
            return True
    # exists: false - absent among the fields consistent with the elements chosen so far (ruler ACFinder)
    return absent_ok and not consistent and _search(event, steps, following, membership, found)


def _consistent(chosen: Membership, candidate: Membership) -> bool:
    for array, index in candidate:
        for chosen_array, chosen_index in chosen:
            if array == chosen_array and index != chosen_index:
                return False
    return True


def _join(chosen: Membership, candidate: Membership) -> Membership:
    if not chosen:
        return candidate
    return chosen + tuple(element for element in candidate if element not in chosen)
