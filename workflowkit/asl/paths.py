"""JSONPath as ASL uses it, compiled once at parse time.

Supported: ``$`` and ``$$`` (the context object) roots, ``.name``, ``['name']`` / ``["name"]``, ``[n]``
(negative counts from the end), ``[*]`` / ``.*``, ``[a,b]`` unions of names or indexes, ``[start:end:step]``
slices and ``..name`` / ``..*`` recursive descent. Filters (``[?(...)]``) and functions (``.length()``) are
rejected at parse time. A *reference path* (ResultPath, ItemsPath, the ``*Path`` fields) may only use
names and indexes, so it identifies one node.

A definite path (names and indexes only) yields its one value or raises ``PathNotFoundError``; an indefinite
one yields the list of its matches (Jayway JsonPath's behaviour, which Step Functions uses).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Final, Protocol

from workflowkit.asl.errors import PathNotFoundError, PathSyntaxError


class Scope(Protocol):
    """What evaluating a path, template or intrinsic function may need besides the document."""

    def context_object(self) -> Any: ...

    @property
    def random(self) -> random.Random: ...


# Steps of a parsed path: ("key", name) | ("index", n) | ("wild",) | ("slice", start, stop, step)
# | ("union", (name-or-index, ...)) | ("descend", name-or-None)
_Step = tuple[Any, ...]


def _identity(document: Any) -> Any:
    return document


class JsonPath:
    """A compiled path. ``select(document, scope)`` applies it to the document, or to ``$$`` for context."""

    __slots__ = ("_prefix", "_rest", "context", "definite", "get", "steps", "text")

    def __init__(self, text: str, context: bool, steps: tuple[_Step, ...]) -> None:
        self.text = text
        self.context = context
        self.steps = steps
        self.definite = all(step[0] in ("key", "index") for step in steps)
        # Like Jayway, a missing name before the first wildcard is an error; after it, just no match.
        split = next((i for i, step in enumerate(steps) if step[0] not in ("key", "index")), len(steps))
        self._prefix = _definite_getter(text, steps[:split])
        self._rest = steps[split:]
        self.get: Callable[[Any], Any] = self._prefix if self.definite else self._collect

    def select(self, document: Any, scope: Scope) -> Any:
        return self.get(scope.context_object() if self.context else document)

    def _collect(self, document: Any) -> list[Any]:
        nodes = [self._prefix(document)]
        for step in self._rest:
            found: list[Any] = []
            for node in nodes:
                _apply(step, node, found)
            nodes = found
        return nodes

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _definite_getter(text: str, steps: tuple[_Step, ...]) -> Callable[[Any], Any]:
    if not steps:
        return _identity
    if all(step[0] == "key" for step in steps):
        keys = tuple(step[1] for step in steps)

        def get_keys(document: Any) -> Any:
            # Indexing a list or a string by a name raises TypeError, so one try covers every mismatch.
            try:
                for key in keys:
                    document = document[key]
            except (KeyError, TypeError):
                raise PathNotFoundError(text) from None
            return document

        return get_keys

    def get_mixed(document: Any) -> Any:
        for kind, arg in steps:
            if kind == "key":
                if not isinstance(document, dict) or arg not in document:
                    raise PathNotFoundError(text)
                document = document[arg]
            else:
                if not isinstance(document, list) or not -len(document) <= arg < len(document):
                    raise PathNotFoundError(text)
                document = document[arg]
        return document

    return get_mixed


def _apply(step: _Step, node: Any, found: list[Any]) -> None:
    kind = step[0]
    if kind == "key":
        if isinstance(node, dict) and step[1] in node:
            found.append(node[step[1]])
    elif kind == "index":
        if isinstance(node, list) and -len(node) <= step[1] < len(node):
            found.append(node[step[1]])
    elif kind == "wild":
        if isinstance(node, dict):
            found.extend(node.values())
        elif isinstance(node, list):
            found.extend(node)
    elif kind == "slice":
        if isinstance(node, list):
            found.extend(node[slice(step[1], step[2], step[3])])
    elif kind == "union":
        for member in step[1]:
            _apply(("index" if isinstance(member, int) else "key", member), node, found)
    else:  # descend: the named member of this node and of every node below it, in document sequence
        _descend(step[1], node, found)


def _descend(name: str | None, node: Any, found: list[Any]) -> None:
    if isinstance(node, dict):
        children: Any = node.values()
        if name is not None and name in node:
            found.append(node[name])
    elif isinstance(node, list):
        children = node
    else:
        return
    for child in children:
        if name is None:
            found.append(child)
        _descend(name, child, found)


# --- parsing --------------------------------------------------------------------------------------


def compile_path(text: Any) -> JsonPath:
    """Any supported JSONPath (``$...`` or ``$$...``)."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"a path must be a string starting with '$', got {text!r}")
    context = text.startswith("$$")
    return JsonPath(text, context, tuple(_parse_steps(text, 2 if context else 1)))


