"""Expression parsing: condition, filter, key-condition, update and projection expressions.

Each expression string is tokenized and parsed once into an immutable tree (``functools.lru_cache``);
ExpressionAttributeNames/Values are only bound when the tree is evaluated, so one parsed expression
serves every request that repeats it. The tree records which #names and :values it uses, so a request
can be checked for undefined or unused placeholders without walking it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.reserved import RESERVED_WORDS
from workflowkit.ddb.tree import (
    And,
    Arithmetic,
    Between,
    Comparison,
    Condition,
    Function,
    IfNotExists,
    In,
    ListAppend,
    Not,
    Operand,
    Or,
    Parsed,
    PathOperand,
    SizeOperand,
    UpdateAction,
    ValueOperand,
)

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<attr>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<number>[0-9]+)|(?P<op><>|<=|>=|[()\[\],.=<>+\-]))"
)
COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
_ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, attr, value, number, op, eof
    text: str
    position: int


def tokenize(text: str, label: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while True:
        while position < length and text[position].isspace():
            position += 1
        if position >= length:
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            near = text[max(0, position - 4) : position + 4]
            raise ValidationException(
                f'Invalid {label}: Syntax error; token: "{text[position]}", near: "{near}"'
            )
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(Token("eof", "<EOF>", length))
    return tokens


class _Parser:
    def __init__(self, text: str, label: str) -> None:
        self.text = text
        self.label = label
        self.tokens = tokenize(text, label)
        self.index = 0
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.value_checks: list[tuple[str, ...]] = []
        self.roots: set[str] = set()

    # token helpers
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_op(self, text: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == "op" and token.text == text

    def at_keyword(self, word: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == "name" and token.text.upper() == word

    def expect_op(self, text: str) -> None:
        if not self.at_op(text):
            raise self.syntax_error()
        self.index += 1

    def syntax_error(self) -> ValidationException:
        token = self.peek()
        start = self.tokens[max(0, self.index - 1)].position
        near = (
            self.text[start : token.position + len(token.text)] if token.kind != "eof" else self.text[start:]
        )
        return ValidationException(
            f'Invalid {self.label}: Syntax error; token: "{token.text}", near: "{near.strip()}"'
        )

    def error(self, message: str) -> ValidationException:
        return ValidationException(f"Invalid {self.label}: {message}")

    def finish(self, root: Any) -> Parsed:
        if self.peek().kind != "eof":
            raise self.syntax_error()
        return Parsed(
            self.label,
            self.text,
            root,
            frozenset(self.names),
            frozenset(self.values),
            tuple(self.value_checks),
            frozenset(self.roots),
        )

    # paths and operands
    def path(self) -> PathOperand:
        root = self.path_name()
        self.roots.add(root)
        elements: list[str | int] = [root]
        while True:
            if self.at_op("."):
                self.index += 1
                elements.append(self.path_name())
            elif self.at_op("["):
                self.index += 1
                token = self.advance()
                if token.kind != "number":
                    self.index -= 1
                    raise self.syntax_error()
                self.expect_op("]")
                elements.append(int(token.text))
            else:
                return PathOperand(tuple(elements))

    def path_name(self) -> str:
        token = self.advance()
        if token.kind == "attr":
            self.names.add(token.text)
            return token.text
        if token.kind == "name":
            if token.text.upper() in RESERVED_WORDS:
                raise self.error(f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
            return token.text
        self.index -= 1
        raise self.syntax_error()

    def value(self) -> ValueOperand:
        token = self.advance()
        if token.kind != "value":
            self.index -= 1
            raise self.syntax_error()
        self.values.add(token.text)
        return ValueOperand(token.text)

    def function_name(self, allowed: frozenset[str]) -> str:
        token = self.advance()
        if token.text not in _ARITY:
            raise self.error(f"Invalid function name; function: {token.text}")
        if token.text not in allowed:
            raise self.error(
                f"The function is not allowed to be used this way in an expression; function: {token.text}"
            )
        return token.text

    def arguments(self, function: str, parse_one: Any) -> tuple[Any, ...]:
        self.expect_op("(")
        arguments = [parse_one()]
        while self.at_op(","):
            self.index += 1
            arguments.append(parse_one())
        self.expect_op(")")
        if len(arguments) != _ARITY[function]:
            raise self.error(
                f"Incorrect number of operands for operator or function; operator or function: {function}, "
                f"number of operands: {len(arguments)}"
            )
        return tuple(arguments)

    def is_call(self) -> bool:
        return self.peek().kind == "name" and self.peek(1).kind == "op" and self.peek(1).text == "("

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind == "value":
            return self.value()
        if self.is_call():
            name = self.function_name(frozenset({"size"}))
            (argument,) = self.arguments(name, self.operand)
            if not isinstance(argument, PathOperand):
                raise self.error(
                    "Incorrect operand type for operator or function; operator or function: size, "
                    f"operand type: {'M' if isinstance(argument, SizeOperand) else 'value'}"
                )
            return SizeOperand(argument)
        if token.kind in ("name", "attr"):
            return self.path()
        raise self.syntax_error()

    # conditions
    def condition(self) -> Condition:
        left = self.conjunction()
        while self.at_keyword("OR"):
            self.index += 1
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.at_keyword("AND"):
            self.index += 1
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.at_keyword("NOT"):
            self.index += 1
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Condition:
        if self.at_op("("):
            self.index += 1
            inner = self.condition()
            self.expect_op(")")
            return inner
        if self.is_call() and self.peek().text != "size":
            name = self.function_name(CONDITION_FUNCTIONS)
            arguments = self.arguments(name, self.operand)
            if not isinstance(arguments[0], PathOperand):
                raise self.error(
                    f"Incorrect operand type for operator or function; operator or function: {name}, "
                    "operand type: value"
                )
            if isinstance(arguments[-1], ValueOperand) and name in ("attribute_type", "begins_with"):
                self.value_checks.append((name, name, arguments[-1].placeholder))
            return Function(name, arguments)
        left = self.operand()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARATORS:
            self.index += 1
            right = self.operand()
            if token.text not in ("=", "<>"):
                for side in (left, right):
                    if isinstance(side, ValueOperand):
                        self.value_checks.append(("compare", token.text, side.placeholder))
            return Comparison(token.text, left, right)
        if self.at_keyword("BETWEEN"):
            self.index += 1
            low = self.operand()
            if not self.at_keyword("AND"):
                raise self.syntax_error()
            self.index += 1
            high = self.operand()
            if isinstance(low, ValueOperand) and isinstance(high, ValueOperand):
                self.value_checks.append(("between", "BETWEEN", low.placeholder, high.placeholder))
            return Between(left, low, high)
        if self.at_keyword("IN"):
            self.index += 1
            options = self.arguments_list()
            return In(left, options)
        if isinstance(left, SizeOperand) and token.kind == "eof":
            raise self.error(
                "The function is not allowed to be used this way in an expression; function: size"
            )
        raise self.syntax_error()

    def arguments_list(self) -> tuple[Operand, ...]:
        self.expect_op("(")
        options = [self.operand()]
        while self.at_op(","):
            self.index += 1
            options.append(self.operand())
        self.expect_op(")")
        if len(options) > 100:
            raise self.error(
                "The IN operator is provided with too many operands; number of operands: " + str(len(options))
            )
        return tuple(options)

    # updates
    def update(self) -> tuple[UpdateAction, ...]:
        actions: list[UpdateAction] = []
        seen: set[str] = set()
        if self.peek().kind == "eof":
            raise self.syntax_error()
        while self.peek().kind != "eof":
            token = self.peek()
            clause = token.text.upper() if token.kind == "name" else ""
            if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.syntax_error()
            if clause in seen:
                raise self.error(f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            self.index += 1
            actions.append(self.update_action(clause))
            while self.at_op(","):
                self.index += 1
                actions.append(self.update_action(clause))
        return tuple(actions)

    def update_action(self, clause: str) -> UpdateAction:
        path = self.path()
        if clause == "REMOVE":
            return UpdateAction(clause, path, None)
        if clause == "SET":
            self.expect_op("=")
            value = self.update_operand()
            if self.peek().kind == "op" and self.peek().text in ("+", "-"):
                operator = self.advance().text
                value = Arithmetic(operator, value, self.update_operand())
            return UpdateAction(clause, path, value)
        return UpdateAction(clause, path, self.value())

    def update_operand(self) -> Any:
        token = self.peek()
        if token.kind == "value":
            return self.value()
        if self.is_call():
            name = self.function_name(UPDATE_FUNCTIONS)
            arguments = self.arguments(name, self.update_operand)
            if name == "if_not_exists":
                if not isinstance(arguments[0], PathOperand):
                    raise self.error(
                        "Operator or function requires a document path; operator or function: if_not_exists"
                    )
                return IfNotExists(arguments[0], arguments[1])
            return ListAppend(arguments[0], arguments[1])
        if token.kind in ("name", "attr"):
            return self.path()
        raise self.syntax_error()

    # projections
    def projection(self) -> tuple[PathOperand, ...]:
        paths = [self.path()]
        while self.at_op(","):
            self.index += 1
            paths.append(self.path())
        return tuple(paths)


@lru_cache(maxsize=2048)
def parse_condition(text: str, label: str = "ConditionExpression") -> Parsed:
    parser = _Parser(text, label)
    if parser.peek().kind == "eof":
        raise ValidationException(f"Invalid {label}: The expression can not be empty;")
    return parser.finish(parser.condition())


@lru_cache(maxsize=2048)
def parse_update(text: str) -> Parsed:
    parser = _Parser(text, "UpdateExpression")
    return parser.finish(parser.update())


@lru_cache(maxsize=1024)
def parse_projection(text: str) -> Parsed:
    parser = _Parser(text, "ProjectionExpression")
    if parser.peek().kind == "eof":
        raise ValidationException("Invalid ProjectionExpression: The expression can not be empty;")
    return parser.finish(parser.projection())
