"""The Condition element, compiled once into a list of checks.

Rules, all from the IAM User Guide:

- *Condition*: "Condition key *names* are not case-sensitive" while the case-sensitivity of values
  "depends on the condition operator".
- *Conditions with multiple context keys or values*: several operators are ANDed, several keys under one
  operator are ANDed, "If a single condition operator includes multiple values for a context key, those
  values are evaluated using a logical OR" and "If a single negated matching condition operator includes
  multiple values for a context key, those values are evaluated using a logical NOR."
- *Condition operators*: "If the key that you specify in a policy condition is not present in the request
  context, the values do not match and the condition is false. If the policy condition requires that the
  key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
  is true. This logic applies to all condition operators except ...IfExists and Null check."
- *...IfExists*: "If the key is not present, evaluate the condition element as true"; not allowed on
  ``Null``.
- Set operators: "ForAllValues ... returns true if every key value in the request matches at least one
  value in the policy" and "If the key values in the request resolve to an empty data set (for example, an
  empty string), a condition operator modified by ForAllValues returns true, and a condition operator
  modified by ForAnyValue returns false."

Not documented, our choice: a key with several values in the request but no set operator matches as
ForAnyValue does for positive operators and as ForAllValues does for negated ones (no request value
matches any policy value).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflowkit.iam.exceptions import PolicyError
from workflowkit.iam.matching import compile_arn_like, compile_string_like
from workflowkit.iam.model import Request

# A compiled operator: does one request value match any of the policy's values?
Matcher = Callable[[str], bool]
MatcherFactory = Callable[[Sequence[str]], Matcher]


# --- operator families -------------------------------------------------------------------------------
def _string_equals(values: Sequence[str]) -> Matcher:
    return frozenset(values).__contains__


def _string_equals_ignore_case(values: Sequence[str]) -> Matcher:
    folded = frozenset(v.casefold() for v in values)
    return lambda value: value.casefold() in folded


def _string_like(values: Sequence[str]) -> Matcher:
    pattern = compile_string_like(values)
    return lambda value: pattern.fullmatch(value) is not None


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _numeric(compare: Callable[[float, float], bool]) -> MatcherFactory:
    def factory(values: Sequence[str]) -> Matcher:
        bounds = [_required(_number(v), v, "a number") for v in values]

        def match(value: str) -> bool:
            number = _number(value)
            return number is not None and any(compare(number, bound) for bound in bounds)

        return match

    return factory


_EPOCH = re.compile(r"-?\d+(?:\.\d+)?")


def _instant(text: str) -> float | None:
    """Seconds since the epoch for an epoch value or a W3C ISO 8601 date ("2020-01", "2020-01-01",
    "2020-01-01T12:00Z", ...); a date without a zone is taken as UTC. Digits alone are epoch seconds (so
    "2020" is 1970-01-01T00:33:40Z), as moto's copy of IAM's date validation reads them."""
    if _EPOCH.fullmatch(text):
        return float(text)
    padded = text + "-01" if len(text) == 7 else text
    try:
        moment = datetime.fromisoformat(padded)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _date(compare: Callable[[float, float], bool]) -> MatcherFactory:
    def factory(values: Sequence[str]) -> Matcher:
        bounds = [_required(_instant(v), v, "an ISO 8601 date or epoch time") for v in values]

        def match(value: str) -> bool:
            moment = _instant(value)
            return moment is not None and any(compare(moment, bound) for bound in bounds)

        return match

    return factory


def _bool(values: Sequence[str]) -> Matcher:
    folded = {v.lower() for v in values}
    if not folded <= {"true", "false"}:
        raise PolicyError(f"Bool takes true or false, not {list(values)!r}")
    return lambda value: value.lower() in folded


def _binary(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _binary_equals(values: Sequence[str]) -> Matcher:
    # "compares the value of the specified key byte for byte against a base-64 encoded representation of
    # the binary value in the policy"; request values arrive base-64 encoded as well.
    expected = {_required(_binary(v), v, "base-64") for v in values}
    return lambda value: _binary(value) in expected


def _ip_address(values: Sequence[str]) -> Matcher:
    # "If you specify an IP address without the associated routing prefix, IAM uses the default prefix
    # value of /32" (ip_network does the same, /128 for IPv6).
    try:
        networks = [ipaddress.ip_network(v, strict=False) for v in values]
    except ValueError as error:
        raise PolicyError(f"IpAddress takes CIDR blocks: {error}") from None

    def match(value: str) -> bool:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return any(address in network for network in networks)

    return match


def _arn_like(values: Sequence[str]) -> Matcher:
    try:
        pattern = compile_arn_like(values)
    except ValueError as error:
        raise PolicyError(str(error)) from None
    return lambda value: pattern.fullmatch(value) is not None


def _required[T](parsed: T | None, text: str, what: str) -> T:
    if parsed is None:
        raise PolicyError(f"{text!r} is not {what}")
    return parsed


# name -> (matcher factory, negated)
OPERATORS: dict[str, tuple[MatcherFactory, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
    "DateEquals": (_date(operator.eq), False),
    "DateNotEquals": (_date(operator.eq), True),
    "DateLessThan": (_date(operator.lt), False),
    "DateLessThanEquals": (_date(operator.le), False),
    "DateGreaterThan": (_date(operator.gt), False),
    "DateGreaterThanEquals": (_date(operator.ge), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_binary_equals, False),
    "IpAddress": (_ip_address, False),
    "NotIpAddress": (_ip_address, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}
NULL = "Null"
_SET_OPERATORS = ("ForAllValues", "ForAnyValue")


# --- one compiled check per (operator, key) -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Check:
    key: str  # lower-cased
    matcher: Matcher | None  # None for Null
    negated: bool
    set_operator: str | None
    if_exists: bool
    null_expected: frozenset[bool] = frozenset()

    def holds(self, values: tuple[str, ...] | None) -> bool:
        if self.matcher is None:
            return (not values) in self.null_expected
        if self.set_operator is not None and values == ("",):
            values = ()  # "an empty data set (for example, an empty string)"
        if not values:
            if self.if_exists:
                return True
            if self.set_operator is not None:
                return self.set_operator == "ForAllValues"
            return self.negated
        if self.negated:
            # NOR over the policy's values, for each request value
            if self.set_operator == "ForAnyValue":
                return any(not self.matcher(v) for v in values)
            return all(not self.matcher(v) for v in values)
        if self.set_operator == "ForAllValues":
            return all(self.matcher(v) for v in values)
        return any(self.matcher(v) for v in values)


class Condition:
    """A compiled Condition block: true when every check holds for the request's condition values."""

    __slots__ = ("_checks",)

    def __init__(self, block: Any, *, literal_variables: bool) -> None:
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(f"Condition must be a non-empty object, not {block!r}")
        self._checks = tuple(
            _compile(name, key, value, literal_variables=literal_variables)
            for name, keys in block.items()
            for key, value in _keys(name, keys).items()
        )

    def __call__(self, request: Request) -> bool:
        return all(check.holds(request.condition_value(check.key)) for check in self._checks)


