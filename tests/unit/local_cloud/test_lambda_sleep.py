"""A handler's pauses on the local cloud: instant, yet counted towards its running time (its timeout)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workflowkit.lambdas import FunctionSpec, InProcessRuntime

HANDLER = textwrap.dedent(
    """
    import time
    from time import sleep as kept_at_cold_start  # a module that keeps the function it imported

    EFFECTS = []

    def handler(event, context):
        before = context.get_remaining_time_in_millis()
        try:
            time.sleep(event["seconds"])
            kept_at_cold_start(event["seconds"])
        except Exception:  # a handler's own catch-all (a batch processor's) must not outlive a timeout
            pass
        EFFECTS.append(event["seconds"])  # what it does after its pauses
        return {"before": before, "after": context.get_remaining_time_in_millis()}
    """
)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[InProcessRuntime]:
    (tmp_path / "pausing_handler.py").write_text(HANDLER)
    runtime = InProcessRuntime()
    runtime.register(
        FunctionSpec(
            name="Pausing",
            arn="arn:aws:lambda:eu-west-1:123456789012:function:Pausing",
            handler="pausing_handler.handler",
            code_dir=tmp_path,
            environment={},
            timeout_seconds=30,
            memory_mb=128,
        )
    )
    with runtime:
        runtime.load_all()
        yield runtime


def test_a_handlers_pauses_return_at_once_and_use_up_its_remaining_time(runtime: InProcessRuntime) -> None:
    # GIVEN a handler that pauses twice for 5 seconds (as a back-off before another try would)
    started = time.perf_counter()
    result = runtime.invoke("Pausing", {"seconds": 5})
    # THEN it did not wait in real time, but the 10 seconds count as its running time
    assert time.perf_counter() - started < 2
    assert result["before"] > 29_000
    assert result["before"] - result["after"] >= 10_000


def test_a_handler_that_pauses_past_its_timeout_times_out_as_in_lambda(runtime: InProcessRuntime) -> None:
    import pausing_handler  # noqa: PLC0415 - the module the runtime loaded, on its sys.path

    started = time.perf_counter()
    payload, errored = runtime.invoke_json("Pausing", {"seconds": 20})
    assert errored
    assert '"errorType": "Sandbox.Timedout"' in payload
    assert time.perf_counter() - started < 2
    # AND it was stopped at its timeout, in the pause: what it would have done afterwards never happened
    assert pausing_handler.EFFECTS == []


def test_outside_a_handler_sleep_sleeps_and_is_put_back_on_exit() -> None:
    original = time.sleep
    runtime = InProcessRuntime()
    with runtime:
        started = time.perf_counter()
        time.sleep(0.05)  # the test's own pause, not a handler's: real time
        assert time.perf_counter() - started >= 0.04
    assert time.sleep is original
