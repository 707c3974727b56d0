"""Numbers as EventBridge compares them: ``numeric`` ranges, numeric equality, numeric ``anything-but``.

EventBridge turns a number into a fixed-point "comparable" form before it compares it (event-ruler's
``ComparableNumber``): only values between -5.0e9 and +5.0e9 with at most six decimals have one. So

* in a pattern, a ``numeric`` bound or an ``anything-but`` number outside that range or with more decimals
  is refused, with event-ruler's words;
* a plain number in a pattern (``[300]``) matches numerically when it has a comparable form (``300`` matches
  ``300.0``, recorded against AWS) and otherwise only its own spelling;
* an event number without a comparable form (``6e9``, ``0.1234567``) satisfies no ``numeric`` range and
  equals only a pattern number spelled the same way.

Sources: event-ruler ``ComparableNumber`` / ``Range`` / ``JsonRuleCompiler.processNumericMatchExpression``;
the EventBridge user guide ("limited to values between -5.0e9 and +5.0e9 inclusive ... six digits to the
right of the decimal point").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from workflowkit.patterns.errors import InvalidEventPatternError
from workflowkit.patterns.objects import members

__all__ = ["comparable", "compile_numeric", "is_number", "pattern_comparable", "token_text"]

LIMIT = 5.0e9
DECIMALS = 6
Predicate = Callable[[float], bool]

# Messages of event-ruler's ComparableNumber (FIVE_BILLION is the double 5E9, printed by Java as 5.0E9).
OUT_OF_RANGE = "Value must be between -5.0E9 and 5.0E9, inclusive"
TOO_PRECISE = "Only values upto 6 decimals are supported"


def is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def comparable(value: Any) -> float | None:
    """An event number's comparable form, or None when EventBridge has none for it (or it is no number)."""
    kind = type(value)
    if kind is int:
        return float(value) if -LIMIT <= value <= LIMIT else None
    # round() to six places leaves a float alone exactly when its shortest spelling has <= 6 decimals.
    if kind is float and -LIMIT <= value <= LIMIT and round(value, DECIMALS) == value:
        return float(value)
    return None


def pattern_comparable(value: int | float, path: str) -> float:
    """A pattern number's comparable form; refused as event-ruler refuses it (decimals first, then range)."""
    if type(value) is float and math.isfinite(value) and round(value, DECIMALS) != value:
        raise InvalidEventPatternError(TOO_PRECISE, path)
    if not -LIMIT <= value <= LIMIT:
        raise InvalidEventPatternError(OUT_OF_RANGE, path)
    return float(value)


def token_text(value: Any) -> str:
    """What Jackson's ``getText()`` shows for a token, as event-ruler quotes it in its messages."""
    if isinstance(value, str):
        return value
    if members(value) is not None:
        return "{"
    if isinstance(value, list):
        return "["
    return json.dumps(value)


_END = object()  # the end of the operand array (Jackson's END_ARRAY, shown as "]")


def compile_numeric(operand: Any, path: str) -> Predicate:
    """``{"numeric": [...]}``: one comparison, or a lower then an upper bound; refused as event-ruler does."""
    if not isinstance(operand, list):
        raise InvalidEventPatternError("Value of numeric must be an array.", path)
    tokens = iter(operand)

    def take() -> Any:
        return next(tokens, _END)

    def fail(reason: str) -> InvalidEventPatternError:
        return InvalidEventPatternError(reason, path)

    operator = take()
    if not isinstance(operator, str):
        raise fail(f"Invalid member in numeric match: {']' if operator is _END else token_text(operator)}")
    value = take()
    if operator == "=":
        if not is_number(value):
            raise fail("Value of equals must be numeric")
        if take() is not _END:
            raise fail("Too many elements in numeric expression")
        target = pattern_comparable(value, path)
        return lambda number: number == target
    if operator in ("<", "<="):
        if not is_number(value):
            raise fail(f"Value of {operator} must be numeric")
        if take() is not _END:
            raise fail("Too many elements in numeric expression")
        top = pattern_comparable(value, path)
        return (lambda number: number < top) if operator == "<" else (lambda number: number <= top)
    if operator not in (">", ">="):
        raise fail(f"Unrecognized numeric range operator: {operator}")
    if not is_number(value):
        raise fail(f"Value of {operator} must be numeric")
    upper_operator = take()
    if upper_operator is _END:
        bottom = pattern_comparable(value, path)
        return (lambda number: number > bottom) if operator == ">" else (lambda number: number >= bottom)
    if not isinstance(upper_operator, str):
        raise fail(f"Bad value in numeric range: {token_text(upper_operator)}")
    if upper_operator not in ("<", "<="):
        raise fail(f"Bad numeric range operator: {upper_operator}")
    upper = take()
    if not is_number(upper):
        raise fail(f"Value of {upper_operator} must be numeric")
    if take() is not _END:
        raise fail("Too many terms in numeric range expression")
    low, high = pattern_comparable(value, path), pattern_comparable(upper, path)
    if not low < high:
        raise fail("Bottom must be less than top")
    if operator == ">":
        if upper_operator == "<":
            return lambda number: low < number < high
        return lambda number: low < number <= high
    if upper_operator == "<":
        return lambda number: low <= number < high
    return lambda number: low <= number <= high
