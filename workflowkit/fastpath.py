"""Hot API calls answered in-process, skipping botocore's HTTP round trip through moto.

A boto3 call on moto costs a millisecond or more before any backend work: botocore resolves the
endpoint, serialises the request to HTTP and signs it, moto matches the URL against every service's
routes, parses the body back, runs the backend, serialises the answer with its model-driven
serializer, and botocore parses that again. A workflow makes ~40 such calls. For the operations the
local cloud answers itself, a client call goes: parameter events (boto3's transformations, generated
idempotency tokens), botocore's parameter validation (a malformed call fails exactly as before), the
``before-call`` event (where hooks such as botocore's Stubber still answer first; the local cloud
answers when no hook did), then ``after-call`` and botocore's error handling: the caller
gets the return value, or the modelled exception class for an error, as from an HTTP response.
Endpoint resolution, serialisation, signing and parsing are skipped; every other operation goes to
moto as before. Either way the call passes the fault seam first.

The path is botocore's ``BaseClient._make_api_call``, replaced when ``workflowkit`` is imported, so
every client takes it, including those libraries such as Powertools build from sessions of their own.
Nothing changes unless a ``FastPath`` is active.

Handlers may call from several threads at once. A complete handler (DynamoDB's engine) is called as it
is: it is safe to call from several threads and keeps its own lock, which a transaction in progress
must be able to let go. Every other answer reaches services the local cloud shares between threads
(its event loop, its ledger, moto's backends) and is made one at a time.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore import handlers as botocore_handlers
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.hooks import first_non_none_response
from botocore.retries.standard import RetryQuotaChecker
from moto.core.exceptions import ServiceException, _RESTError

from workflowkit.clock import real_perf_counter
from workflowkit.retries import answer_with_retries, retried
from workflowkit.validation import CompiledValidator

# API params (as the caller passed them, after botocore's parameter events) -> the response's fields.
Handler = Callable[[dict[str, Any]], dict[str, Any]]
# The same, answering with the HTTP status and the whole parsed response (metadata included).
CompleteHandler = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
# Called before every app call is answered (fast or not): the fault-injection seam.
BeforeCall = Callable[[str, str, dict[str, Any]], None]
# Told of every call once answered (after the SDK's retries): service, operation, the params, the parsed
# answer (an error's too) and the real seconds it took. Meters count with it (workflowkit.cost).
Observer = Callable[[str, str, dict[str, Any], dict[str, Any], float], None]


class ServiceError(Exception):
    """A handler's error answer: botocore raises the modelled exception class for ``code``."""

    def __init__(self, code: str, message: str, *, status: int = 400, **fields: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.fields = code, message, status, fields


@dataclass
class _HttpResponse:
    """What botocore's ``after-call`` handlers and its error check read of an HTTP response."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    raw: None = None


class FastPath:
    def __init__(self, *, region: str) -> None:
        self.region = region  # the local cloud's region: clients of other regions go on to moto
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._complete: dict[tuple[str, str], CompleteHandler] = {}
        self._wire_json: set[tuple[str, str]] = set()
        self._request_ids = itertools.count(1)
        self.before_call: BeforeCall | None = None
        self.observers: list[Observer] = []
        self.answered = 0
        # One plain answer at a time (see the module); re-entrant, as an answer may make a call itself.
        self._serial = threading.RLock()

    def register(self, service: str, operation: str, handler: Handler) -> None:
        self._handlers[(service, operation)] = handler

    def register_complete(
        self, service: str, operation: str, handler: CompleteHandler, *, wire_json: bool = False
    ) -> None:
        """``wire_json``: the handler takes the params as the JSON protocol carries them (botocore
        serialises them first unless they already are: lists as lists, blobs as bytes, no timestamps)."""
        self._complete[(service, operation)] = handler
        if wire_json:
            self._wire_json.add((service, operation))

    def wants_wire_json(self, service: str, operation: str) -> bool:
        return (service, operation) in self._wire_json

    def handles(self, service: str, operation: str) -> bool:
        return (service, operation) in self._handlers or (service, operation) in self._complete

    def activate(self) -> None:
        global _ACTIVE  # noqa: PLW0603 - botocore's built-in handlers are process-wide
        _ACTIVE = self

    def deactivate(self) -> None:
        global _ACTIVE  # noqa: PLW0603
        if _ACTIVE is self:
            _ACTIVE = None

    def notify(self, service: str, operation: str, params: dict[str, Any]) -> None:
        """A call is about to be made (answered here or not): the fault seam sees it."""
        if self.before_call is not None:
            self.before_call(service, operation, params)

    def answer(self, service: str, operation: str, params: dict[str, Any]) -> Any:
        complete = self._complete.get((service, operation))
        if complete is not None:
            status, parsed = complete(params)
            self.answered += 1
            return _HttpResponse(status), parsed
        handler = self._handlers.get((service, operation))
        if handler is None:
            return None
        request_id = f"{next(self._request_ids):08x}-0000-4000-8000-000000000000"
        try:
            with self._serial:
                fields = handler(params)
        except ServiceError as error:
            return _error(error.status, error.code, error.message, error.fields, request_id)
        except ServiceException as error:  # moto's modelled errors
            return _error(400, error.code, error.message, {}, request_id)
        except _RESTError as error:  # moto's older error classes
            code = error.relative_error_type
            return _error(int(error.code or 400), code, error.message, {}, request_id)
        self.answered += 1
        return _HttpResponse(200), {**fields, "ResponseMetadata": _metadata(200, request_id)}


def _error(status: int, code: str, message: str, fields: dict[str, Any], request_id: str) -> Any:
    parsed = {
        "Error": {"Code": code, "Message": message},
        **fields,
        "ResponseMetadata": _metadata(status, request_id),
    }
    return _HttpResponse(status), parsed


def _metadata(status: int, request_id: str) -> dict[str, Any]:
    return {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}


_ACTIVE: FastPath | None = None
_VALIDATOR = CompiledValidator()
_WIRE_FORM = CompiledValidator(wire_form=True)


def _reaches_local_cloud(client: BaseClient, active: FastPath) -> bool:
    """A client of another region, or with an endpoint of its own, talks to something else."""
    return client.meta.region_name == active.region and ".amazonaws.com" in client.meta.endpoint_url


def _make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    """Every client's call: answered (:func:`_answer_api_call`), then told to the observers, if any."""
    active = _ACTIVE
    if active is None or not active.observers:
        return _answer_api_call(client, operation_name, api_params)
    started = real_perf_counter()
    try:
        parsed = _answer_api_call(client, operation_name, api_params)
    except ClientError as error:
        _observed(active, client, operation_name, api_params, error.response, started=started)
        raise
    _observed(active, client, operation_name, api_params, parsed, started=started)
    return parsed


def _observed(
    active: FastPath,
    client: BaseClient,
    operation: str,
    params: dict[str, Any],
    parsed: Any,
    *,
    started: float,
) -> None:
    seconds = real_perf_counter() - started
    service = client._service_model.service_name
    for observer in active.observers:
        observer(service, operation, params, parsed, seconds)


def _answer_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    """botocore's ``_make_api_call`` without endpoint resolution, serialisation and HTTP, where answered."""
    active = _ACTIVE
    if active is None:
        return _ORIGINAL_MAKE_API_CALL(client, operation_name, api_params)
    service_model = client._service_model
    service = service_model.service_name
    operation_model = service_model.operation_model(operation_name)
    context: dict[str, Any] = {
        "client_region": client.meta.region_name,
        "client_config": client.meta.config,
        "has_streaming_input": operation_model.has_streaming_input,
        "auth_type": operation_model.resolved_auth_type,
    }
    if not active.handles(service, operation_name) or not _reaches_local_cloud(client, active):
        # moto answers after its HTTP round trip (botocore's endpoint retries its answers); the seam's
        # answer is retried here first, as the endpoint would retry it.
        http, parsed = answer_with_retries(
            client,
            operation_model,
            context,
            lambda: _seam(active, service, operation_name, api_params) or (_HttpResponse(200), {}),
        )
        _raise_for_error(client, operation_name, parsed, status=http.status_code)
        return _ORIGINAL_MAKE_API_CALL(client, operation_name, api_params)
    events = client.meta.events
    service_id = service_model.service_id.hyphenize()
    # botocore's _emit_api_params, without emitting to no one (plain clients have no provide-params hook).
    provide_params = f"provide-client-params.{service_id}.{operation_name}"
    if not _hooks_only(events, provide_params, frozenset()):
        responses = events.emit(provide_params, params=api_params, model=operation_model, context=context)
        api_params = first_non_none_response(responses, default=api_params)
    events.emit(
        f"before-parameter-build.{service_id}.{operation_name}",
        params=api_params,
        model=operation_model,
        context=context,
    )
    model = f"{service}/{service_model.api_version}"
    shape = operation_model.input_shape
    wire_json = active.wants_wire_json(service, operation_name)
    # Wire form is stricter than valid (lists only as lists, blobs only as bytes): params in wire form
    # are valid, so one walk decides both in the common case.
    if not (wire_json and shape is not None and _WIRE_FORM.accepts(api_params, shape, model=model)):
        if client.meta.config.parameter_validation:
            _VALIDATOR.validate(api_params, shape, model=model)
        if wire_json:
            # Tuples, str or file-like blobs, ...: as botocore would send them (base64 blobs, lists).
            body = client._serializer.serialize_to_request(api_params, operation_model)["body"]
            api_params = json.loads(body) if body else {}
    before_call = f"before-call.{service_id}.{operation_name}"
    response = None
    if not _hooks_only(events, before_call, _HTTP_HEADER_HOOKS):
        # The request a before-call hook sees: the parameters, unserialised (nothing is sent anywhere).
        request = {"url_path": "/", "query_string": {}, "method": "POST", "headers": {}, "body": api_params}
        _, response = events.emit_until_response(
            before_call,
            model=operation_model,
            params=request,
            request_signer=client._request_signer,
            context=context,
        )
    if response is None:  # no hook of the caller's answered (botocore's Stubber would have)
        params = api_params

        def attempt() -> Any:
            refused = _seam(active, service, operation_name, params)
            return refused or active.answer(service, operation_name, params)

        response = answer_with_retries(client, operation_model, context, attempt)
    http, parsed = response
    after_call = f"after-call.{service_id}.{operation_name}"
    # Standard mode's after-call handler gives its retry quota back (what a retry took, or one unit after
    # a call that needed none): skipped only where there is nothing to give back.
    if retried(context) or not _quota_full(events, after_call):
        events.emit(after_call, http_response=http, parsed=parsed, model=operation_model, context=context)
    _raise_for_error(client, operation_name, parsed, status=http.status_code)
    return parsed


def _seam(active: FastPath, service: str, operation: str, params: dict[str, Any]) -> Any:
    """The before-call seam: None, or the error response it answered with instead.

    A :class:`ServiceError` (a refused permission, an injected fault) or a botocore ``ClientError`` raised
    there is the call's answer; the caller's retry handler judges it like any other.
    """
    try:
        active.notify(service, operation, params)
    except ServiceError as error:
        return _error(error.status, error.code, error.message, error.fields, "refused")
    except ClientError as error:
        response = dict(error.response)
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
        metadata = response.get("ResponseMetadata", {})
        response["ResponseMetadata"] = {**_metadata(status, "refused"), **metadata}
        return _HttpResponse(status), response
    return None


def _raise_for_error(client: BaseClient, operation: str, parsed: dict[str, Any], *, status: int) -> None:
    """botocore's raise of the modelled exception for an error answer."""
    if status >= 300:
        error_class = client.exceptions.from_code(parsed.get("Error", {}).get("Code"))
        raise error_class(parsed, operation)


# botocore's own before-call handlers only add HTTP headers; with no HTTP request they have nothing to
# do, and reading the environment for one of them costs more than the answer.
_HTTP_HEADER_HOOKS = frozenset(
    {botocore_handlers.add_recursion_detection_header, botocore_handlers.inject_api_version_header_if_needed}
)


def _quota_full(events: Any, event_name: str) -> bool:
    """True when the only ``after-call`` handlers are standard mode's quota releases, each of a full
    quota (a call that was not retried gives back nothing then: ``RetryQuota.release`` stops at the
    maximum). A throttled call elsewhere on the client drains it; then every call refills it, as in
    botocore."""
    if not _hooks_only(events, event_name, _RETRY_QUOTA_HOOKS):
        return False
    handlers = events._emitter._lookup_cache[event_name]
    return all(_full(getattr(handler, "__self__", None)) for handler in handlers)


def _full(checker: Any) -> bool:
    quota = getattr(checker, "_quota", None)
    return quota is not None and quota._available_capacity >= quota._max_capacity


_RETRY_QUOTA_HOOKS = frozenset({RetryQuotaChecker.release_retry_quota})


def _hooks_only(events: Any, event_name: str, harmless: frozenset[Any]) -> bool:
    """True when every handler botocore has looked up for ``event_name`` is one of ``harmless``.

    Reads the emitter's lookup cache (botocore clears it whenever a handler is registered or removed,
    so a Stubber activated later is seen); anything unexpected, or no lookup yet, means "emit".
    """
    cache = getattr(getattr(events, "_emitter", None), "_lookup_cache", None)
    handlers = cache.get(event_name) if isinstance(cache, dict) else None
    if handlers is None:
        return False
    # The answer for this very list of handlers (botocore builds a new one after any registration): the
    # entry holds the list, so its id is not reused while the entry lives.
    key = (id(handlers), harmless)
    known = _HOOKS_ONLY.get(key)
    if known is not None and known[0] is handlers:
        return known[1]
    answer = all(getattr(h, "__func__", h) in harmless for h in handlers)
    if len(_HOOKS_ONLY) >= _HOOKS_ONLY_LIMIT:
        _HOOKS_ONLY.clear()
    _HOOKS_ONLY[key] = (handlers, answer)
    return answer


_HOOKS_ONLY: dict[tuple[int, frozenset[Any]], tuple[Any, bool]] = {}
_HOOKS_ONLY_LIMIT = 10_000


# Every client class derives from BaseClient, so every client (whichever session made it, whenever it
# was made) takes this path; it changes nothing unless a FastPath is active.
_ORIGINAL_MAKE_API_CALL = BaseClient._make_api_call
BaseClient._make_api_call = _make_api_call
