"""Step Functions on the local cloud: the ASL interpreter of :mod:`workflowkit.asl`, on the event loop.

moto keeps the records (state machines, executions: ``DescribeExecution``, ``ListExecutions`` and
``StopExecution`` read and write them); the executions run here instead of on moto's interpreter,
which costs ~40 ms per execution on threads of its own and sleeps in real time. ``StartExecution``
returns at once, as in AWS; the execution starts on the loop after a network latency, runs states
synchronously, and continues after ``Wait`` states and ``Retry`` back-offs on virtual time. Lambda
tasks call the in-process runtime; ``events:putEvents`` and DynamoDB integrations go through boto3,
so through the fast path to the same backends the handlers use.

``.waitForTaskToken`` tasks wait for SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat, which the fast
path answers from this service's token registry (:mod:`workflowkit.task_responses`); their timeouts are
background work on the loop (a paused execution leaves the cloud quiescent). CreateStateMachine and
UpdateStateMachine refuse, as Step Functions does, a callback pattern on an integration without one or in
an Express workflow (InvalidDefinition); other definitions are checked when they first run: one this
interpreter cannot run fails its execution with States.Runtime, as does anything unexpected an execution
raises, so no execution is left RUNNING and the loop goes on.

Every execution keeps its event history, from StartExecution on (a queued execution has its
ExecutionStarted event): ``GetExecutionHistory`` answers from it (:mod:`workflowkit.execution_history`).
StartExecution refuses input over the 256 KiB payload quota with a ValidationException, as AWS does.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError
from moto.core.exceptions import AWSError
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.models import StateMachine as MotoStateMachine
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import Execution as MotoExecution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from workflowkit.access import AccessDeniedError
from workflowkit.asl import (
    AslDefinitionError,
    ExecutionContext,
    ExecutionResult,
    InvalidDefinitionError,
    StateMachineProgram,
    TaskContext,
    TaskIntegrations,
    TaskTokens,
)
from workflowkit.asl.errors import RUNTIME
from workflowkit.asl.history import EXECUTION_ABORTED, EXECUTION_FAILED, EXECUTION_STARTED, History, Text
from workflowkit.asl.payload_limit import MAX_PAYLOAD_BYTES, text_exceeds_limit
from workflowkit.context import Functions, ServiceContext
from workflowkit.execution_history import register_execution_history
from workflowkit.execution_records import keep_compact
from workflowkit.fastpath import FastPath
from workflowkit.spool import Blobs
from workflowkit.task_responses import register_task_responses

if TYPE_CHECKING:
    from workflowkit.asl import Execution

_log = logging.getLogger(__name__)

_STATUS = {
    "SUCCEEDED": ExecutionStatus.SUCCEEDED,
    "FAILED": ExecutionStatus.FAILED,
    "ABORTED": ExecutionStatus.ABORTED,
}


class _OneExecution:
    """A state machine as moto's idempotency check sees it: just the execution with the name asked."""

    def __init__(self, execution: Any) -> None:
        self.executions = [execution]


class _LoopRuntime:
    """What the interpreter needs of the local cloud: virtual time, the loop, seeded randomness, tasks,
    and the registry of task tokens the cloud answers SendTask* calls from."""

    def __init__(
        self, context: ServiceContext, seed: int, integrations: TaskIntegrations, task_tokens: TaskTokens
    ) -> None:
        self._context = context
        self.random = random.Random(seed)
        self._integrations = integrations
        self.task_tokens = task_tokens

    def run_task(self, resource: str, parameters: Any, task: TaskContext) -> Any:
        # A task acts with its state machine's role: its calls are checked against that role's policies.
        access = self._context.access
        with access.acting_as(access.state_machine_role(task.state_machine_arn)):
            return self._integrations.run_task(resource, parameters, task)

    def now(self) -> datetime:
        return self._context.clock.now()

    def call_later(
        self, seconds: float, label: str, action: Callable[[], None], *, background: bool = False
    ) -> None:
        self._context.loop.call_later(timedelta(seconds=seconds), label, action, background=background)


