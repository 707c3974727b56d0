"""Step Functions on the local cloud: moto's ASL interpreter, run on the event loop and on virtual time.

moto runs each execution on a background thread and sleeps in real time for ``Retry`` intervals and
``Wait`` states. Here an execution starts as a loop task (``StartExecution`` returns at once, as in
AWS), runs to its end on that task, and its sleeps advance the virtual clock instead of waiting.
Lambda tasks call the in-process runtime through moto's Lambda backend; ``events:putEvents`` and
DynamoDB integrations go through moto and on to the local EventBridge.
"""

from __future__ import annotations

import json
import random
import types
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.component.common.retry import jitter_strategy_decl, retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend import execution_worker
from moto.stepfunctions.parser.backend.execution import Execution

if TYPE_CHECKING:
    from workflowkit.cloud import LocalCloud


class StepFunctionsService:
    def __init__(self, cloud: LocalCloud) -> None:
        self._cloud = cloud
        self.statuses: Counter[str] = Counter()
        self._queued: set[int] = set()  # executions started but not yet run (ids of their workers)
        self._saved: list[tuple[Any, str, Any]] = []

    # --- patches ------------------------------------------------------------------------------------
    def install(self) -> None:
        cloud = self._cloud
        service = self

        def start(worker: Any) -> None:
            name = worker._evaluation_details.execution_details.name
            service._queued.add(id(worker))
            cloud.loop.call_later(
                cloud.network_latency(), f"run execution {name}", lambda: service._run(worker)
            )

        virtual_time = types.SimpleNamespace(
            sleep=cloud.clock.advance, time=lambda: cloud.clock.now().timestamp()
        )

        def wait_interval(_self: Any, env: Any, wait_seconds: int) -> None:
            cloud.clock.advance(wait_seconds)

        programs: dict[str, Any] = {}

        def entrypoint(worker: Any) -> Any:
            # Parsing ASL with moto's ANTLR grammar takes ~0.2 s; the parsed program is immutable (each
            # execution's state lives in its Environment), so one parse per definition serves all.
            definition = worker._evaluation_details.state_machine_details.definition
            if definition not in programs:
                programs[definition] = AmazonStateLanguageParser.parse(definition)[0]
            return programs[definition]

        def stop(execution: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
            service._stop(execution, error=error, cause=cause)

        self._patch(execution_worker.ExecutionWorker, "start", start)
        self._patch(Execution, "stop", stop)
        self._patch(execution_worker.ExecutionWorker, "_get_evaluation_entrypoint", entrypoint)
        self._patch(retrier_decl, "time", virtual_time)
        # Retry jitter draws from the run's seeded random, so retried executions stay deterministic.
        self._patch(jitter_strategy_decl, "random", random.Random(cloud.seed))
        self._patch(wait_function.WaitFunction, "_wait_interval", wait_interval)

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    # --- running ------------------------------------------------------------------------------------
    def _stop(self, execution: Any, *, error: str | None, cause: str | None) -> None:
        """StopExecution: an execution waiting for its turn is aborted; a finished one is left as it is.

        (An execution runs to its end within one loop task, so none is ever stopped mid-way here.)
        """
        worker = execution.exec_worker
        if worker is None or id(worker) not in self._queued:
            return
        self._queued.discard(id(worker))
        execution.exec_status = ExecutionStatus.ABORTED
        execution.stop_date = self._cloud.clock.now()
        execution.error, execution.cause = error, cause
        self.statuses["ABORTED"] += 1
        self._cloud.ledger.trace("execution", self._cloud.clock.now(), execution.name, "ABORTED")

    def _run(self, worker: Any) -> None:
        if id(worker) not in self._queued:
            return  # stopped before it ran
        self._queued.discard(id(worker))
        cloud = self._cloud
        details = worker._evaluation_details.execution_details
        try:
            cloud.faults.before_execution(details.name)
        except Exception as error:  # an injected fault fails this execution, not the run
            execution = self._execution(details.arn)
            execution.exec_status = ExecutionStatus.FAILED
            execution.stop_date = cloud.clock.now()
            execution.error, execution.cause = type(error).__name__, str(error)
            self.statuses["FAILED"] += 1
            cloud.ledger.trace("execution", cloud.clock.now(), details.name, "FAILED")
            return
        worker._execution_logic()
        execution = self._execution(details.arn)
        status = str(getattr(execution, "exec_status", "UNKNOWN"))
        status = status.rsplit(".", maxsplit=1)[-1]
        self.statuses[status] += 1
        cloud.ledger.trace("execution", cloud.clock.now(), details.name, status)

    def _execution(self, arn: str) -> Any:
        backend = self._cloud.backend("stepfunctions")
        return backend.describe_execution(arn)

    def start_from_event(self, state_machine_arn: str, payload: str) -> None:
        """An EventBridge target start: unnamed, so the name is generated (from the seeded random)."""
        name = str(uuid.UUID(int=self._cloud.loop.random.getrandbits(128), version=4))
        json.loads(payload)  # Step Functions rejects input that is not JSON
        self._cloud.backend("stepfunctions").start_execution(
            state_machine_arn, name=name, execution_input=payload
        )
