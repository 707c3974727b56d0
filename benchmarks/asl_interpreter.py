"""Per-execution time of workflowkit.asl vs moto 5.2.5's ASL interpreter, payment happy path, fake tasks.

Run: .venv/bin/python benchmarks/asl_interpreter.py  (one run; prints a side-by-side table).

Both sides run statemachines/payment.asl.json (placeholders filled in) to PublishPaymentProcessed, with
the same instant fakes: the Lambdas answer from a table, DynamoDB putItem and EventBridge putEvents
return at once. Both parse the definition once (moto's ANTLR parse is cached as the local cloud did).

- ours: ``StateMachineProgram.start`` on a ``VirtualRuntime``, tasks through the standard
  ``TaskIntegrations`` (as the local cloud runs them), and once more with a bare ``run_task`` that returns
  the Lambda results directly (the interpreter's own overhead);
- moto: the parser backend's ``start_execution`` with ``execute_state_machine`` on, its worker run
  synchronously (no execution thread; moto still starts one thread per Task state for its timeout) and
  ``boto_client_for`` patched to return the fakes, so no HTTP and no Lambda container is involved.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT, REGION = "123456789012", "us-east-1"
PLACEHOLDERS = {
    "${ChecksFunctionArn}": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payment-checks",
    "${GatewayFunctionArn}": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payment-gateway",
    "${PaymentsTableName}": "payments",
    "${EventBusName}": "commerce",
}
ORDER = {
    "orderId": "o-1",
    "customerId": "c-1",
    "totalMinor": 2500,
    "currency": "EUR",
    "lines": [{"sku": "a", "qty": 1}],
}
INPUT = {"data": {"order": ORDER}, "metadata": {"correlationId": "corr-1", "eventId": "evt-1"}}
ANSWERS: dict[str, Any] = {
    "validate": {"valid": True},
    "fraud": {"decision": "ALLOW"},
    "authorize": {"paymentId": "pay-1", "authorizationId": "auth-1", "amountMinor": 2500, "currency": "EUR"},
    "capture": {"captureId": "cap-1", "amountMinor": 2500, "currency": "EUR"},
}


def definition() -> str:
    text = (ROOT / "statemachines" / "payment.asl.json").read_text(encoding="utf-8")
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


class FakeAws:
    """Instant Lambda, DynamoDB and EventBridge: the same answers for both interpreters."""

    def invoke_lambda(self, _function: str, payload: Any) -> tuple[str, bool]:
        return json.dumps(ANSWERS[payload["operation"]]), False

    # boto3-style client methods
    def invoke(self, **parameters: Any) -> dict[str, Any]:  # moto passes Payload as JSON bytes
        payload = json.loads(parameters["Payload"])
        body = json.dumps(ANSWERS[payload["operation"]]).encode()
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": io.BytesIO(body)}

    def put_item(self, **_parameters: Any) -> dict[str, Any]:
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def put_events(self, **parameters: Any) -> dict[str, Any]:
        entries = [{"EventId": "e"} for _ in parameters["Entries"]]
        return {"FailedEntryCount": 0, "Entries": entries, "ResponseMetadata": {"HTTPStatusCode": 200}}


def timed(run: Callable[[], None], count: int, rounds: int = 5) -> float:
    """Seconds per call: the best of ``rounds`` rounds of ``count`` calls, after a warm-up round."""
    best = float("inf")
    for round_number in range(rounds + 1):
        start = time.perf_counter()
        for _ in range(count):
            run()
        if round_number:  # round 0 warms caches up
            best = min(best, (time.perf_counter() - start) / count)
    return best


def ours(count: int) -> tuple[float, float, float]:
    from workflowkit.asl import StateMachineProgram, TaskIntegrations, VirtualRuntime, local_context  # noqa: PLC0415

    text = definition()
    start = time.perf_counter()
    program = StateMachineProgram.parse(text)
    parse = time.perf_counter() - start
    fake = FakeAws()
    integrations = TaskIntegrations(fake.invoke_lambda, lambda _service: fake)
    statuses: list[str] = []

    def run_with(runtime: VirtualRuntime) -> Callable[[], None]:
        def run() -> None:
            context = local_context(runtime, "o-1-payment-1", "payment")
            program.start(INPUT, context, runtime, lambda result: statuses.append(result.status))

        return run

    def bare_task(resource: str, parameters: Any, _task: Any) -> Any:
        if resource.endswith("lambda:invoke"):
            return {"Payload": ANSWERS[parameters["Payload"]["operation"]]}
        return {}

    with_integrations = timed(run_with(VirtualRuntime(integrations.run_task)), count)
    bare = timed(run_with(VirtualRuntime(bare_task)), count)
    assert set(statuses) == {"SUCCEEDED"}, set(statuses)
    return parse, with_integrations, bare


@contextmanager
def moto_synchronous(fake: FakeAws) -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: PLC0415
        state_task_service_dynamodb,
        state_task_service_events,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser  # noqa: PLC0415
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: PLC0415

    programs: dict[str, Any] = {}

    def entrypoint(worker: Any) -> Any:
        text = worker._evaluation_details.state_machine_details.definition
        if text not in programs:
            programs[text] = AmazonStateLanguageParser.parse(text)[0]
        return programs[text]

    def client_for(*_args: Any, **_kwargs: Any) -> FakeAws:
        return fake

    with (
        mock.patch.object(ExecutionWorker, "start", lambda worker: worker._execution_logic()),
        mock.patch.object(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint),
        mock.patch.object(lambda_eval_utils, "boto_client_for", client_for),
        mock.patch.object(state_task_service_dynamodb, "boto_client_for", client_for),
        mock.patch.object(state_task_service_events, "boto_client_for", client_for),
    ):
        yield


def moto(count: int) -> tuple[float, float]:
    from moto import mock_aws  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser  # noqa: PLC0415
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # noqa: PLC0415

    text = definition()
    start = time.perf_counter()
    AmazonStateLanguageParser.parse(text)
    parse = time.perf_counter() - start
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), moto_synchronous(FakeAws()):
        backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        machine = backend.create_state_machine("payment", text, f"arn:aws:iam::{ACCOUNT}:role/sfn")
        numbers = iter(range(10**9))
        statuses: list[str] = []
        payload = json.dumps(INPUT)

        def run() -> None:
            execution = backend.start_execution(
                machine.arn, name=f"o-{next(numbers)}", execution_input=payload
            )
            statuses.append(str(execution.exec_status))

        per_execution = timed(run, count, rounds=3)
    assert all(status.endswith("SUCCEEDED") for status in statuses), set(statuses)
    return parse, per_execution


def main() -> None:
    our_parse, with_integrations, bare = ours(1000)
    moto_parse, moto_run = moto(30)
    rows = [
        ("ours, tasks via TaskIntegrations", with_integrations, our_parse),
        ("ours, bare run_task (interpreter only)", bare, our_parse),
        ("moto 5.2.5 (backend start_execution, sync worker)", moto_run, moto_parse),
    ]
    print(
        "payment.asl.json happy path, 6 Task states, instant fake tasks (Lambda, DynamoDB putItem, putEvents)"
    )
    print(f"{'interpreter':<52}{'per execution':>16}{'executions/s':>14}{'parse (once)':>15}")
    for label, seconds, parse in rows:
        print(f"{label:<52}{seconds * 1e6:>13.0f} us{1 / seconds:>14.0f}{parse * 1e3:>12.1f} ms")
    speed_ups = f"{moto_run / with_integrations:.0f}x (with integrations), {moto_run / bare:.0f}x (bare)"
    print(f"speed-up vs moto: {speed_ups}")


if __name__ == "__main__":
    main()
