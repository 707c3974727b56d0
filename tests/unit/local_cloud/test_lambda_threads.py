"""Invocations on several threads at once, as Lambda runs concurrent invocations side by side.

Each thread has its own invocations in progress: what it prints reaches its own function's log, its
pauses are virtual and counted against its own invocation, its calls are the app's only while its own
handler runs; and ``sys.stdout`` is the caller's again once every invocation is over, whichever order
they end in.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workflowkit.lambdas import FunctionSpec, InProcessRuntime

WAIT = 10.0
HANDLER = textwrap.dedent(
    """
    import time

    HOOKS = {}  # the test's synchronisation points, by event name

    def handler(event, context):
        print(f"{context.function_name} starts {event['name']}")
        HOOKS[event["name"]]()
        time.sleep(event["seconds"])
        print(f"{context.function_name} ends {event['name']}")
        return {"remaining": context.get_remaining_time_in_millis()}
    """
)


def spec(name: str, code_dir: Path) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{name}",
        handler="threaded_handler.handler",
        code_dir=code_dir,
        environment={},
        timeout_seconds=30,
        memory_mb=128,
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[InProcessRuntime]:
    (tmp_path / "threaded_handler.py").write_text(HANDLER)
    runtime = InProcessRuntime()
    runtime.register(spec("First", tmp_path))
    runtime.register(spec("Second", tmp_path))
    with runtime:
        runtime.load_all()
        yield runtime


def test_two_threads_invoking_at_once_each_log_pause_and_count_for_themselves(
    runtime: InProcessRuntime,
) -> None:
    import threaded_handler  # noqa: PLC0415 - the module the runtime loaded, on its sys.path

    caller_stdout = sys.stdout
    first_inside, second_done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def first_waits_for_second() -> None:
        seen["first invoking"] = runtime.invoking
        first_inside.set()
        assert second_done.wait(WAIT)

    def second_runs_meanwhile() -> None:
        seen["second invoking"] = runtime.invoking

    threaded_handler.HOOKS.update(a=first_waits_for_second, b=second_runs_meanwhile)
    results: dict[str, Any] = {}

    def invoke(function: str, name: str, seconds: float) -> None:
        results[name] = runtime.invoke(function, {"name": name, "seconds": seconds})

    # GIVEN the first invocation in progress on its thread
    first = threading.Thread(target=invoke, args=("First", "a", 20))
    first.start()
    assert first_inside.wait(WAIT)
    # WHEN a second one runs to its end on another thread (and this thread is no handler's)
    seen["test thread invoking"] = runtime.invoking
    started = time.perf_counter()
    second = threading.Thread(target=invoke, args=("Second", "b", 5))
    second.start()
    second.join(WAIT)
    second_done.set()
    first.join(WAIT)
    # THEN both pauses were virtual and each counted only for its own invocation
    assert time.perf_counter() - started < 5
    assert 24_000 < results["b"]["remaining"] <= 25_000
    assert 9_000 < results["a"]["remaining"] <= 10_000
    assert seen == {"first invoking": True, "second invoking": True, "test thread invoking": False}
    # AND each function's prints are in its own log, and the caller's stdout is back
    assert list(runtime.logs["First"].lines) == ["First starts a", "First ends a"]
    assert list(runtime.logs["Second"].lines) == ["Second starts b", "Second ends b"]
    assert sys.stdout is caller_stdout
    # AND outside any handler, time.sleep sleeps in real time on every thread
    started = time.perf_counter()
    time.sleep(0.05)
    assert time.perf_counter() - started >= 0.05
