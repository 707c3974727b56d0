"""Hot API calls answered in-process at botocore's ``before-call`` event, skipping the HTTP round trip.

A boto3 call on moto costs a millisecond or more before any backend work: botocore serialises the
request to HTTP and signs it, moto matches the URL against every service's routes, parses the body
back, runs the backend, serialises the answer with its model-driven serializer, and botocore parses
that again. A workflow makes ~40 such calls. Here the local cloud answers its hot operations itself:
botocore still validates the parameters and builds the request (a malformed call fails exactly as
before), then a handler answers from the backend and botocore hands the answer to the caller: as the
return value, or as the modelled exception class for an error, as it would for an HTTP error.

The dispatcher is one of botocore's built-in handlers, registered when ``workflowkit`` is imported
(as moto registers its own), so every session and client created afterwards reaches it, including the
private sessions libraries such as Powertools create. It does nothing unless a ``FastPath`` is active.
Operations without a handler go on to moto as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore import handlers as botocore_handlers
from moto.core.exceptions import ServiceException, _RESTError

# (api params as the caller passed them, the serialised request) -> the response's fields.
Handler = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
# The same, answering with the HTTP status and the whole parsed response (metadata included).
CompleteHandler = Callable[[dict[str, Any], dict[str, Any]], tuple[int, dict[str, Any]]]
# Called before every app call is answered (fast or not): the fault-injection seam.
BeforeCall = Callable[[str, str, dict[str, Any]], None]

_PARAMS_KEY = "workflowkit.params"


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
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._complete: dict[tuple[str, str], CompleteHandler] = {}
        self._request_ids = itertools.count(1)
        self.before_call: BeforeCall | None = None
        self.answered = 0

    def register(self, service: str, operation: str, handler: Handler) -> None:
        self._handlers[(service, operation)] = handler

    def register_complete(self, service: str, operation: str, handler: CompleteHandler) -> None:
        self._complete[(service, operation)] = handler

    def handles(self, service: str, operation: str) -> bool:
        return (service, operation) in self._handlers or (service, operation) in self._complete

    def activate(self) -> None:
        global _ACTIVE  # noqa: PLW0603 - botocore's built-in handlers are process-wide
        _ACTIVE = self

    def deactivate(self) -> None:
        global _ACTIVE  # noqa: PLW0603
        if _ACTIVE is self:
            _ACTIVE = None

    def answer(self, service: str, operation: str, params: dict[str, Any], request: dict[str, Any]) -> Any:
        if self.before_call is not None:
            self.before_call(service, operation, params)
        complete = self._complete.get((service, operation))
        if complete is not None:
            status, parsed = complete(params, request)
            self.answered += 1
            return _HttpResponse(status), parsed
        handler = self._handlers.get((service, operation))
        if handler is None:
            return None
        request_id = f"{next(self._request_ids):08x}-0000-4000-8000-000000000000"
        try:
            fields = handler(params, request)
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


def wire_values(value: Any) -> Any:
    """Timestamps as a JSON protocol carries them (epoch seconds), so backends see what moto would."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: wire_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_values(item) for item in value]
    return value


_ACTIVE: FastPath | None = None


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # The request context travels from parameter building to before-call; the params dict is the one
    # botocore serialises (transformations such as boto3's DynamoDB type serializer work in place).
    if _ACTIVE is not None:
        context[_PARAMS_KEY] = params


def _dispatch(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
    active = _ACTIVE
    if active is None:
        return None
    api_params = context.get(_PARAMS_KEY, {})
    return active.answer(model.service_model.service_name, model.name, api_params, params)


botocore_handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _remember_params))
botocore_handlers.BUILTIN_HANDLERS.append(("before-call", _dispatch))
