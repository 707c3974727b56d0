"""What a function needs on every invocation but not to be imported: boto3 and the X-Ray tracer, made on
first use (docs/decisions/0042).

Lambda's init phase runs the handler module; a boto3 client there costs ~20-40 ms (botocore loads and
parses the service model), boto3 itself ~0.13 s, and Powertools' Tracer imports the X-Ray SDK (asyncio,
wrapt: ~0.07 s) and patches botocore. A handler that creates them at import pays that before its
first event, and so does every test and tool that imports it. Here they are made when first used, from
one boto3 session (one loader: each service model is read once per process), so a module-level
``client("events")`` costs nothing until the handler calls it.

The cost moves into the first invocation; ``benchmarks/cold_start.py --first-call`` shows both figures.
Injected clients (tests pass moto-backed ones) are unaffected: these are only the defaults.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.RLock()  # shared_client makes a deferred client (which asks for the session) under it
_made: list[_Deferred] = []  # every deferred object made so far (create_deferred() makes them all)


def _boto3_session() -> Any:
    import boto3  # noqa: PLC0415 - the point of this module: boto3 is imported when first used

    return boto3.session.Session()


def session() -> Any:
    """The function's one boto3 session (its loader caches each service model it reads)."""
    return _SESSION._resolve()


class _Deferred:
    """Forwards every attribute to the object ``make`` returns, made on first access."""

    __slots__ = ("_make", "_target")

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._target: Any = None
        _made.append(self)

    def _resolve(self) -> Any:
        target = self._target
        if target is None:
            with _lock:
                if self._target is None:
                    self._target = self._make()
                target = self._target
        return target

    def __getattr__(self, name: str) -> Any:
        if name in _Deferred.__slots__ or _is_special(name):
            # Its own slots unset (an instance copy.copy or pickle is rebuilding) or a protocol name copy
            # looks for: not the target's to answer, and asking would recurse through _resolve.
            raise AttributeError(name)
        return getattr(self._resolve(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._resolve()(*args, **kwargs)


def _is_special(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


_SESSION = _Deferred(_boto3_session)
_SHARED_CLIENTS: dict[str, _Deferred] = {}


def client(service: str) -> Any:
    """A boto3 client of ``service`` from the shared session, made on first use."""
    return _Deferred(lambda: session().client(service))


def deferred(make: Callable[[], Any]) -> Any:
    """Whatever ``make`` returns (a callable, say), made on first use."""
    return _Deferred(make)


def shared_client(service: str) -> Any:
    """The function's one client of ``service`` (boto3 clients are thread-safe), made on first use."""
    with _lock:
        shared = _SHARED_CLIENTS.get(service)
        if shared is None:
            shared = _SHARED_CLIENTS[service] = client(service)
        return shared


def _make_type_serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer  # noqa: PLC0415 - boto3 is imported when first used

    return TypeSerializer()


def _make_type_deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415 - boto3 is imported when first used

    return TypeDeserializer()


def type_serializer() -> Any:
    """boto3's ``TypeSerializer`` (Python values -> DynamoDB attribute values), made on first use."""
    return _Deferred(_make_type_serializer)


def type_deserializer() -> Any:
    """boto3's ``TypeDeserializer`` (DynamoDB attribute values -> Python values), made on first use."""
    return _Deferred(_make_type_deserializer)


def create_deferred() -> None:
    """Make every deferred object now (what the first invocation would otherwise pay; benchmarks)."""
    for deferred in list(_made):
        deferred._resolve()
    for instance in DeferredTracer.instances:
        instance.tracer()


class DeferredTracer:
    """Powertools' ``Tracer``, constructed (X-Ray SDK imported, botocore patched) on the first invocation.

    The decorators and methods are Powertools' own, applied to the real tracer when the decorated
    function first runs: the same segments, annotations (``ColdStart``, ``Service``) and metadata. With
    tracing disabled the function runs undecorated (Powertools' would only open dummy subsegments).
    """

    instances: ClassVar[list[DeferredTracer]] = []

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._tracer: Any = None
        DeferredTracer.instances.append(self)

    def tracer(self) -> Any:
        if self._tracer is None:
            with _lock:
                if self._tracer is None:
                    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - imports the X-Ray SDK

                    self._tracer = Tracer(**self._options)
        return self._tracer

    def capture_lambda_handler(self, lambda_handler: Callable[..., Any]) -> Callable[..., Any]:
        return self._deferred_decorator(lambda_handler, "capture_lambda_handler")

    def capture_method(self, method: F) -> F:
        return self._deferred_decorator(method, "capture_method")

    def _deferred_decorator(self, function: F, decorator: str) -> F:
        decorated: Callable[..., Any] | None = None

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            nonlocal decorated
            if decorated is None:
                tracer = self.tracer()
                # Disabled tracing (POWERTOOLS_TRACE_DISABLED; the local cloud) records nothing: Powertools
                # would still open a dummy X-Ray subsegment around every call, for no segment at all.
                decorated = function if tracer.disabled else getattr(tracer, decorator)(function)
            return decorated(*args, **kwargs)

        return call  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Its own attributes unset (an instance copy.copy is rebuilding) or a protocol name copy looks
            # for: not the tracer's to answer, and asking would recurse through tracer().
            raise AttributeError(name)
        return getattr(self.tracer(), name)
