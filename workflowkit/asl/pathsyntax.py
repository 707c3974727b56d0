"""The grammar of a JSONPath as Step Functions reads it: Jayway JsonPath's, the library its paths follow.

``parse_path(text)`` turns ``$...``, ``$$...`` or (inside a filter) ``@...`` into its root and a tuple of
tokens: ``.name`` / ``['name']`` / ``["name"]`` (with Jayway's backslash escapes), ``['a','b']``, ``[n]``,
``[n,m]``, ``[from:to]``, ``*`` / ``[*]``, ``..`` (deep scan, applied to the token after it) and filters
``[?(...)]``. Functions (``.length()``) are not supported by Step Functions and are refused, as are the
forms Jayway itself refuses (a slice without bounds, a name with a blank, a path ending in ``.``).
Each token renders as Jayway renders it, so that error messages name the path the way AWS's do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from workflowkit.asl.errors import PathSyntaxError

_INT32: Final = 2**31


@dataclass(frozen=True, slots=True)
class Prop:
    """One member name, or several (a leaf ``['a','b']`` merges them into one object)."""

    names: tuple[str, ...]

    def fragment(self) -> str:
        return "[" + ",".join(f"'{name}'" for name in self.names) + "]"


@dataclass(frozen=True, slots=True)
class Index:
    indexes: tuple[int, ...]

    def fragment(self) -> str:
        return "[" + ",".join(str(index) for index in self.indexes) + "]"


@dataclass(frozen=True, slots=True)
class Slice:
    """``[from:to]``; Jayway reads no step (``[0:4:2]`` is ``[0:4]``)."""

    start: int | None
    stop: int | None

    def fragment(self) -> str:
        return f"[{'' if self.start is None else self.start}:{'' if self.stop is None else self.stop}]"


@dataclass(frozen=True, slots=True)
class Wild:
    def fragment(self) -> str:
        return "[*]"


@dataclass(frozen=True, slots=True)
class Scan:
    def fragment(self) -> str:
        return ".."


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(...)]``: ``test(item, root)`` is the compiled predicate."""

    test: Callable[[Any, Any], bool]
    text: str

    def fragment(self) -> str:
        return "[?]"


Token = Prop | Index | Slice | Wild | Scan | Filter
FilterCompiler = Callable[[str, str], Callable[[Any, Any], bool]]  # (criteria, whole path) -> predicate


def is_definite(token: Token, leaf: bool) -> bool:
    """Jayway's ``isTokenDefinite``: one name or index (or a leaf multi-name merge) selects one node."""
    if isinstance(token, Prop):
        return len(token.names) == 1 or leaf
    return isinstance(token, Index) and len(token.indexes) == 1


def render(root: str, tokens: tuple[Token, ...]) -> str:
    return root + "".join(token.fragment() for token in tokens)


def parse_path(text: str, compile_filter: FilterCompiler) -> tuple[str, tuple[Token, ...]]:
    """The root (``$``, ``$$`` or ``@``) and the tokens of a path; PathSyntaxError if it does not parse."""
    if text.startswith("$$"):
        root = "$$"
    elif text[:1] in ("$", "@"):
        root = text[0]
    else:
        raise PathSyntaxError(f"a path must start with '$', got {text!r}")
    if text.endswith("."):
        raise PathSyntaxError(f"a path must not end with '.' or '..' ({text!r})")
    return root, tuple(_Reader(text, len(root), compile_filter).tokens())


