"""What the runtime counts as a handler's own time: its AWS calls are the local cloud's (emulator) time,
and an invocation one of those calls makes is counted once, as its own function's."""

from __future__ import annotations

import importlib
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workflowkit.lambdas import FunctionSpec, InProcessRuntime

HANDLER = textwrap.dedent(
    """
    import time

    CALL = None  # the test's stand-in for an AWS call (it goes through the runtime's accounting)

    def busy(seconds):
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            pass

    def outer(event, context):
        busy(event["own"])
        CALL(event)
        return "done"

    def inner(event, context):
        busy(event["inner"])
        return "inner done"
    """
)


def spec(name: str, handler: str, code_dir: Path) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{name}",
        handler=handler,
        code_dir=code_dir,
        environment={},
        timeout_seconds=30,
        memory_mb=128,
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[InProcessRuntime]:
    (tmp_path / "timed_handler.py").write_text(HANDLER)
    runtime = InProcessRuntime()
    runtime.register(spec("Outer", "timed_handler.outer", tmp_path))
    runtime.register(spec("Inner", "timed_handler.inner", tmp_path))
    with runtime:
        runtime.load_all()
        yield runtime


def api_call(runtime: InProcessRuntime, *, emulator: float, invoke_inner: bool) -> Callable[[dict], None]:
    """An AWS call as the fast path times it: the local cloud's work (and maybe an Invoke of Inner)."""
    module = importlib.import_module("timed_handler")

    def call(event: dict) -> None:
        started = time.perf_counter()
        module.busy(emulator)
        if invoke_inner:
            runtime.invoke("Inner", event)
        runtime.count_api_call(time.perf_counter() - started)

    return call


def test_a_handlers_aws_calls_count_as_emulator_time_not_as_its_own(runtime: InProcessRuntime) -> None:
    # GIVEN a handler that runs its own code for 50 ms and makes a call the local cloud answers in 100 ms
    importlib.import_module("timed_handler").CALL = api_call(runtime, emulator=0.1, invoke_inner=False)
    started = time.perf_counter()
    runtime.invoke("Outer", {"own": 0.05})
    total = time.perf_counter() - started
    # THEN the call's time is the emulator's, the rest the handler's, and nothing is counted twice
    assert 0.1 <= runtime.emulator_seconds() < total - 0.05
    assert 0.05 <= runtime.handler_seconds() < total - 0.1
    assert runtime.handler_seconds() + runtime.emulator_seconds() <= total
    # AND the function's billed duration still includes the call, as Lambda bills it
    assert runtime.stats["Outer"].seconds >= 0.15


def test_an_invocation_made_by_a_handlers_call_is_counted_once_as_its_own(runtime: InProcessRuntime) -> None:
    # GIVEN a handler whose call (60 ms of the local cloud's work) invokes another function (40 ms of code)
    importlib.import_module("timed_handler").CALL = api_call(runtime, emulator=0.06, invoke_inner=True)
    started = time.perf_counter()
    runtime.invoke("Outer", {"own": 0.03, "inner": 0.04})
    total = time.perf_counter() - started
    # THEN both handlers' code is handler time, the call's own work emulator time, each counted once
    assert 0.07 <= runtime.handler_seconds() < total - 0.06
    assert 0.06 <= runtime.emulator_seconds() < total - 0.07
    assert runtime.handler_seconds() + runtime.emulator_seconds() <= total
