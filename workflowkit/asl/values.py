"""JSON value helpers shared by the interpreter: copies, JSON text, RFC 3339 timestamps, Java comparison.

Values flowing through an execution are shared, never mutated: every component that changes a document
(ResultPath) copies the objects on the way down (copy-on-write), so one value can safely sit in the
execution input, a Parallel branch's input and a task's parameters at the same time.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Final

_TIMESTAMP: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})\Z", re.ASCII
)


def fresh_copy(value: Any) -> Any:
    """A copy of a JSON document's containers (scalars are immutable, so they are shared)."""
    kind = type(value)
    if kind is dict:
        return {key: fresh_copy(item) for key, item in value.items()}
    if kind is list:
        return [fresh_copy(item) for item in value]
    return value


def to_json_text(value: Any) -> str:
    """Compact JSON text, as Step Functions reports outputs (non-ASCII kept as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def parse_json(text: str | bytes) -> Any:
    """JSON text as Step Functions reads it: strict RFC 8259, so ``NaN``, ``Infinity`` and ``-Infinity``
    (which Python's ``json`` accepts) and numbers beyond a double's range (``1e400``, which Python
    turns into ``inf``) raise ``ValueError`` like any other text that is not JSON, as does nesting too
    deep for the parser."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("the JSON text is nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is out of range")
    return number


def is_number(value: Any) -> bool:
    # bool is an int subclass in Python but never a JSON number.
    return type(value) in (int, float)


def as_integer(value: Any) -> int | None:
    """The integer a JSON number denotes (2 and 2.0 alike), or None for anything else."""
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def parse_timestamp(text: Any) -> datetime | None:
    """An RFC 3339 timestamp in the profile ASL requires (uppercase T, Z or a numeric offset), or None."""
    if type(text) is not str:
        return None
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    date, time, fraction, zone = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")  # Python keeps microseconds; ASL allows any precision
    try:
        return datetime.fromisoformat(f"{date}T{time}.{micro}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:  # a well-formed but impossible date, such as month 13
        return None


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, the format of the context object's times."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"  # "...T09:00:00.000+00:00" -> ".000Z"


def java_compare(left: str, right: str) -> int:
    """-1, 0 or 1 as Java's ``String.compareTo`` compares the strings (by UTF-16 code unit).

    The documentation defines string comparisons by ``compareTo``. Python compares by code point; the two
    differ only between characters above U+FFFF (surrogate pairs) and those in U+E000..U+FFFF.
    """
    if not (left.isascii() and right.isascii()):
        left_units = left.encode("utf-16-be", "surrogatepass")
        right_units = right.encode("utf-16-be", "surrogatepass")
        return (left_units > right_units) - (left_units < right_units)
    return (left > right) - (left < right)


def java_text(value: Any) -> str:
    """The string Java's ``toString`` gives a JSON value, as States.Format interpolates it: strings as
    they are, ``{key=value, ...}`` for objects and ``[a, b]`` for arrays (Map and List.toString),
    doubles as ``Double.toString`` writes them (``1.0``, ``1.0E20``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}={java_text(item)}" for key, item in value.items()) + "}"


def java_double(value: float) -> str:
    """Java's ``Double.toString``: plain between 10^-3 and 10^7, else computerized scientific notation;
    always with a fractional part (``1.0``). Digits are the shortest that round-trip, as Python's repr."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        plain = _plain_decimal(repr(magnitude))
        return sign + (plain if "." in plain else plain + ".0")
    digits, exponent = _digits_and_exponent(repr(magnitude))
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _digits_and_exponent(text: str) -> tuple[str, int]:
    """The significant digits of a repr and the power of ten of the first one."""
    mantissa, _, exponent_text = text.partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    leading_zeros = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    power = len(whole) - 1 - leading_zeros + exponent
    return digits.rstrip("0") or "0", power


def _plain_decimal(text: str) -> str:
    digits, power = _digits_and_exponent(text)
    if power < 0:
        return "0." + "0" * (-power - 1) + digits
    whole = digits[: power + 1].ljust(power + 1, "0")
    return whole + ("." + digits[power + 1 :] if len(digits) > power + 1 else "")


def java_hash_map_order(keys: list[str]) -> list[int]:
    """The positions of ``keys`` in the sequence a ``java.util.HashMap`` iterates them once they were put
    in this sequence: by bucket (the spread String.hashCode masked by a table grown from 16 at load factor
    0.75), then in insertion sequence within a bucket. Step Functions builds payload-template objects as
    HashMaps: its recorded outputs list their members in exactly this sequence."""
    capacity = 16
    while len(keys) > capacity * 0.75:
        capacity *= 2
    mask = capacity - 1

    def bucket(key: str) -> int:
        code = 0
        for unit in _units(key):
            code = (31 * code + unit) & 0xFFFFFFFF
        return (code ^ (code >> 16)) & mask

    return sorted(range(len(keys)), key=lambda index: (bucket(keys[index]), index))


def _units(text: str) -> list[int]:
    """The UTF-16 code units of a string, as Java stores it."""
    if text.isascii():
        return [ord(char) for char in text]
    data = text.encode("utf-16-be", "surrogatepass")
    return [data[i] << 8 | data[i + 1] for i in range(0, len(data), 2)]
