"""Payload templates (Parameters, ResultSelector, ItemSelector) and literal values (Pass ``Result``).

A template compiles into an evaluator ``(document, scope) -> value`` that builds fresh objects and
arrays on every call, so no execution can change what another one sees. A key ending in ``.$`` takes
its value from a path (``$...`` on the document, ``$$...`` on the context object) or an intrinsic
function, and loses the ``.$`` suffix. A path that matches nothing fails the state with States.Runtime,
as Step Functions does.
"""

from __future__ import annotations

import json
from typing import Any

from workflowkit.asl.errors import ExecutionError, PathNotFoundError, PathSyntaxError, runtime_error
from workflowkit.asl.intrinsics import Evaluator, compile_intrinsic, is_intrinsic
from workflowkit.asl.paths import Scope, compile_path
from workflowkit.asl.values import fresh_copy, java_hash_map_order


def compile_template(template: Any) -> Evaluator:
    """A payload template: any JSON value whose objects may hold ``name.$`` keys, at any depth.

    Its objects come out with their members in java.util.HashMap iteration sequence, as Step Functions
    builds them (the AWS-recorded output of localstack's test_query_context_object_values lists 13 members in
    exactly that sequence); JSON text made of them (States.JsonToString) then reads as AWS's does."""
    ordered = _in_hash_map_order(template)
    if not _has_dynamic_key(ordered):
        return compile_literal(ordered)
    return _compile(ordered)


def _in_hash_map_order(value: Any) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        names = [key[:-2] if key.endswith(".$") else key for key in keys]
        return {keys[i]: _in_hash_map_order(value[keys[i]]) for i in java_hash_map_order(names)}
    if isinstance(value, list):
        return [_in_hash_map_order(item) for item in value]
    return value


def compile_literal(value: Any) -> Evaluator:
    """A constant JSON value, copied per use (containers) so callers may own what they get."""
    if isinstance(value, (dict, list)):
        return lambda _document, _scope: fresh_copy(value)
    return lambda _document, _scope: value


def compile_expression(expression: Any, field: str) -> Evaluator:
    """A path or an intrinsic function, as in a ``.$`` value, ``ErrorPath`` or ``CausePath``."""
    if not isinstance(expression, str):
        raise PathSyntaxError(
            f"the value of {field!r} must be a path or an intrinsic function, got {expression!r}"
        )
    if is_intrinsic(expression):
        function = compile_intrinsic(expression)

        def call(document: Any, scope: Scope) -> Any:
            try:
                return function(document, scope)
            except PathNotFoundError as missing:
                raise _not_found(str(missing), field, document) from None
            except ExecutionError as error:
                raise runtime_error(
                    f"The function {expression!r} for the field {field!r} failed: {error.cause}"
                ) from None

        return call
    if not expression.startswith("$"):
        raise PathSyntaxError(
            f"the value of {field!r} must be a path ('$...', '$$...') or an intrinsic function"
            f" ('States....'), got {expression!r}"
        )
    path = compile_path(expression)
    get = path.get
    if path.context:

        def read_context(_document: Any, scope: Scope) -> Any:
            context = scope.context_object()
            try:
                return get(context)
            except PathNotFoundError:
                raise _not_found(expression, field, context) from None

        return read_context

    def read(document: Any, _scope: Scope) -> Any:
        try:
            return get(document)
        except PathNotFoundError:
            raise _not_found(expression, field, document) from None

    return read


def _not_found(path: str, field: str, document: Any) -> ExecutionError:
    shown = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(shown) > 2000:
        shown = shown[:2000] + "..."
    return runtime_error(
        f"The JSONPath {path!r} specified for the field {field!r} could not be found in the input {shown!r}"
    )


def _has_dynamic_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key.endswith(".$") or _has_dynamic_key(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_dynamic_key(item) for item in value)
    return False


def _compile(value: Any) -> Evaluator:
    if isinstance(value, dict):
        entries: list[tuple[str, Evaluator]] = []
        for key, item in value.items():
            if key.endswith(".$"):
                entries.append((key[:-2], compile_expression(item, key)))
            else:
                entries.append((key, _compile(item)))
        frozen = tuple(entries)
        return lambda document, scope: {key: build(document, scope) for key, build in frozen}
    if isinstance(value, list):
        items = tuple(_compile(item) for item in value)
        return lambda document, scope: [build(document, scope) for build in items]
    return compile_literal(value)
