"""JSONPath filter expressions (``[?(@.price > 10)]``), compiled and evaluated as Jayway JsonPath does.

Step Functions evaluates its paths with Jayway JsonPath, so a filter behaves as Jayway's ``FilterCompiler``
and ``EvaluatorFactory`` make it behave, quirks included:

- operands are ``@...`` (the item) and ``$...`` (the document) paths, 'single' or "double" quoted strings,
  numbers, ``true``/``false``/``null``, JSON arrays and objects, and ``/regex/flags``;
- ``&&`` binds tighter than ``||``; ``!`` negates an operand; a path alone tests that it exists;
- ``==`` compares a number and a string by value (``1 == '1'``); ``<``/``>`` only compare two numbers or
  two strings (anything else is false); a missing member equals nothing, so ``!=`` holds for it;
- ``in``/``nin``/``subsetof``/``anyof``/``noneof``/``contains``/``size``/``empty``/``=~`` as Jayway
  defines them.

A filter that does not parse raises PathSyntaxError (the definition is refused); evaluating one never
raises anything but ``FilterError`` (the path engine turns it into the state's failure).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, Protocol

from workflowkit.asl.errors import PathSyntaxError
from workflowkit.asl.pathsyntax import unescape
from workflowkit.asl.values import java_compare

Predicate = Callable[[Any, Any], bool]  # (item, document root) -> accepted


class FilterError(Exception):
    """A filter that parsed but cannot be applied to these values (Jayway's InvalidPathException)."""


class Operand(Protocol):
    """A path inside a filter, as the path engine compiles it."""

    def read(self, item: Any, root: Any) -> tuple[bool, Any]: ...  # (found, value)

    def exists(self, item: Any, root: Any) -> bool: ...


# A value node: (kind, value). Kinds follow Jayway's ValueNode classes.
NUM, STR, BOOL, NULL, JSON, UNDEF, PATTERN = "num", "str", "bool", "null", "json", "undef", "pattern"
_Node = tuple[str, Any]
_UNDEFINED: Final[_Node] = (UNDEF, None)
_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_OPERATOR_CHARS: Final = frozenset("<>=~!")
_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def node_of(value: Any) -> _Node:
    """The value node Jayway makes of a document value."""
    if value is None:
        return (NULL, None)
    if isinstance(value, bool):
        return (BOOL, value)
    if isinstance(value, (int, float)):
        return (NUM, Decimal(repr(value)))
    if isinstance(value, str):
        return (STR, value)
    return (JSON, value)


def compile_filter(criteria: str, whole: str, compile_operand: Callable[[str], Operand]) -> Predicate:
    """``criteria`` is the parenthesised expression of ``[?(...)]``; ``whole`` the path, for messages."""
    parser = _Parser(criteria, whole, compile_operand)
    predicate = parser.logical_or()
    parser.skip()
    if parser.position < len(criteria):
        raise parser.fail(f"expected the end of the filter instead of {criteria[parser.position :]!r}")
    return predicate


_Value = Callable[[Any, Any], _Node]


class _Path:
    """A path operand: its value node, and whether it was written ``!@.x`` (an existence test negated)."""

    __slots__ = ("operand", "should_exist")

    def __init__(self, operand: Operand, should_exist: bool) -> None:
        self.operand = operand
        self.should_exist = should_exist

    def __call__(self, item: Any, root: Any) -> _Node:
        found, value = self.operand.read(item, root)
        return node_of(value) if found else _UNDEFINED


class _Parser:
    def __init__(self, text: str, whole: str, compile_operand: Callable[[str], Operand]) -> None:
        self.text = text
        self.whole = whole
        self.compile_operand = compile_operand
        self.position = 0

    def fail(self, message: str) -> PathSyntaxError:
        return PathSyntaxError(f"{message} (filter {self.text!r} in path {self.whole!r})")

    def skip(self) -> None:
        while self.position < len(self.text) and self.text[self.position] == " ":
            self.position += 1

    def char(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def logical_or(self) -> Predicate:
        operands = [self.logical_and()]
        while True:
            self.skip()
            if not self.text.startswith("||", self.position):
                break
            self.position += 2
            operands.append(self.logical_and())
        if len(operands) == 1:
            return operands[0]
        return lambda item, root: any(operand(item, root) for operand in operands)

    def logical_and(self) -> Predicate:
        operands = [self.and_operand()]
        while True:
            self.skip()
            if not self.text.startswith("&&", self.position):
                break
            self.position += 2
            operands.append(self.and_operand())
        if len(operands) == 1:
            return operands[0]
        return lambda item, root: all(operand(item, root) for operand in operands)

    def and_operand(self) -> Predicate:
        save = self.position
        self.skip()
        if self.char() == "!":
            self.position += 1
            self.skip()
            if self.char() in ("$", "@"):
                self.position = save  # "!@.x" is a negated existence test, read as a path
            else:
                inner = self.and_operand()
                return lambda item, root: not inner(item, root)
        self.skip()
        if self.char() == "(":
            self.position += 1
            inner = self.logical_or()
            self.skip()
            if self.char() != ")":
                raise self.fail("expected ')'")
            self.position += 1
            return inner
        return self.relation()

    def relation(self) -> Predicate:
        left = self.value()
        save = self.position
        operator = self.operator()
        if operator is not None:
            try:
                right = self.value()
            except PathSyntaxError:
                right = None
            if right is not None:
                return _relation(left, operator, right)
        self.position = save
        if not isinstance(left, _Path):
            raise self.fail("a literal alone is not a condition")
        operand, should_exist = left.operand, left.should_exist
        return lambda item, root: operand.exists(item, root) is should_exist

    def operator(self) -> str | None:
        self.skip()
        start = self.position
        if self.char() in _OPERATOR_CHARS:
            while self.char() and self.char() in _OPERATOR_CHARS:
                self.position += 1
        else:
            while self.char() and self.char() != " ":
                self.position += 1
        word = self.text[start : self.position].lower()
        return word if word in _EVALUATORS else None

    def value(self) -> _Value | _Path:
        self.skip()
        char = self.char()
        if char in ("$", "@"):
            return self.path(negated=False)
        if char == "!":
            self.position += 1
            self.skip()
            if self.char() not in ("$", "@"):
                raise self.fail("unexpected '!'")
            return self.path(negated=True)
        node = self.literal()
        return lambda _item, _root: node

    def path(self, *, negated: bool) -> _Path:
        start = self.position
        self.position += 1
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "[":
                close = _closing_bracket(self.text, self.position)
                if close < 0:
                    raise self.fail("square brackets do not match")
                self.position = close + 1
                continue
            if char in _OPERATOR_CHARS or char in " )":
                break
            self.position += 1
        return _Path(self.compile_operand(self.text[start : self.position]), not negated)

    def literal(self) -> _Node:
        char = self.char()
        if char in ("'", '"'):
            end = self.position + 1
            while end < len(self.text) and self.text[end] != char:
                end += 2 if self.text[end] == "\\" else 1
            if end >= len(self.text):
                raise self.fail("a string literal is not closed")
            node: _Node = (STR, unescape(self.text[self.position + 1 : end]))
            self.position = end + 1
            return node
        for word, word_node in (("true", (BOOL, True)), ("false", (BOOL, False)), ("null", (NULL, None))):
            if self.text.startswith(word, self.position):
                self.position += len(word)
                return word_node
        if char in ("[", "{"):
            return self.json_literal()
        if char == "/":
            return self.pattern()
        start = self.position
        while self.char() and (self.char().isdigit() or self.char() in "-.eE"):
            self.position += 1
        text = self.text[start : self.position]
        if not _NUMBER.match(text):
            raise self.fail(f"expected a value at offset {start}")
        return (NUM, Decimal(text))

    def json_literal(self) -> _Node:
        close = _closing_bracket(self.text, self.position)
        if close < 0:
            raise self.fail("a JSON literal is not closed")
        try:
            value = json.loads(_single_quotes_to_json(self.text[self.position : close + 1]))
        except ValueError:
            raise self.fail("a JSON literal is not JSON") from None
        self.position = close + 1
        return (JSON, value)

    def pattern(self) -> _Node:
        end = self.position + 1
        while end < len(self.text) and self.text[end] != "/":
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.fail("a /regex/ is not closed")
        flags_end = end + 1
        while flags_end < len(self.text) and self.text[flags_end].isalpha():
            flags_end += 1
        flags = 0
        for flag in self.text[end + 1 : flags_end]:
            flags |= _FLAGS.get(flag, 0)
        try:
            compiled = re.compile(self.text[self.position + 1 : end], flags)
        except re.error as error:
            raise self.fail(f"bad regular expression: {error}") from None
        self.position = flags_end
        return (PATTERN, compiled)


def _single_quotes_to_json(text: str) -> str:
    """Jayway parses a JSON literal permissively: 'single-quoted' strings are strings too."""
    if "'" not in text:
        return text
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in ("'", '"'):
            end = position + 1
            while end < len(text) and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            body = text[position + 1 : end]
            out.append(json.dumps(unescape(body)) if char == "'" else f'"{body}"')
            position = end + 1
            continue
        out.append(char)
        position += 1
    return "".join(out)


def _closing_bracket(text: str, opening: int) -> int:
    pairs = {"[": "]", "{": "}"}
    stack: list[str] = []
    position = opening
    while position < len(text):
        char = text[position]
        if char in ("'", '"'):
            position += 1
            while position < len(text) and text[position] != char:
                position += 2 if text[position] == "\\" else 1
        elif char in pairs:
            stack.append(pairs[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return position
        position += 1
    return -1


def _relation(left: _Value | _Path, operator: str, right: _Value | _Path) -> Predicate:
    evaluate = _EVALUATORS[operator]
    return lambda item, root: evaluate(left(item, root), right(item, root))


# --- Jayway's evaluators -------------------------------------------------------------------------


def _as_number(node: _Node) -> Decimal | None:
    if node[0] == NUM:
        return node[1]  # type: ignore[no-any-return]
    if node[0] == STR and _NUMBER.match(node[1]):
        return Decimal(node[1])
    return None


def _as_string(node: _Node) -> str | None:
    if node[0] == STR:
        return node[1]  # type: ignore[no-any-return]
    if node[0] == NUM:
        return str(node[1])
    return None


def _same_json(left: Any, right: Any) -> bool:
    # Java's equals over the parsed values: true is not 1, and 1 (an Integer) is not 1.0 (a Double).
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same_json(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


def equals(left: _Node, right: _Node) -> bool:
    kind = left[0]
    if kind == JSON:
        return right[0] == JSON and _same_json(left[1], right[1])
    if kind == NUM:
        number = _as_number(right) if right[0] in (NUM, STR) else None
        return number is not None and left[1] == number
    if kind == STR:
        return right[0] in (STR, NUM) and left[1] == _as_string(right)
    if kind in (BOOL, NULL):
        return right[0] == kind and left[1] is right[1]
    if kind == PATTERN:
        return right[0] == PATTERN and left[1].pattern == right[1].pattern
    return False  # undefined equals nothing, itself included


def _ordered(relation: Callable[[int], bool]) -> Callable[[_Node, _Node], bool]:
    def evaluate(left: _Node, right: _Node) -> bool:
        if left[0] == NUM and right[0] == NUM:
            return relation((left[1] > right[1]) - (left[1] < right[1]))
        if left[0] == STR and right[0] == STR:
            return relation(java_compare(left[1], right[1]))
        return False

    return evaluate


def _value_list(node: _Node) -> list[_Node] | None:
    """Jayway's ``asValueListNode``: a JSON array's items; None for another JSON value."""
    if node[0] == JSON:
        return [node_of(item) for item in node[1]] if isinstance(node[1], list) else None
    raise FilterError("Expected value list node")


def _contains_node(nodes: list[_Node], wanted: _Node) -> bool:
    return any(equals(wanted, node) for node in nodes)


def _in(left: _Node, right: _Node) -> bool:
    nodes = _value_list(right)
    return nodes is not None and _contains_node(nodes, left)


def _set_relation(kind: str) -> Callable[[_Node, _Node], bool]:
    def evaluate(left: _Node, right: _Node) -> bool:
        right_nodes = _value_list(right)
        left_nodes = _value_list(left)
        if right_nodes is None or left_nodes is None:
            return False
        if kind == "subsetof":
            return all(_contains_node(right_nodes, node) for node in left_nodes)
        hit = any(_contains_node(right_nodes, node) for node in left_nodes)
        return hit if kind == "anyof" else not hit

    return evaluate


def _contains(left: _Node, right: _Node) -> bool:
    if left[0] == STR and right[0] == STR:
        return right[1] in left[1]
    if left[0] == JSON:
        nodes = _value_list(left)
        return nodes is not None and any(equals(right, node) for node in nodes)
    return False


def _java_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _size(left: _Node, right: _Node) -> bool:
    if right[0] != NUM:
        return False
    expected = int(right[1])
    if left[0] == STR:
        return _java_length(left[1]) == expected
    if left[0] == JSON:
        return len(left[1]) == expected
    return False


def _empty(left: _Node, right: _Node) -> bool:
    if right[0] != BOOL:
        raise FilterError("Expected boolean node")
    if left[0] == STR:
        return (len(left[1]) == 0) is right[1]
    if left[0] == JSON:
        return (len(left[1]) == 0) is right[1]
    return False


def _regex(left: _Node, right: _Node) -> bool:
    if (left[0] == PATTERN) == (right[0] == PATTERN):
        return False
    pattern, other = (left, right) if left[0] == PATTERN else (right, left)
    if other[0] in (STR, NUM):
        text = _as_string(other) or ""
    elif other[0] == BOOL:
        text = "true" if other[1] else "false"
    else:
        text = ""
    return pattern[1].fullmatch(text) is not None


_EVALUATORS: Final[dict[str, Callable[[_Node, _Node], bool]]] = {
    "==": equals,
    "!=": lambda left, right: not equals(left, right),
    "===": lambda left, right: left[0] == right[0] and equals(left, right),
    "!==": lambda left, right: not (left[0] == right[0] and equals(left, right)),
    "<": _ordered(lambda c: c < 0),
    "<=": _ordered(lambda c: c <= 0),
    ">": _ordered(lambda c: c > 0),
    ">=": _ordered(lambda c: c >= 0),
    "=~": _regex,
    "in": _in,
    "nin": lambda left, right: not _in(left, right),
    "subsetof": _set_relation("subsetof"),
    "anyof": _set_relation("anyof"),
    "noneof": _set_relation("noneof"),
    "contains": _contains,
    "size": _size,
    "empty": _empty,
}
