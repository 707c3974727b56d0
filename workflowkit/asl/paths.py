"""JSONPath as Step Functions evaluates it, compiled once at parse time (the grammar: ``pathsyntax``).

Step Functions' paths "follow JsonPath syntax" (the Jayway library), and they evaluate as Jayway evaluates
them with its default options:

- a *definite* path (names and single indexes only) yields its one value, or fails: "No results for path:
  $['a']['b']" when the last member is absent, "Missing property in path $['a']" when one on the way is;
- an *indefinite* path (a wildcard, slice, union, ``..`` or filter) yields the list of its matches, in
  document sequence. Before its first indefinite step Jayway is strict, after it lenient: a member or
  index missing below ``[*]`` is simply no match;
- Step Functions answers ``[]`` where Jayway's strict part reports a *missing member* (``$.items[*].id``
  or ``$.items[0:2]`` when ``items`` is absent), but still fails the state when a step meets a value of
  the wrong type (``$.items[0:2]`` when ``items`` is a string, ``$[1:]`` on an object). See decision 0032.

A failure raises ``PathMissError`` (a ``PathNotFoundError``) carrying Jayway's wording in ``reason``; callers
add the field and the state. A *reference path* (ResultPath) may only use names and single indexes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, Final, Protocol

from workflowkit.asl.errors import PathNotFoundError, PathSyntaxError
from workflowkit.asl.filters import FilterError, compile_filter
from workflowkit.asl.pathsyntax import (
    Filter,
    Index,
    Prop,
    Slice,
    Token,
    Wild,
    is_definite,
    parse_path,
    render,
)

_PROVIDER: Final = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider"


class Scope(Protocol):
    """What evaluating a path, template or intrinsic function may need besides the document."""

    def context_object(self) -> Any: ...

    @property
    def random(self) -> random.Random: ...


class PathMissError(PathNotFoundError):
    """A path that selects nothing. ``str()`` is the path; ``reason`` is Jayway's message; ``missing``
    tells an absent member (which an indefinite path forgives) from a value of the wrong type."""

    def __init__(self, path: str, reason: str, *, missing: bool) -> None:
        super().__init__(path)
        self.path = path
        self.reason = reason
        self.missing = missing


class JsonPath:
    """A compiled path. ``get(document)`` applies it; ``select(document, scope)`` reads ``$$`` from scope."""

    __slots__ = ("_first_indefinite", "context", "definite", "get", "root", "text", "tokens")

    def __init__(self, text: str, root: str, tokens: tuple[Token, ...]) -> None:
        self.text = text
        self.root = root
        self.context = root == "$$"
        self.tokens = tokens
        last = len(tokens) - 1
        definite = [is_definite(token, index == last) for index, token in enumerate(tokens)]
        self.definite = all(definite)
        # Jayway is strict up to (and including) the first indefinite token: "upstream definite".
        self._first_indefinite = definite.index(False) if not self.definite else len(tokens)
        self.get: Callable[[Any], Any] = self._fast_getter() or (
            self._definite_get if self.definite else self._indefinite_get
        )

    def select(self, document: Any, scope: Scope) -> Any:
        return self.get(scope.context_object() if self.context else document)

    def matches(self, document: Any, root: Any, *, require: bool = False) -> list[Any]:
        """Every match, raising PathMissError where Jayway raises (``require``: an absent member anywhere)."""
        walker = _Walker(self, root, require)
        try:
            walker.step(0, document)
        except RecursionError:
            raise PathMissError(self.text, "the document is nested too deeply", missing=False) from None
        return walker.out

    def _definite_get(self, document: Any) -> Any:
        found = self.matches(document, document)
        if not found:
            raise PathMissError(self.text, f"No results for path: {render('$', self.tokens)}", missing=True)
        return found[0]

    def _indefinite_get(self, document: Any) -> Any:
        try:
            return self.matches(document, document)
        except PathMissError as miss:
            if miss.missing:
                return []  # Step Functions' leniency over Jayway: an absent member selects nothing
            raise

    def _fast_getter(self) -> Callable[[Any], Any] | None:
        # The hot path: names (and single indexes) only. Any miss re-runs the general walk for the message.
        if not self.tokens:
            return _identity
        if not all(type(t) in (Prop, Index) and len(_items(t)) == 1 for t in self.tokens):
            return None
        keys = tuple(_items(token)[0] for token in self.tokens)
        slow = self._definite_get
        if all(isinstance(key, str) for key in keys):

            def get_keys(document: Any) -> Any:
                node = document
                try:
                    for key in keys:
                        node = node[key]
                except (KeyError, TypeError, IndexError):
                    return slow(document)
                return node

            return get_keys

        def get_mixed(document: Any) -> Any:
            node = document
            for key in keys:
                if isinstance(key, str):
                    if not isinstance(node, dict) or key not in node:
                        return slow(document)
                elif not isinstance(node, list) or not -len(node) <= key < len(node):
                    return slow(document)
                node = node[key]
            return node

        return get_mixed

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _identity(document: Any) -> Any:
    return document


def _items(token: Token) -> tuple[Any, ...]:
    return token.names if isinstance(token, Prop) else token.indexes  # type: ignore[union-attr]


class _Walker:
    """One evaluation, token by token, as Jayway's PathToken.evaluate does it."""

    __slots__ = ("last", "out", "path", "require", "root", "strict_until", "tokens")

    def __init__(self, path: JsonPath, root: Any, require: bool) -> None:
        self.path = path
        self.tokens = path.tokens
        self.last = len(path.tokens) - 1
        self.strict_until = path._first_indefinite
        self.root = root
        self.require = require
        self.out: list[Any] = []

    def where(self, index: int) -> str:
        return render("$", self.tokens[:index])

    def type_error(self, reason: str) -> PathMissError:
        return PathMissError(self.path.text, reason, missing=False)

    def step(self, index: int, node: Any) -> None:
        if index > self.last:
            self.out.append(node)
            return
        token = self.tokens[index]
        strict = index <= self.strict_until
        kind = type(token)
        if kind is Prop:
            self.prop(index, token, node, strict)  # type: ignore[arg-type]
        elif kind is Index or kind is Slice:
            self.array(index, token, node, strict)  # type: ignore[arg-type]
        elif kind is Wild:
            children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
            for child in children:
                self.step(index + 1, child)
        elif kind is Filter:
            self.filter(index, token, node, strict)  # type: ignore[arg-type]
        else:
            self.scan(index, node)

    def prop(self, index: int, token: Prop, node: Any, strict: bool) -> None:
        if not isinstance(node, dict):
            if strict:
                raise self.type_error(
                    f"Expected to find an object with property {token.fragment()} in path "
                    f"{self.where(index)} but found '{_java_class(node)}'. This is not a json object "
                    f"according to the JsonProvider: '{_PROVIDER}'."
                )
            return
        leaf = index == self.last
        names = token.names
        if len(names) == 1:
            name = names[0]
            if name in node:
                self.step(index + 1, node[name])
            elif self.require or (strict and not leaf):
                where = self.where(index) + token.fragment()
                reason = f"No results for path: {where}" if leaf else f"Missing property in path {where}"
                raise PathMissError(self.path.text, reason, missing=True)
            return
        if self.require and not all(name in node for name in names):
            where = self.where(index) + token.fragment()
            raise PathMissError(self.path.text, f"Missing property in path {where}", missing=True)
        if leaf:  # Jayway merges a leaf ['a','b'] into one object of the members present
            self.out.append({name: node[name] for name in names if name in node})
            return
        for name in names:
            if name in node:
                self.step(index + 1, node[name])

    def array(self, index: int, token: Index | Slice, node: Any, strict: bool) -> None:
        if not isinstance(node, list):
            if strict:
                if node is None:
                    raise self.type_error(f"The path {self.where(index)} is null")
                raise self.type_error(
                    f"Filter: {render('', self.tokens[index:])} can only be applied to arrays. "
                    f"Current context is: {_java_text(node)}"
                )
            return
        length = len(node)
        positions = token.indexes if isinstance(token, Index) else _slice_positions(token, length)
        for position in positions:
            effective = position + length if position < 0 else position
            if 0 <= effective < length:  # Jayway skips an index out of bounds silently
                self.step(index + 1, node[effective])

    def filter(self, index: int, token: Filter, node: Any, strict: bool) -> None:
        test = token.test
        try:
            if isinstance(node, dict):
                if test(node, self.root):
                    self.step(index + 1, node)
            elif isinstance(node, list):
                for item in node:
                    if test(item, self.root):
                        self.step(index + 1, item)
            elif strict:
                raise self.type_error(
                    f"Filter: {render('', self.tokens[index:])} can not be applied to primitives. "
                    f"Current context is: {_java_text(node)}"
                )
        except FilterError as error:
            raise self.type_error(str(error)) from None

    def scan(self, index: int, node: Any) -> None:
        target = self.tokens[index + 1]
        leaf_target = index + 1 == self.last
        matches = _scan_predicate(target, index + 1 == self.last, self.root)

        def walk(current: Any) -> None:
            if isinstance(current, dict):
                if matches(current):
                    self.step(index + 1, current)
                for child in current.values():
                    if isinstance(child, (dict, list)):
                        walk(child)
            elif isinstance(current, list):
                if matches(current):
                    if leaf_target:
                        self.step(index + 1, current)
                    else:  # Jayway's ScanPathToken applies the token after the target to each item
                        for item in current:
                            self.step(index + 2, item)
                for item in current:
                    walk(item)

        try:
            walk(node)
        except FilterError as error:
            raise self.type_error(str(error)) from None