def _keys(name: str, keys: Any) -> Mapping[str, Any]:
    if not isinstance(keys, Mapping) or not keys:
        raise PolicyError(f"condition operator {name!r} takes an object of condition keys, not {keys!r}")
    return keys


def _parse_operator(name: str) -> tuple[str, str | None, bool]:
    set_operator = None
    base = name
    prefix, colon, rest = name.partition(":")
    if colon:
        if prefix not in _SET_OPERATORS:
            raise PolicyError(f"unknown condition operator {name!r}")
        set_operator, base = prefix, rest
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base.removesuffix("IfExists")
        if base == NULL:
            # "You can add IfExists to the end of any condition operator name except the Null condition"
            raise PolicyError("Null cannot take the IfExists suffix")
    if base != NULL and base not in OPERATORS:
        raise PolicyError(f"unknown condition operator {name!r}")
    return base, set_operator, if_exists


def _compile(name: str, key: Any, raw: Any, *, literal_variables: bool) -> _Check:
    if not isinstance(key, str) or not key:
        raise PolicyError(f"condition key must be a non-empty string, not {key!r}")
    base, set_operator, if_exists = _parse_operator(name)
    values = _values(raw, f"{name}/{key}", literal_variables=literal_variables)
    if base == NULL:
        expected = {v.lower() for v in values}
        if not expected <= {"true", "false"}:
            raise PolicyError(f"Null takes true or false, not {raw!r}")
        return _Check(key.lower(), None, False, None, False, frozenset(e == "true" for e in expected))
    factory, negated = OPERATORS[base]
    return _Check(key.lower(), factory(values), negated, set_operator, if_exists)


def _values(raw: Any, where: str, *, literal_variables: bool) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(f"condition {where} has no values")
    values = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, str):
            if "${" in item and not literal_variables:
                raise PolicyError(f"policy variables are not supported (condition {where}: {item!r})")
            values.append(item)
        elif isinstance(item, int | float):
            values.append(str(item))
        else:
            raise PolicyError(f"condition {where} takes strings, numbers or booleans, not {item!r}")
    return values
