"""Document paths (``a.b[2].c``): reading, copy-on-write setting and removing, projection, overlaps.

A resolved path is a tuple of attribute names (str) and list indexes (int). Writes copy only the
containers along the path and share everything else, because stored values are never mutated.
"""

from __future__ import annotations

from typing import Any

from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.values import Item, Value, copy_value

Path = tuple[str | int, ...]

INVALID_DOCUMENT_PATH = "The document path provided in the update expression is invalid for update"


def get(item: Item, path: Path) -> Value | None:
    first = path[0]
    assert isinstance(first, str)
    value: Value | None = item.get(first)
    for element in path[1:]:
        if value is None:
            return None
        if type(element) is int:
            elements = value.get("L")
            if elements is None or element >= len(elements):
                return None
            value = elements[element]
        else:
            members = value.get("M")
            if members is None:
                return None
            value = members.get(element)
    return value


def set_value(item: Item, path: Path, value: Value) -> None:
    """Set ``path`` in ``item`` (a fresh top-level dict owned by the caller), copying nested containers."""
    name = path[0]
    assert isinstance(name, str)
    if len(path) == 1:
        item[name] = value
        return
    top = item.get(name)
    if top is None:
        raise ValidationException(INVALID_DOCUMENT_PATH)
    item[name] = _set_in(top, path, 1, value)


def _set_in(container: Value, path: Path, position: int, value: Value) -> Value:
    element = path[position]
    last = position == len(path) - 1
    if type(element) is int:
        elements = container.get("L")
        if elements is None:
            raise ValidationException(INVALID_DOCUMENT_PATH)
        copied = list(elements)
        if last:
            if element >= len(copied):
                copied.append(value)  # DynamoDB appends when the index is past the end
            else:
                copied[element] = value
        else:
            if element >= len(copied):
                raise ValidationException(INVALID_DOCUMENT_PATH)
            copied[element] = _set_in(copied[element], path, position + 1, value)
        return {"L": tuple(copied)}
    members = container.get("M")
    if members is None:
        raise ValidationException(INVALID_DOCUMENT_PATH)
    copied_members = dict(members)
    if last:
        copied_members[element] = value
    else:
        child = members.get(element)
        if child is None:
            raise ValidationException(INVALID_DOCUMENT_PATH)
        copied_members[element] = _set_in(child, path, position + 1, value)
    return {"M": copied_members}


def remove(item: Item, path: Path) -> None:
    """Remove ``path``; a missing path (or one through a missing container) is a no-op, as in DynamoDB."""
    name = path[0]
    assert isinstance(name, str)
    if len(path) == 1:
        item.pop(name, None)
        return
    top = item.get(name)
    if top is None:
        return
    replaced = _remove_in(top, path, 1)
    if replaced is not None:
        item[name] = replaced


def _remove_in(container: Value, path: Path, position: int) -> Value | None:
    """The container with the path removed, or None when there was nothing to remove."""
    element = path[position]
    last = position == len(path) - 1
    if type(element) is int:
        elements = container.get("L")
        if elements is None or element >= len(elements):
            return None
        copied = list(elements)
        if last:
            del copied[element]
        else:
            child = _remove_in(copied[element], path, position + 1)
            if child is None:
                return None
            copied[element] = child
        return {"L": tuple(copied)}
    members = container.get("M")
    if members is None or element not in members:
        return None
    copied_members = dict(members)
    if last:
        del copied_members[element]
    else:
        child = _remove_in(members[element], path, position + 1)
        if child is None:
            return None
        copied_members[element] = child
    return {"M": copied_members}


def project(item: Item, paths: list[Path]) -> Item:
    """A copy of ``item`` holding only ``paths`` (list elements keep their relative positions, compacted)."""
    tree: dict[Any, Any] = {}
    for path in paths:
        node = tree
        for element in path[:-1]:
            child = node.get(element)
            if child is True:
                break  # a shorter path already takes the whole value
            node = node.setdefault(element, {})
        else:
            node[path[-1]] = True
    projected: Item = {}
    for name, subtree in tree.items():
        value = item.get(name)
        if value is None:
            continue
        kept = copy_value(value) if subtree is True else _project_value(value, subtree)
        if kept is not None:
            projected[name] = kept
    return projected


def _project_value(value: Value, tree: dict[Any, Any]) -> Value | None:
    if "M" in value:
        members = value["M"]
        kept_members: dict[str, Value] = {}
        for name, subtree in tree.items():
            if type(name) is not str or name not in members:
                continue
            kept = copy_value(members[name]) if subtree is True else _project_value(members[name], subtree)
            if kept is not None:
                kept_members[name] = kept
        return {"M": kept_members} if kept_members else None
    if "L" in value:
        elements = value["L"]
        kept_elements: list[Value] = []
        for index in sorted(key for key in tree if type(key) is int):
            if index >= len(elements):
                continue
            subtree = tree[index]
            kept = (
                copy_value(elements[index]) if subtree is True else _project_value(elements[index], subtree)
            )
            if kept is not None:
                kept_elements.append(kept)
        return {"L": kept_elements} if kept_elements else None
    return None


def describe(path: Path) -> str:
    """How DynamoDB prints a path in messages: ``[a, b, [0]]``."""
    return "[" + ", ".join(f"[{element}]" if type(element) is int else str(element) for element in path) + "]"


def check_overlaps(paths: list[Path], label: str) -> None:
    """DynamoDB rejects two paths where one contains the other, or that disagree on a container's type."""
    for index, first in enumerate(paths):
        for second in paths[index + 1 :]:
            for a, b in zip(first, second, strict=False):
                if a == b and type(a) is type(b):
                    continue
                if type(a) is not type(b):
                    raise ValidationException(
                        f"Invalid {label}: Two document paths conflict with each other; must remove or "
                        f"rewrite one of these paths; path one: {describe(first)}, path two: "
                        f"{describe(second)}"
                    )
                break
            else:
                raise ValidationException(
                    f"Invalid {label}: Two document paths overlap with each other; must remove or "
                    f"rewrite one of these paths; path one: {describe(first)}, path two: {describe(second)}"
                )
