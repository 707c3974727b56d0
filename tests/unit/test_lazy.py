"""What a handler module defers to first use (workflow_core.lazy): made once, when first used, and the
same tracing as Powertools' own decorators when tracing is on."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider

from workflow_core import lazy


class RecordingSegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {}

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[key] = value

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.metadata["exception"] = exception


class RecordingProvider(BaseProvider):
    def __init__(self) -> None:
        self.segments: list[RecordingSegment] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[Any]:
        segment = RecordingSegment(name or "")
        self.segments.append(segment)
        yield segment

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    def put_annotation(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        raise NotImplementedError

    def patch(self, modules: Any) -> None:
        pass

    def patch_all(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fresh_tracer_config() -> Iterator[None]:
    Tracer._reset_config()  # type: ignore[no-untyped-call]  # Powertools' Tracer shares its configuration
    yield
    Tracer._reset_config()  # type: ignore[no-untyped-call]


def test_a_deferred_client_is_made_on_first_use_once_and_forwards_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []

    class Session:
        def client(self, service: str) -> Any:
            made.append(service)
            return type("Client", (), {"describe": staticmethod(lambda: f"{service} client")})()

    monkeypatch.setattr(lazy._SESSION, "_target", Session())
    client = lazy.client("events")
    assert made == []  # importing a handler module that holds it costs nothing
    assert client.describe() == "events client"
    assert client.describe() == "events client"
    assert made == ["events"]


def test_a_deferred_object_copies_as_a_wrapper_without_making_its_target() -> None:
    made: list[str] = []

    def make() -> Any:
        made.append("target")
        return "target"

    deferred = lazy._Deferred(make)
    copies = [copy.copy(deferred), copy.deepcopy(deferred)]  # each recursed without end before
    assert made == []  # copying forwards nothing to the target
    assert [copied.upper() for copied in copies] == ["TARGET", "TARGET"]
    with pytest.raises(AttributeError):
        deferred.__setstate__  # noqa: B018  # a protocol name is the wrapper's own, never the target's


def test_a_deferred_tracer_copies_without_making_the_tracer() -> None:
    deferred = lazy.DeferredTracer(service="copied", disabled=True)
    copied = copy.copy(deferred)  # recursed without end before
    assert deferred._tracer is None
    assert copied._tracer is None
    assert copied.tracer().service == "copied"  # the copy still makes Powertools' tracer when asked


def test_with_tracing_on_the_handler_is_traced_as_by_powertools_capture_lambda_handler() -> None:
    provider = RecordingProvider()
    tracer = lazy.DeferredTracer(service="svc", disabled=False, auto_patch=False, provider=provider)

    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": event}

    assert provider.segments == []  # nothing happens before the first invocation
    assert handler({"a": 1}, None) == {"echo": {"a": 1}}
    assert [s.name for s in provider.segments] == ["## handler"]
    assert provider.segments[0].annotations["Service"] == "svc"
    assert "ColdStart" in provider.segments[0].annotations
    assert provider.segments[0].metadata["handler response"] == {"echo": {"a": 1}}


def test_with_tracing_on_a_method_error_is_recorded_and_raised() -> None:
    provider = RecordingProvider()
    tracer = lazy.DeferredTracer(service="svc", disabled=False, auto_patch=False, provider=provider)

    @tracer.capture_method
    def step(value: int) -> int:
        raise ValueError(f"bad {value}")

    with pytest.raises(ValueError, match="bad 3"):
        step(3)
    (segment,) = provider.segments
    assert segment.name.startswith(f"## {step.__module__}.")
    assert segment.name.endswith(".step")
    assert [type(v) for k, v in segment.metadata.items() if k.endswith(" error")] == [ValueError]


def test_with_tracing_disabled_the_function_runs_as_it_is() -> None:
    provider = RecordingProvider()
    tracer = lazy.DeferredTracer(disabled=True, auto_patch=False, provider=provider)

    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> str:
        return "done"

    assert handler({}, None) == "done"
    assert provider.segments == []
