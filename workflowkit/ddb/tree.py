"""The immutable trees the expression parser produces (evaluation lives in conditions.py/updates.py).

Operands and conditions are frozen dataclasses. A path keeps its placeholders unresolved: a str element
starting with "#" is a placeholder (a bare name can never start with "#"), an int is a list index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PathElements = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class PathOperand:
    elements: PathElements


@dataclass(frozen=True, slots=True)
class ValueOperand:
    placeholder: str


@dataclass(frozen=True, slots=True)
class SizeOperand:
    path: PathOperand


@dataclass(frozen=True, slots=True)
class IfNotExists:
    path: PathOperand
    default: Any  # an update operand


@dataclass(frozen=True, slots=True)
class ListAppend:
    first: Any
    second: Any


@dataclass(frozen=True, slots=True)
class Arithmetic:
    operator: str  # "+" or "-"
    left: Any
    right: Any


Operand = PathOperand | ValueOperand | SizeOperand


@dataclass(frozen=True, slots=True)
class Comparison:
    operator: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    arguments: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Or:
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Not:
    condition: Any


Condition = Comparison | Between | In | Function | And | Or | Not


@dataclass(frozen=True, slots=True)
class UpdateAction:
    clause: str  # SET, REMOVE, ADD, DELETE
    path: PathOperand
    value: Any  # SET: an update operand; ADD/DELETE: a ValueOperand; REMOVE: None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed expression plus the placeholders it uses (checked against the request's maps)."""

    label: str
    text: str
    root: Any
    names: frozenset[str]
    values: frozenset[str]
    # (kind, operator-or-function, placeholders...) for checks DynamoDB makes on the :values' types
    # before evaluating anything, e.g. ``a < :v`` with :v a map, or BETWEEN bounds reversed.
    value_checks: tuple[tuple[str, ...], ...] = ()
    # The top-level attribute (a name or a #placeholder) of every path, e.g. to keep key attributes out
    # of a Query's FilterExpression.
    roots: frozenset[str] = frozenset()
