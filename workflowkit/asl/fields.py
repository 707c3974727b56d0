"""Compiling a state's fields: paths, ResultPath placements, templates, seconds, Retry and Catch.

Each function takes the state name and the field name, so that an ``AslDefinitionError`` says where the
definition is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from workflowkit.asl.errors import (
    ALL,
    RESULT_PATH_MATCH_FAILURE,
    AslDefinitionError,
    ExecutionError,
    PathSyntaxError,
    runtime_error,
)
from workflowkit.asl.intrinsics import Evaluator
from workflowkit.asl.paths import (
    JsonPath,
    PathMissError,
    ResultPath,
    Scope,
    compile_path,
    compile_reference_path,
)
from workflowkit.asl.payload import compile_expression, compile_template
from workflowkit.asl.runtime import MAX_DELAY_SECONDS
from workflowkit.asl.states import Catcher, ErrorMatcher, Placement, Retrier, Selector
from workflowkit.asl.values import as_integer, is_number

# The documented maxima: Wait "Seconds ... an integer value from 0 to 99999999", and the same for
# IntervalSeconds, MaxAttempts, TimeoutSeconds and HeartbeatSeconds; MaxDelaySeconds "must be less than
# 31622401" (one year), which is MAX_DELAY_SECONDS.
MAX_SECONDS: Final = 99_999_999


def fail(state: str | None, field: str | None, message: str) -> AslDefinitionError:
    return AslDefinitionError(message, state=state, field=field)


def selector(state: str, field: str, spec: Mapping[str, Any]) -> Selector | None:
    if field not in spec:
        return None
    text = spec[field]
    if text is None:
        # InputPath/OutputPath null: the state sees (or passes on) an empty object.
        return lambda _document, _scope: {}
    if text == "$":
        return None
    path = compiled(state, field, text, reference=False)
    get = path.get
    context = path.context

    def select(document: Any, scope: Scope) -> Any:
        try:
            return get(scope.context_object() if context else document)
        except PathMissError as miss:
            # AWS words it with Jayway's message: "Invalid path '$.x' : No results for path: $['x']".
            raise runtime_error(f"Invalid path '{text}' : {miss.reason}") from None

    return select


def placement(state: str, field: str, spec: Mapping[str, Any]) -> Placement:
    key = "ResultPath"  # also inside a catcher, where field is "Catch[i].ResultPath"
    if key in spec and spec[key] is None:
        return _discard_result
    text = spec.get(key, "$")
    if text == "$":
        return _replace_input
    try:
        target = ResultPath(compile_reference_path(text))
    except PathSyntaxError as error:
        raise fail(state, field, str(error)) from None
    put = target.put

    def place(raw_input: Any, result: Any) -> Any:
        try:
            return put(raw_input, result)
        except ValueError as error:
            raise ExecutionError(
                RESULT_PATH_MATCH_FAILURE,
                f"Unable to apply ResultPath {text!r} to the state's input: {error}",
            ) from None

    return place


def template(state: str, field: str, spec: Mapping[str, Any]) -> Evaluator | None:
    if field not in spec:
        return None
    try:
        return compile_template(spec[field])
    except PathSyntaxError as error:
        raise fail(state, field, str(error)) from None


def expression(state: str, field: str, text: Any) -> Evaluator:
    try:
        return compile_expression(text, field)
    except PathSyntaxError as error:
        raise fail(state, field, str(error)) from None


def compiled(state: str, field: str, text: Any, *, reference: bool) -> JsonPath:
    try:
        return compile_reference_path(text) if reference else compile_path(text)
    except PathSyntaxError as error:
        raise fail(state, field, str(error)) from None


def reference(state: str, field: str, spec: Mapping[str, Any]) -> JsonPath | None:
    return compiled(state, field, spec[field], reference=True) if field in spec else None


def seconds(state: str, field: str, spec: Mapping[str, Any]) -> tuple[int | None, JsonPath | None]:
    if field in spec and f"{field}Path" in spec:
        raise fail(state, f"{field}Path", f"{field} and {field}Path are mutually exclusive")
    value = positive_int(state, field, spec[field]) if field in spec else None
    return value, reference(state, f"{field}Path", spec)


def positive_int(
    state: str | None, field: str, value: Any, *, minimum: int = 1, maximum: int = MAX_SECONDS
) -> int:
    integer = as_integer(value)
    if integer is None or integer < minimum or integer > maximum:
        raise fail(state, field, f"{field} must be an integer from {minimum} to {maximum}, got {value!r}")
    return integer


def _finite(value: Any) -> bool:
    try:
        return is_number(value) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def error_matcher(state: str, field: str, names: Any) -> ErrorMatcher:
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise fail(state, field, "ErrorEquals must be a non-empty array of error names")
    if ALL in names and len(names) > 1:
        raise fail(state, field, "States.ALL must appear alone in ErrorEquals")
    return ErrorMatcher(frozenset(names))


def retriers(state: str, spec: Mapping[str, Any]) -> tuple[Retrier, ...]:
    retry = spec.get("Retry", [])
    if not isinstance(retry, list):
        raise fail(state, "Retry", "Retry must be an array of retriers")
    retriers = []
    allowed = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds"}
    for index, item in enumerate(retry):
        where = f"Retry[{index}]"
        if not isinstance(item, dict):
            raise fail(state, where, "a retrier must be an object")
        unknown = set(item) - allowed - {"JitterStrategy", "Comment"}
        if unknown:
            raise fail(state, f"{where}.{sorted(unknown)[0]}", "unknown retrier field")
        matcher = error_matcher(state, f"{where}.ErrorEquals", item.get("ErrorEquals"))
        if ALL in matcher.names and index != len(retry) - 1:
            raise fail(state, f"{where}.ErrorEquals", "a States.ALL retrier must be the last one")
        backoff = item.get("BackoffRate", 2.0)
        # No documented maximum, but it must be a finite double (a JSON integer of 400 digits is not).
        if not _finite(backoff) or backoff < 1.0:
            raise fail(state, f"{where}.BackoffRate", f"BackoffRate must be a number >= 1.0, got {backoff!r}")
        jitter = item.get("JitterStrategy", "NONE")
        if jitter not in ("FULL", "NONE"):
            raise fail(
                state, f"{where}.JitterStrategy", f"JitterStrategy must be FULL or NONE, got {jitter!r}"
            )
        retriers.append(
            Retrier(
                errors=matcher,
                interval_seconds=positive_int(
                    state, f"{where}.IntervalSeconds", item.get("IntervalSeconds", 1)
                ),
                max_attempts=positive_int(
                    state, f"{where}.MaxAttempts", item.get("MaxAttempts", 3), minimum=0
                ),
                backoff_rate=float(backoff),
                max_delay_seconds=(
                    positive_int(
                        state,
                        f"{where}.MaxDelaySeconds",
                        item["MaxDelaySeconds"],
                        maximum=MAX_DELAY_SECONDS,
                    )
                    if "MaxDelaySeconds" in item
                    else None
                ),
                full_jitter=jitter == "FULL",
            )
        )
    return tuple(retriers)


def catchers(state: str, spec: Mapping[str, Any]) -> tuple[Catcher, ...]:
    catch = spec.get("Catch", [])
    if not isinstance(catch, list):
        raise fail(state, "Catch", "Catch must be an array of catchers")
    catchers = []
    for index, item in enumerate(catch):
        where = f"Catch[{index}]"
        if not isinstance(item, dict):
            raise fail(state, where, "a catcher must be an object")
        unknown = set(item) - {"ErrorEquals", "Next", "ResultPath", "Comment"}
        if unknown:
            raise fail(state, f"{where}.{sorted(unknown)[0]}", "unknown catcher field")
        matcher = error_matcher(state, f"{where}.ErrorEquals", item.get("ErrorEquals"))
        if ALL in matcher.names and index != len(catch) - 1:
            raise fail(state, f"{where}.ErrorEquals", "a States.ALL catcher must be the last one")
        if not isinstance(item.get("Next"), str):
            raise fail(state, f"{where}.Next", "a catcher needs a Next state name")
        catchers.append(Catcher(matcher, item["Next"], placement(state, f"{where}.ResultPath", item)))
    return tuple(catchers)


def _discard_result(raw_input: Any, _result: Any) -> Any:
    return raw_input


def _replace_input(_raw_input: Any, result: Any) -> Any:
    return result