class _Reader:
    def __init__(self, text: str, position: int, compile_filter: FilterCompiler) -> None:
        self.text = text
        self.position = position
        self.compile_filter = compile_filter
        self.out: list[Token] = []

    def fail(self, message: str) -> PathSyntaxError:
        return PathSyntaxError(f"{message} at offset {self.position} in path {self.text!r}")

    def tokens(self) -> list[Token]:
        while self.position < len(self.text):
            self.next_token()
        return self.out

    def next_token(self) -> None:
        char = self.text[self.position]
        if char == "[":
            self.bracket()
        elif char == ".":
            self.dot()
        elif char == "*":
            self.position += 1
            self.out.append(Wild())
        else:
            self.name()

    def dot(self) -> None:
        if self.text.startswith("..", self.position):
            self.out.append(Scan())
            self.position += 2
        else:
            self.position += 1
        if self.position >= len(self.text):
            raise self.fail("a path must not end with '.'")
        if self.text[self.position] == ".":
            raise self.fail("unexpected '.'")
        self.next_token()

    def name(self) -> None:
        start = self.position
        while self.position < len(self.text) and self.text[self.position] not in ".[":
            char = self.text[self.position]
            if char == " ":
                raise self.fail("use bracket notation ['my prop'] for a name with blanks")
            if char == "(":
                raise self.fail("path functions such as length() are not supported by Step Functions")
            self.position += 1
        if self.position == start:
            raise self.fail("empty member name")
        self.out.append(Prop((self.text[start : self.position],)))

    def significant(self, position: int) -> int:
        while position < len(self.text) and self.text[position] == " ":
            position += 1
        return position

    def bracket(self) -> None:
        inner = self.significant(self.position + 1)
        char = self.text[inner] if inner < len(self.text) else ""
        if char in ("'", '"'):
            self.quoted_names(inner, char)
        elif char == "*":
            close = self.significant(inner + 1)
            if close >= len(self.text) or self.text[close] != "]":
                raise self.fail("expected ']' after '[*'")
            self.out.append(Wild())
            self.position = close + 1
        elif char == "?":
            self.filter(inner)
        elif char.isdigit() or char in "-:":
            self.array()
        else:
            raise self.fail("expected ', \", a number, ':', '*' or '?' after '['")

    def quoted_names(self, start: int, quote: str) -> None:
        names: list[str] = []
        position = start
        while True:
            # Jayway: a backslash escapes the next character; only the opening quote character closes.
            end = position + 1
            while end < len(self.text) and self.text[end] != quote:
                end += 2 if self.text[end] == "\\" else 1
            if end >= len(self.text):
                raise self.fail(f"a quoted name is not closed with {quote}")
            names.append(unescape(self.text[position + 1 : end]))
            following = self.significant(end + 1)
            char = self.text[following] if following < len(self.text) else ""
            if char == "]":
                self.position = following + 1
                self.out.append(Prop(tuple(names)))
                return
            if char != ",":
                raise self.fail("quoted names must be separated by ',' and closed with ']'")
            position = self.significant(following + 1)
            if position >= len(self.text) or self.text[position] != quote:
                raise self.fail(f"expected a name quoted with {quote} after ','")

    def array(self) -> None:
        close = self.text.find("]", self.position)
        if close < 0:
            raise self.fail("'[' is not closed")
        body = self.text[self.position + 1 : close].strip()
        if any(not (char.isdigit() or char in ",-: ") for char in body):
            raise self.fail(f"bad array subscript [{body}]")
        if ":" in body:
            self.out.append(self.slice(body))
        else:
            self.out.append(Index(tuple(self.integer(part.strip(), body) for part in body.split(","))))
        self.position = close + 1

    def slice(self, body: str) -> Slice:
        if any(not (char.isdigit() or char in "-:") for char in body):
            raise self.fail(f"bad slice [{body}]")
        parts = body.split(":")
        while parts and parts[-1] == "":  # Java's String.split drops trailing empty strings
            parts.pop()
        bounds = [self.integer(part, body) if part else None for part in parts[:2]]
        bounds += [None] * (2 - len(bounds))
        if bounds[0] is None and bounds[1] is None:
            raise self.fail(f"a slice needs a start or an end: [{body}]")
        return Slice(bounds[0], bounds[1])

    def integer(self, text: str, body: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise self.fail(f"bad array subscript [{body}]") from None
        if not -_INT32 <= value < _INT32:
            raise self.fail(f"array subscript out of range [{body}]")
        return value

    def filter(self, question: int) -> None:
        opening = self.significant(question + 1)
        if opening >= len(self.text) or self.text[opening] != "(":
            raise self.fail("expected '(' after '[?'")
        closing = closing_parenthesis(self.text, opening)
        if closing < 0:
            raise self.fail("a filter's '(' is not closed")
        end = self.significant(closing + 1)
        if end >= len(self.text) or self.text[end] != "]":
            raise self.fail("expected ']' after a filter")
        criteria = self.text[opening : closing + 1]
        self.out.append(Filter(self.compile_filter(criteria, self.text), criteria))
        self.position = end + 1


def closing_parenthesis(text: str, opening: int) -> int:
    """The index of the ``)`` closing ``text[opening]``, skipping quoted strings and /regex/ literals."""
    depth = 0
    position = opening
    while position < len(text):
        char = text[position]
        if char in ("'", '"', "/"):
            position = _skip_literal(text, position)
            if position < 0:
                return -1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return -1


def _skip_literal(text: str, start: int) -> int:
    quote = text[start]
    position = start + 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == quote:
            return position
        position += 1
    return -1


_ESCAPES: Final = {"\\": "\\", "'": "'", '"': '"', "r": "\r", "f": "\f", "t": "\t", "n": "\n", "b": "\b"}


def unescape(text: str) -> str:
    """Jayway's ``Utils.unescape``: Java escapes and ``\\uXXXX``; another escaped character is itself."""
    if "\\" not in text:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        if index + 1 >= len(text):
            out.append("\\")  # a trailing backslash is kept
            break
        following = text[index + 1]
        if following == "u":
            digits = text[index + 2 : index + 6]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                raise PathSyntaxError(f"bad unicode escape \\u{digits} in {text!r}") from None
            index += 6
            continue
        out.append(_ESCAPES.get(following, following))
        index += 2
    return "".join(out)