def _scan_predicate(target: Token, leaf: bool, root: Any) -> Callable[[Any], bool]:
    """Which nodes under ``..`` the token after it applies to (Jayway's ScanPathToken predicates)."""
    if isinstance(target, Prop):
        if not is_definite(target, leaf):
            return lambda node: isinstance(node, dict)
        names = target.names
        return lambda node: isinstance(node, dict) and all(name in node for name in names)
    if isinstance(target, (Index, Slice)):
        return lambda node: isinstance(node, list)
    if isinstance(target, Filter):
        test = target.test
        return lambda node: bool(test(node, root))
    return lambda _node: True


def _slice_positions(token: Slice, length: int) -> range:
    """The indexes Jayway's ArraySliceToken visits (negative ones count from the end when visited)."""
    start, stop = token.start, token.stop
    if length == 0:
        return range(0)
    if start is None:  # [:to]
        assert stop is not None  # the parser refuses a slice with neither bound
        return range(0, min(length, stop + length if stop < 0 else stop))
    if stop is None:  # [from:]
        return range(max(0, start + length if start < 0 else start), length)
    return range(start, min(length, stop))  # [from:to], bounds taken as written


def _java_class(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    return "net.minidev.json.JSONArray" if isinstance(value, list) else "net.minidev.json.JSONObject"


def _java_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- compiling ------------------------------------------------------------------------------------


class _FilterOperand:
    """A path inside a filter: ``@...`` reads the item, ``$...`` the document the outer path reads."""

    __slots__ = ("path",)

    def __init__(self, text: str) -> None:
        root, tokens = parse_path(text, _compile_filter)
        if root == "$$":
            raise PathSyntaxError(f"a filter cannot read the context object ({text!r})")
        self.path = JsonPath(text, root, tokens)

    def read(self, item: Any, root: Any) -> tuple[bool, Any]:
        path = self.path
        try:
            found = path.matches(item if path.root == "@" else root, root)
        except PathMissError:
            return False, None  # Jayway: a path that fails inside a filter is "undefined"
        if path.definite:
            return (True, found[0]) if found else (False, None)
        return True, found

    def exists(self, item: Any, root: Any) -> bool:
        path = self.path
        try:
            found = path.matches(item if path.root == "@" else root, root, require=True)
        except PathMissError:
            return False
        return bool(found) or not path.definite


def _compile_filter(criteria: str, whole: str) -> Callable[[Any, Any], bool]:
    return compile_filter(criteria, whole, _FilterOperand)


def compile_path(text: Any) -> JsonPath:
    """Any supported JSONPath (``$...`` or ``$$...``)."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"a path must be a string starting with '$', got {text!r}")
    root, tokens = parse_path(text, _compile_filter)
    return JsonPath(text, root, tokens)


def compile_reference_path(text: Any) -> JsonPath:
    """A reference path: names and single indexes only, so it identifies a single node."""
    path = compile_path(text)
    if not all(type(token) in (Prop, Index) and len(_items(token)) == 1 for token in path.tokens):
        raise PathSyntaxError(
            f"{text!r} is not a reference path (only names and indexes: no wildcards, slices, unions,"
            " filters, '..')"
        )
    return path


# --- ResultPath: writing into a document -----------------------------------------------------------


class ResultPath:
    """A reference path that places a result into the state's raw input, copying on the way down."""

    __slots__ = ("keys", "text")

    def __init__(self, path: JsonPath) -> None:
        if path.context:
            raise PathSyntaxError("a ResultPath cannot point into the context object ($$)")
        if not all(type(token) in (Prop, Index) and len(_items(token)) == 1 for token in path.tokens):
            raise PathSyntaxError(f"{path.text!r} is not a reference path")
        self.text = path.text
        self.keys: tuple[str | int, ...] = tuple(_items(token)[0] for token in path.tokens)

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