def compile_reference_path(text: Any) -> JsonPath:
    """A reference path: names and indexes only, so it identifies a single node."""
    path = compile_path(text)
    if not path.definite:
        raise PathSyntaxError(
            f"{text!r} is not a reference path (only names and indexes: no wildcards, slices, unions, '..')"
        )
    return path


_NAME_END: Final = frozenset(".[]")


def _parse_steps(text: str, index: int) -> list[_Step]:
    steps: list[_Step] = []
    end = len(text)
    while index < end:
        char = text[index]
        if char == ".":
            if text.startswith("..", index):
                index += 2
                if index < end and text[index] == "*":
                    steps.append(("descend", None))
                    index += 1
                    continue
                name, index = _read_name(text, index)
                steps.append(("descend", name))
                continue
            index += 1
            if index < end and text[index] == "*":
                steps.append(("wild",))
                index += 1
                continue
            name, index = _read_name(text, index)
            steps.append(("key", name))
        elif char == "[":
            close = _bracket_end(text, index)
            steps.append(_parse_bracket(text, text[index + 1 : close].strip()))
            index = close + 1
        else:
            raise PathSyntaxError(f"unexpected {char!r} at offset {index} in path {text!r}")
    return steps


def _read_name(text: str, index: int) -> tuple[str, int]:
    start = index
    while index < len(text) and text[index] not in _NAME_END:
        index += 1
    name = text[start:index]
    if not name:
        raise PathSyntaxError(f"empty member name at offset {start} in path {text!r}")
    if name.endswith(")"):
        raise PathSyntaxError(f"path functions such as {name!r} are not supported (in {text!r})")
    return name, index


def _bracket_end(text: str, index: int) -> int:
    quote = None
    position = index + 1
    while position < len(text):
        char = text[position]
        if quote is not None:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "]":
            return position
        position += 1
    raise PathSyntaxError(f"unclosed '[' at offset {index} in path {text!r}")


def _parse_bracket(text: str, body: str) -> _Step:
    if body == "*":
        return ("wild",)
    if body.startswith("?"):
        raise PathSyntaxError(f"JSONPath filter expressions are not supported (in {text!r})")
    members = [_parse_member(text, part.strip()) for part in _split_members(body)]
    if len(members) > 1:
        return ("union", tuple(members))
    member = members[0]
    if isinstance(member, slice):
        return ("slice", member.start, member.stop, member.step)
    return ("index", member) if isinstance(member, int) else ("key", member)


def _split_members(body: str) -> list[str]:
    parts: list[str] = []
    quote = None
    current: list[str] = []
    escaped = False
    for char in body:
        if quote is not None:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _parse_member(text: str, part: str) -> str | int | slice:
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
        return _unquote(part[1:-1])
    if ":" in part:
        bounds = part.split(":")
        if len(bounds) > 3:
            raise PathSyntaxError(f"bad slice [{part}] in path {text!r}")
        try:
            values = [int(bound) if bound.strip() else None for bound in bounds]
        except ValueError:
            raise PathSyntaxError(f"bad slice [{part}] in path {text!r}") from None
        if len(values) == 3 and values[2] == 0:
            raise PathSyntaxError(f"slice step 0 in path {text!r}")
        return slice(*values)
    try:
        return int(part)
    except ValueError:
        raise PathSyntaxError(f"bad subscript [{part}] in path {text!r}") from None


def _unquote(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            index += 1
            char = body[index]
        out.append(char)
        index += 1
    return "".join(out)


# --- ResultPath: writing into a document -----------------------------------------------------------


class ResultPath:
    """A reference path that places a result into the state's raw input, copying on the way down."""

    __slots__ = ("keys", "text")

    def __init__(self, path: JsonPath) -> None:
        if path.context:
            raise PathSyntaxError("a ResultPath cannot point into the context object ($$)")
        if not path.definite:
            raise PathSyntaxError(f"{path.text!r} is not a reference path")
        self.text = path.text
        self.keys: tuple[str | int, ...] = tuple(step[1] for step in path.steps)

    def put(self, document: Any, value: Any) -> Any:
        """The document with ``value`` at this path; raises ValueError when the path cannot apply."""
        if not self.keys:
            return value
        return self._put(document, 0, value)

    def _put(self, node: Any, depth: int, value: Any) -> Any:
        key = self.keys[depth]
        last = depth == len(self.keys) - 1
        if isinstance(key, str):
            if not isinstance(node, dict):
                raise ValueError(f"cannot set {key!r} on a {_json_type(node)}")
            copy = dict(node)
            # A missing intermediate object is created, as Step Functions does for "$.a.b" on {}.
            copy[key] = value if last else self._put(node.get(key, {}), depth + 1, value)
            return copy
        if not isinstance(node, list) or not -len(node) <= key < len(node):
            raise ValueError(f"no element [{key}] in a {_json_type(node)}")
        items = list(node)
        items[key] = value if last else self._put(node[key], depth + 1, value)
        return items


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