class StepFunctionsService:
    """``seed`` seeds the interpreter's own random (retry jitter); ``functions`` runs Lambda tasks;
    ``client`` makes the boto3 client of a service for the other integrations."""

    def __init__(
        self,
        context: ServiceContext,
        *,
        seed: int,
        functions: Functions,
        client: Callable[[str], Any],
    ) -> None:
        self._context = context
        self._seed = seed
        self._functions = functions
        self._make_client = client
        self.statuses: Counter[str] = Counter()
        self._queued: set[str] = set()  # executions started but not yet running (their ARNs)
        self._running: dict[str, Execution] = {}
        self._programs: dict[str, StateMachineProgram] = {}
        self._clients: dict[str, Any] = {}
        self._saved: list[tuple[Any, str, Any]] = []
        self._runtime: _LoopRuntime | None = None
        self.task_tokens = TaskTokens()
        self._histories: dict[str, History] = {}  # every execution's, by ARN
        # Where ended executions' histories and records keep what is rarely read again: on disk.
        self._ended = Blobs()
        self._stop_reason: tuple[str | None, str | None] | None = None  # StopExecution's, while it runs

    def history(self, execution_arn: str) -> History | None:
        """The execution's history (None: no execution of this cloud has the ARN)."""
        return self._histories.get(execution_arn)

    # --- patches ------------------------------------------------------------------------------------
    def install(self, fast_path: FastPath) -> None:
        service = self
        register_task_responses(fast_path, self.task_tokens)
        register_execution_history(fast_path, self._context.backends, self.history)

        def start(execution: MotoExecution) -> None:
            execution.exec_status = ExecutionStatus.RUNNING
            service._queued.add(execution.exec_arn)
            history = service._histories[execution.exec_arn] = History()
            started_input = Text(execution.execution_input or "{}")
            history.add(EXECUTION_STARTED, 0, execution.start_date, (started_input, execution.role_arn))
            service._context.loop.call_later(
                service._context.network_latency(),
                f"run execution {execution.name}",
                lambda: service._run(execution),
            )

        def stop(execution: MotoExecution, stop_date: Any, error: str | None, cause: str | None) -> None:
            # moto passes "" for both; the caller's own come through stop_execution below.
            error, cause = service._stop_reason or (error or None, cause or None)
            service._stop(execution, error=error, cause=cause)

        original_idempotency = MotoStateMachine._handle_name_input_idempotency
        # Not an attribute of the machine: moto deep-copies the machine on every StartExecution.
        # Each entry holds its machine, so the id cannot be reused while the entry lives.
        by_machine: dict[int, tuple[MotoStateMachine, int, dict[str, Any]]] = {}

        def name_input_idempotency(machine: MotoStateMachine, name: str, execution_input: str) -> Any:
            # moto scans every execution of the machine per StartExecution (O(n) per start, O(n^2) per
            # run); executions are only ever appended, so an index by name extended on use is the same.
            _, indexed, names = by_machine.get(id(machine), (machine, 0, {}))
            for execution in machine.executions[indexed:]:
                names.setdefault(execution.name, execution)
            by_machine[id(machine)] = (machine, len(machine.executions), names)
            existing = names.get(name)
            if existing is None:
                return None
            return original_idempotency(cast(Any, _OneExecution(existing)), name, execution_input)

        original_create = StepFunctionsParserBackend.create_state_machine
        original_update = StepFunctionsParserBackend.update_state_machine

        def create_state_machine(backend: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
            service._refuse_invalid(kwargs.get("definition", ""), express=kwargs.get("sm_type") == "EXPRESS")
            return original_create(backend, *args, **kwargs)

        def update_state_machine(
            backend: StepFunctionsParserBackend, arn: str, definition: Any = None, **kwargs: Any
        ) -> Any:
            if definition is not None:
                express = backend.describe_state_machine(arn).type == "EXPRESS"
                service._refuse_invalid(definition, express=express)
            return original_update(backend, arn, definition, **kwargs)

        self._patch(MotoExecution, "start", start)
        self._patch(MotoExecution, "stop", stop)
        self._patch(MotoStateMachine, "_handle_name_input_idempotency", name_input_idempotency)
        self._patch(StepFunctionsParserBackend, "create_state_machine", create_state_machine)
        self._patch(StepFunctionsParserBackend, "update_state_machine", update_state_machine)
        self._install_api_patches()

    def _install_api_patches(self) -> None:
        """StartExecution's payload quota, StopExecution's reason, GetExecutionHistory from the histories."""
        service = self

        original_stop = StepFunctionsParserBackend.stop_execution

        def stop_execution(
            backend: StepFunctionsParserBackend,
            execution_arn: str,
            error: str | None = None,
            cause: str | None = None,
        ) -> Any:
            service._stop_reason = (error, cause)
            try:
                return original_stop(backend, execution_arn)
            finally:
                service._stop_reason = None

        original_start = StepFunctionsParserBackend.start_execution

        def start_execution(
            backend: StepFunctionsParserBackend, state_machine_arn: str, *args: Any, **kwargs: Any
        ) -> Any:
            execution_input = kwargs.get("execution_input", args[1] if len(args) > 1 else None)
            if isinstance(execution_input, str) and text_exceeds_limit(execution_input):
                # The API's own constraint on the input (SensitiveData, at most 262,144 bytes).
                raise ValidationException(
                    "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must"
                    f" have length less than or equal to {MAX_PAYLOAD_BYTES}"
                )
            return original_start(backend, state_machine_arn, *args, **kwargs)

        def get_execution_history(backend: StepFunctionsParserBackend, execution_arn: str) -> Any:
            # moto's own answer reads its interpreter's records, which these executions do not have.
            backend.describe_execution(execution_arn)
            history = service.history(execution_arn)
            return {"events": list(history.rendered()) if history is not None else []}

        self._patch(StepFunctionsParserBackend, "start_execution", start_execution)
        self._patch(StepFunctionsParserBackend, "stop_execution", stop_execution)
        self._patch(StepFunctionsParserBackend, "get_execution_history", get_execution_history)

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    # --- running ------------------------------------------------------------------------------------
    def _stop(self, execution: MotoExecution, *, error: str | None, cause: str | None) -> None:
        """StopExecution: a queued or waiting execution is aborted; a finished one is left as it is."""
        arn = execution.exec_arn
        running = self._running.get(arn)
        if running is not None:
            running.stop(error, cause)  # reports ABORTED through _finish
            return
        if arn not in self._queued:
            return
        self._queued.discard(arn)
        history = self._histories[arn]
        history.add(EXECUTION_ABORTED, len(history), self._context.clock.now(), (error, cause))
        self._record(execution, ExecutionResult.aborted(error, cause))

    def _run(self, execution: MotoExecution) -> None:
        arn = execution.exec_arn
        if arn not in self._queued:
            return  # stopped before it ran
        self._queued.discard(arn)
        try:
            faults = self._context.faults()
            faults.before_execution(execution.name)
            faults.starting_execution(execution.name, execution.state_machine.arn, execution.input_data)
        except Exception as error:  # an injected fault fails this execution, not the run
            self._fail_before_start(execution, type(error).__name__, str(error))
            return
        state_machine = execution.state_machine
        context = ExecutionContext(
            execution_arn=arn,
            execution_name=execution.name,
            start_time=execution.start_date,
            state_machine_arn=state_machine.arn,
            state_machine_name=state_machine.name,
            role_arn=execution.role_arn,
            input_text=execution.execution_input,
        )
        try:
            program = self._program(state_machine.definition)
        except AslDefinitionError as error:
            # Valid for Step Functions (CreateStateMachine took it) but beyond this interpreter.
            self._fail_before_start(
                execution, RUNTIME, f"The local interpreter cannot run this definition: {error}"
            )
            return
        try:
            running = program.start(
                execution.input_data,
                context,
                self._loop_runtime(),
                lambda result: self._finish(execution, result),
            )
        except Exception as error:
            # The interpreter fails an execution for whatever its states raise; this is a bug around
            # them. The execution still ends, as FAILED, and the loop goes on.
            _log.warning("execution %s raised while it started", arn, exc_info=True)
            if execution.exec_status == ExecutionStatus.RUNNING:
                self._fail_before_start(
                    execution, RUNTIME, f"Internal error of the local interpreter: {error!r}"
                )
            return
        self._histories[arn] = running.history
        if running.status == "RUNNING":  # waiting on virtual time: it may still be stopped
            self._running[arn] = running
        else:
            running.history.pack(self._ended)  # it ended as it started: kept packed (asl.history.History)

    def _fail_before_start(self, execution: MotoExecution, error: str, cause: str) -> None:
        history = self._histories[execution.exec_arn]
        history.add(EXECUTION_FAILED, 0, self._context.clock.now(), (error, cause))
        self._record(execution, ExecutionResult.failed(error, cause))

    def _finish(self, execution: MotoExecution, result: ExecutionResult) -> None:
        self._running.pop(execution.exec_arn, None)
        self._record(execution, result)

    def _record(self, execution: MotoExecution, result: ExecutionResult) -> None:
        now = self._context.clock.now()
        execution.exec_status = _STATUS[str(result.status)]
        execution.stop_date = now
        execution.output = result.output  # type: ignore[assignment]  # moto declares the attribute None
        execution.error, execution.cause = result.error, result.cause
        self.statuses[str(result.status)] += 1
        self._context.ledger.trace("execution", now, execution.name, str(result.status))
        history = self._histories.get(execution.exec_arn)
        if history is not None and execution.exec_arn not in self._running:
            history.pack(self._ended)  # nothing is added to an ended execution's history: kept packed
        keep_compact(execution, self._ended)

    def _refuse_invalid(self, definition: str, *, express: bool) -> None:
        """CreateStateMachine's check: what Step Functions refuses is refused (InvalidDefinition); what
        only this interpreter cannot run is left for the execution to report, as before."""
        try:
            program = StateMachineProgram.parse(definition, express=express)
        except InvalidDefinitionError as error:
            message = f"Invalid State Machine Definition: '{error.reason}'"
            raise AWSError(message, "InvalidDefinition") from None
        except AslDefinitionError:
            return
        if not express:
            self._programs.setdefault(definition, program)

    def _program(self, definition: str) -> StateMachineProgram:
        program = self._programs.get(definition)
        if program is None:
            program = self._programs[definition] = StateMachineProgram.parse(definition)
        return program

    def _loop_runtime(self) -> _LoopRuntime:
        if self._runtime is None:
            integrations = TaskIntegrations(invoke_lambda=self._invoke_lambda, client=self._client)
            self._runtime = _LoopRuntime(self._context, self._seed, integrations, self.task_tokens)
        return self._runtime

    def _invoke_lambda(self, function: str, payload: Any) -> tuple[str, bool]:
        # A name, a function ARN, or a qualified function ARN (arn:...:function:name:alias).
        name = function.split(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        try:
            self._context.access.check_call("lambda", "Invoke", {"FunctionName": function})
        except AccessDeniedError as error:
            # What the Lambda API answers the state machine's role: Lambda.AccessDeniedException in ASL.
            raise ClientError({"Error": {"Code": error.code, "Message": error.message}}, "Invoke") from None
        return self._functions.invoke_json(name, payload)

    def _client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            client = self._clients[service] = self._make_client(service)
        return client

    def start_from_event(self, state_machine_arn: str, payload: str) -> None:
        """An EventBridge target start: unnamed, so the name is generated (from the seeded random)."""
        name = str(uuid.UUID(int=self._context.loop.random.getrandbits(128), version=4))
        json.loads(payload)  # Step Functions rejects input that is not JSON
        self._context.backends("stepfunctions").start_execution(
            state_machine_arn, name=name, execution_input=payload
        )
