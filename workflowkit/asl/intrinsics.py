"""Intrinsic functions (``States.Format(...)`` and friends): parsed once, evaluated per use.

An expression compiles to an evaluator ``(document, scope) -> value``. Argument paths read the document
(or ``$$``, the context object). A failure at run time (a wrong argument type, a path that matches
nothing) raises ``ExecutionError("States.Runtime", ...)``, which the payload layer decorates with the field.
Randomness (UUID, MathRandom without a seed) comes from the runtime's seeded ``random.Random``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from workflowkit.asl.errors import PathSyntaxError, runtime_error
from workflowkit.asl.functions import FUNCTIONS, kind
from workflowkit.asl.paths import Scope, compile_path
from workflowkit.asl.values import is_number, java_text, parse_json

Evaluator = Callable[[Any, Scope], Any]

_MAX_NESTING: Final = 10  # "You can nest up to 10 intrinsic functions within a field"


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.")


class _Literal:
    """A string literal of an invocation, kept with its ``{}`` placeholders (for States.Format)."""

    __slots__ = ("pieces", "value")

    def __init__(self, value: str, pieces: list[str] | None) -> None:
        self.value = value
        self.pieces = pieces  # text around unescaped "{}", or None when a "{"/"}" stands alone


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0

    def error(self, message: str) -> PathSyntaxError:
        return PathSyntaxError(f"{message} at offset {self.index} in {self.text!r}")

    def skip_space(self) -> None:
        while self.index < len(self.text) and self.text[self.index].isspace():
            self.index += 1

    def call(self, depth: int) -> Evaluator:
        if depth > _MAX_NESTING:
            raise self.error(f"more than {_MAX_NESTING} nested intrinsic functions")
        start = self.index
        while self.index < len(self.text) and (
            self.text[self.index].isalnum() or self.text[self.index] in "._"
        ):
            self.index += 1
        name = self.text[start : self.index]
        if name not in FUNCTIONS:
            raise PathSyntaxError(f"unknown intrinsic function {name!r} in {self.text!r}")
        self.skip_space()
        if self.index >= len(self.text) or self.text[self.index] != "(":
            raise self.error(f"expected '(' after {name}")
        self.index += 1
        args: list[Evaluator | _Literal | Any] = []
        self.skip_space()
        if self.index < len(self.text) and self.text[self.index] == ")":
            self.index += 1
        else:
            while True:
                self.skip_space()
                args.append(self.argument(depth))
                self.skip_space()
                if self.index >= len(self.text):
                    raise self.error(f"unclosed call of {name}")
                char = self.text[self.index]
                self.index += 1
                if char == ")":
                    break
                if char != ",":
                    raise self.error(f"expected ',' or ')' in the arguments of {name}")
        return _bind(name, args, self.text)

    def argument(self, depth: int) -> Evaluator | _Literal | Any:
        text = self.text
        if text.startswith("States.", self.index):
            return self.call(depth + 1)
        char = text[self.index] if self.index < len(text) else ""
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        start = self.index
        while self.index < len(text) and text[self.index] not in ",)" and not text[self.index].isspace():
            self.index += 1
        token = text[start : self.index]
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        try:
            number = parse_json(token)  # NaN, Infinity and 1e400 are not number literals
        except ValueError:
            number = None
        if not is_number(number):
            self.index = start
            raise self.error(f"bad argument {token!r}")
        return number

    def string(self) -> _Literal:
        text = self.text
        self.index += 1
        chars: list[str] = []
        pieces: list[str] | None = []
        current: list[str] = []
        while True:
            if self.index >= len(text):
                raise self.error("unterminated string literal")
            char = text[self.index]
            if char == "\\":
                following = text[self.index + 1 : self.index + 2]
                if following not in ("'", "{", "}", "\\"):
                    raise self.error("open escape '\\' in a string literal (escape it as '\\\\')")
                chars.append(following)
                current.append(following)
                self.index += 2
                continue
            if char == "'":
                self.index += 1
                break
            if char == "{" and text.startswith("{}", self.index):
                chars.append("{}")
                if pieces is not None:
                    pieces.append("".join(current))
                current = []
                self.index += 2
                continue
            if char in "{}":
                pieces = None  # a reserved character that was not escaped: not a valid Format template
            chars.append(char)
            current.append(char)
            self.index += 1
        if pieces is not None:
            pieces.append("".join(current))
        return _Literal("".join(chars), pieces)

    def path(self) -> Evaluator:
        text = self.text
        start = self.index
        depth = 0
        quote = None
        while self.index < len(text):
            char = text[self.index]
            if quote is not None:
                if char == "\\":
                    self.index += 1  # an escaped character inside a quoted name (Jayway's escapes)
                elif char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
            elif depth == 0 and (char in ",)" or char.isspace()):
                break
            self.index += 1
        compiled = compile_path(text[start : self.index])

        def read(document: Any, scope: Scope) -> Any:
            return compiled.select(document, scope)

        return read


def compile_intrinsic(text: str) -> Evaluator:
    parser = _Parser(text)
    evaluator = parser.call(1)
    parser.skip_space()
    if parser.index != len(text):
        raise parser.error("unexpected text after the intrinsic function")
    return evaluator


# --- binding arguments to functions -----------------------------------------------------------


def _bind(name: str, raw_args: list[Any], text: str) -> Evaluator:
    low, high, function = FUNCTIONS[name]
    if not low <= len(raw_args) <= high:
        expected = str(low) if low == high else f"{low} to {high if high < 99 else 'any number of'}"
        raise PathSyntaxError(f"{name} takes {expected} arguments, got {len(raw_args)} (in {text!r})")
    if name == "States.Format":
        return _bind_format(raw_args, text)
    args = [_as_evaluator(arg) for arg in raw_args]

    def call(document: Any, scope: Scope) -> Any:
        return function([arg(document, scope) for arg in args], scope)

    return call


def _as_evaluator(arg: Any) -> Evaluator:
    if callable(arg):
        return arg  # type: ignore[no-any-return]
    value = arg.value if isinstance(arg, _Literal) else arg
    return lambda _document, _scope: value


def _bind_format(raw_args: list[Any], text: str) -> Evaluator:
    template = raw_args[0]
    values = [_as_evaluator(arg) for arg in raw_args[1:]]
    if isinstance(template, _Literal):
        if template.pieces is None:
            raise PathSyntaxError(f"unescaped '{{' or '}}' in the States.Format template of {text!r}")
        pieces = template.pieces
        if len(pieces) - 1 != len(values):
            raise PathSyntaxError(
                f"States.Format has {len(pieces) - 1} placeholders but {len(values)} values (in {text!r})"
            )
        head, tail = pieces[0], pieces[1:]

        def formatted(document: Any, scope: Scope) -> str:
            out = [head]
            for value, piece in zip(values, tail, strict=True):
                out.append(_format_value(value(document, scope)))
                out.append(piece)
            return "".join(out)

        return formatted
    if not callable(template):
        raise PathSyntaxError(f"the first argument of States.Format must be a string (in {text!r})")

    def formatted_dynamic(document: Any, scope: Scope) -> str:
        source = template(document, scope)
        if not isinstance(source, str):
            raise runtime_error(f"States.Format: the template must be a string, got {kind(source)}")
        parts = source.split("{}")
        if len(parts) - 1 != len(values):
            raise runtime_error(
                f"States.Format: the template has {len(parts) - 1} placeholders for {len(values)} values"
            )
        out = [parts[0]]
        for value, piece in zip(values, parts[1:], strict=True):
            out.append(_format_value(value(document, scope)))
            out.append(piece)
        return "".join(out)

    return formatted_dynamic


def _format_value(value: Any) -> str:
    # AWS interpolates each value as Java's toString writes it: an object as {Arg1=1, Arg2=[]}, an array
    # as [a, b], a double as Double.toString does (localstack's AWS-recorded test_generic snapshot).
    return java_text(value)
