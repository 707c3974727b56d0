"""The ``States.*`` intrinsic functions themselves, with the argument checks the documentation gives.

Each takes the evaluated arguments and the scope (for the seeded random source) and raises
``ExecutionError("States.Runtime", ...)`` on a wrong argument. ``FUNCTIONS`` gives each name its arity.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from typing import Any, Final

from workflowkit.asl.errors import runtime_error
from workflowkit.asl.paths import Scope
from workflowkit.asl.values import as_integer, is_number, java_hash_map_order, parse_json, to_json_text

_MAX_CHARS: Final = 10_000  # Base64Encode/Base64Decode/Hash input limit
_MAX_RANGE: Final = 1000  # ArrayRange output limit
_JSON_BLANKS: Final = " \t\n\r"


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _array(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise runtime_error(f"{name}: expected an array, got {kind(value)}")
    return value


def _string(name: str, value: Any, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise runtime_error(f"{name}: expected a string, got {kind(value)}")
    if limit is not None and len(value) > limit:
        raise runtime_error(f"{name}: the input has {len(value)} characters, more than {limit}")
    return value


def _integer(name: str, value: Any, *, rounding: bool = False) -> int:
    integer = as_integer(value)
    if integer is None and rounding and type(value) is float and math.isfinite(value):
        integer = math.floor(value + 0.5)  # Java's Math.round, which MathAdd applies to non-integers
    if integer is None:
        raise runtime_error(f"{name}: expected an integer, got {kind(value)} {value!r}")
    return integer


def _canonical(value: Any) -> Any:
    # JSON equality: true is not 1, and objects compare by content whatever the sequence of their keys.
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (dict, list)):
        return ("json", json.dumps(value, sort_keys=True))
    return ("scalar", value)


def _string_to_json(args: list[Any], _scope: Scope) -> Any:
    text = _string("States.StringToJson", args[0])
    if not text.strip(_JSON_BLANKS):
        return None  # AWS answers null for "" and "   " (localstack's AWS-recorded test_string_to_json)
    try:
        return parse_json(text)  # NaN, Infinity and 1e400 are not JSON here either
    except ValueError as error:
        raise runtime_error(f"States.StringToJson: {text!r} is not JSON text ({error})") from None


def _array_partition(args: list[Any], _scope: Scope) -> Any:
    items = _array("States.ArrayPartition", args[0])
    size = _integer("States.ArrayPartition", args[1])
    if size <= 0:
        raise runtime_error(f"States.ArrayPartition: the chunk size must be a positive integer, got {size}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def _array_contains(args: list[Any], _scope: Scope) -> Any:
    wanted = _canonical(args[1])
    return any(_canonical(item) == wanted for item in _array("States.ArrayContains", args[0]))


def _array_range(args: list[Any], _scope: Scope) -> Any:
    first, last, step = (_integer("States.ArrayRange", arg) for arg in args)
    if step == 0:
        raise runtime_error("States.ArrayRange: the step must not be 0")
    count = max(0, (last - first) // step + 1)
    if count > _MAX_RANGE:
        raise runtime_error(f"States.ArrayRange: {count} items, more than {_MAX_RANGE}")
    return list(range(first, last + (1 if step > 0 else -1), step))


def _array_get_item(args: list[Any], _scope: Scope) -> Any:
    items = _array("States.ArrayGetItem", args[0])
    index = _integer("States.ArrayGetItem", args[1])
    if not 0 <= index < len(items):
        raise runtime_error(f"States.ArrayGetItem: index {index} is out of bounds for {len(items)} items")
    return items[index]


def _array_unique(args: list[Any], _scope: Scope) -> Any:
    seen: set[Any] = set()
    unique = []
    for item in _array("States.ArrayUnique", args[0]):
        key = _canonical(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _base64_encode(args: list[Any], _scope: Scope) -> Any:
    text = _string("States.Base64Encode", args[0], _MAX_CHARS)
    return base64.b64encode(text.encode()).decode("ascii")


def _base64_decode(args: list[Any], _scope: Scope) -> Any:
    text = _string("States.Base64Decode", args[0], _MAX_CHARS)
    # Java's Base64 decoders take a final unit without its '=' padding, and new String(bytes, UTF_8)
    # replaces malformed UTF-8 with U+FFFD instead of failing.
    padded = text + "=" * (-len(text) % 4) if len(text) % 4 in (2, 3) else text
    try:
        decoded = base64.b64decode(padded.encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as error:
        raise runtime_error(f"States.Base64Decode: {text!r} is not Base64 ({error})") from None
    return decoded.decode("utf-8", errors="replace")


_HASHES: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _hash(args: list[Any], _scope: Scope) -> Any:
    data = _string("States.Hash", args[0], _MAX_CHARS)
    algorithm = args[1]
    if not isinstance(algorithm, str) or algorithm not in _HASHES:
        raise runtime_error(f"States.Hash: unknown algorithm {algorithm!r} (one of {', '.join(_HASHES)})")
    return hashlib.new(_HASHES[algorithm], data.encode()).hexdigest()


def _json_merge(args: list[Any], _scope: Scope) -> Any:
    first, second, deep = args
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise runtime_error("States.JsonMerge: both arguments to merge must be JSON objects")
    if deep is not False:
        # "Step Functions only supports the shallow merging mode; therefore, you must specify ... false."
        raise runtime_error("States.JsonMerge: the third argument must be false (only shallow merge exists)")
    merged = {**first, **second}
    # A new java.util.HashMap: AWS recorded {a, b, d} merged with {a, c, d} as {a, b, c, d}.
    keys = list(merged)
    return {keys[index]: merged[keys[index]] for index in java_hash_map_order(keys)}


def _math_random(args: list[Any], scope: Scope) -> Any:
    # "If you specify a non-integer value for the start number or end number argument, Step Functions will
    # round it off to the nearest integer" (AWS recorded 12.5..44.51 succeeding); the seed likewise.
    start = _integer("States.MathRandom", args[0], rounding=True)
    end = _integer("States.MathRandom", args[1], rounding=True)
    if start > end:
        raise runtime_error(f"States.MathRandom: start {start} is greater than end {end}")
    # "If you use this function with the same seed value, it returns an identical number."
    if len(args) == 3:
        source = random.Random(_integer("States.MathRandom", args[2], rounding=True))
    else:
        source = scope.random
    return source.randint(start, end)


def _math_add(args: list[Any], _scope: Scope) -> Any:
    return _integer("States.MathAdd", args[0], rounding=True) + _integer(
        "States.MathAdd", args[1], rounding=True
    )


def _string_split(args: list[Any], _scope: Scope) -> Any:
    text = _string("States.StringSplit", args[0])
    delimiters = _string("States.StringSplit", args[1])
    if not delimiters:
        return [text] if text else []
    # Every character of the second argument delimits, and empty pieces are dropped.
    for delimiter in delimiters[1:]:
        text = text.replace(delimiter, delimiters[0])
    return [piece for piece in text.split(delimiters[0]) if piece]


def _uuid(_args: list[Any], scope: Scope) -> Any:
    return str(uuid.UUID(int=scope.random.getrandbits(128), version=4))


Function = Callable[[list[Any], Scope], Any]
ANY: Final = 1 << 30

FUNCTIONS: Final[dict[str, tuple[int, int, Function]]] = {
    "States.Format": (1, ANY, lambda args, scope: None),  # bound specially (template placeholders)
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (1, 1, lambda args, _scope: to_json_text(args[0])),
    "States.Array": (0, ANY, lambda args, _scope: args),
    "States.ArrayPartition": (2, 2, _array_partition),
    "States.ArrayContains": (2, 2, _array_contains),
    "States.ArrayRange": (3, 3, _array_range),
    "States.ArrayGetItem": (2, 2, _array_get_item),
    "States.ArrayLength": (1, 1, lambda args, _scope: len(_array("States.ArrayLength", args[0]))),
    "States.ArrayUnique": (1, 1, _array_unique),
    "States.Base64Encode": (1, 1, _base64_encode),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.MathRandom": (2, 3, _math_random),
    "States.MathAdd": (2, 2, _math_add),
    "States.StringSplit": (2, 2, _string_split),
    "States.UUID": (0, 0, _uuid),
}
