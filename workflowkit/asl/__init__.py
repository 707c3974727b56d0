"""An Amazon States Language interpreter for the local cloud: fast, single-threaded, on virtual time.

    program = StateMachineProgram.parse(definition_text)   # AslDefinitionError if invalid; immutable
    execution = program.start(
        execution_input,          # parsed JSON
        context,                  # ExecutionContext: ARNs, names, start time (UTC), role
        runtime,                  # Runtime: now(), call_later(), random, run_task(), task_tokens
        on_finish,                # called once with an ExecutionResult
        on_transition=None,       # optional: TransitionEvent per entered/submitted/exited/failed/...
    )
    execution.stop(error, cause)  # abort: ABORTED is reported once, pending continuations do nothing
    execution.status              # ExecutionStatus: RUNNING, SUCCEEDED, FAILED, ABORTED

Between two continuations the execution runs synchronously: one with no Wait state, no Retry back-off
and no callback task finishes (and calls ``on_finish``) before ``start`` returns. Wait states and
back-offs are ``runtime.call_later`` continuations on virtual time; nothing sleeps and no thread is
started.
Parallel branches and Map iterations are independent flows on the same runtime: a branch that waits
lets the others progress, and the state completes when the last one does.

Supported (JSONPath query language): Pass, Task, Choice (every comparison operator, the ``...Path``
variants, And/Or/Not, the Is* tests, StringMatches), Wait (Seconds, SecondsPath, Timestamp,
TimestampPath), Succeed, Fail (Error/ErrorPath, Cause/CausePath), Parallel, inline Map (ItemsPath,
ItemSelector or Parameters, ItemProcessor or Iterator, MaxConcurrency/MaxConcurrencyPath); InputPath,
Parameters, ResultSelector, ResultPath (null discards), OutputPath; Retry (IntervalSeconds,
MaxAttempts, BackoffRate, MaxDelaySeconds, JitterStrategy) and Catch; the context object; the
intrinsic functions. A request-response task completes at once, so its TimeoutSeconds/HeartbeatSeconds
(validated, resolved and passed to the task runner) never expire.

``.waitForTaskToken`` tasks (Lambda, EventBridge, SQS, SNS, AWS SDK integrations; Standard workflows):
each attempt gets a new token, in the context object (``$$.Task.Token``) while its Parameters are
evaluated; after the service call the task waits, on virtual time, until the host answers through
``runtime.task_tokens`` (``TaskTokens.send_success`` / ``send_failure`` / ``send_heartbeat``, raising
``TaskTokenError`` with the API's error code). TimeoutSeconds ends the wait with States.Timeout,
HeartbeatSeconds without a heartbeat with States.HeartbeatTimeout (``call_later(..., background=True)``:
a waiting task does not keep the host busy). A retry, a failed service call, ``stop`` or a failed
sibling branch closes the token (a late answer: ``TaskTimedOut``). See ``callbacks`` and ``waiting``.

Run tasks with ``TaskIntegrations(invoke_lambda, client).run_task`` (Lambda, the optimised DynamoDB,
EventBridge, SQS and SNS integrations, AWS SDK integrations); ``VirtualRuntime`` and
``run_to_completion`` run a program on their own virtual clock (tests, benchmarks, one-off runs).

No continuation is scheduled more than a Standard execution's one year ahead
(``runtime.MAX_DELAY_SECONDS``): a longer Wait or Retry back-off resumes after one year.

Every execution records its event history as Step Functions does (``execution.history``: the events
and ``previousEventId`` chains of GetExecutionHistory, see ``history``); a States.Runtime cause names the
state and the id of the event that entered it, as AWS words it. The 256 KiB payload quota applies
(``payload_limit``): a task result over it fails the task with States.DataLimitExceeded (a catchable task
failure, as recorded against AWS), a state output over it fails the execution (terminal). Whatever a
definition or its data makes a lower layer raise fails the execution with States.Runtime: nothing
escapes to the host, and no execution is left running by it.

Not modelled: execution-level ``TimeoutSeconds`` (parsed only), the quota on a state's input after its
Parameters, Task ``Credentials`` (accepted, ignored), Lambda ``InvocationType``/``Qualifier`` (the
function runs synchronously as $LATEST).

Modules: ``definition`` (parse and validate into the immutable program; ``fields`` compiles a state's
fields, ``states`` holds the compiled states), ``paths`` (JSONPath), ``payload`` (templates),
``intrinsics`` / ``functions`` (intrinsic functions), ``choice`` (Choice rules), ``execution`` (the
execution and its flows, Retry, Catch), ``handlers`` (what each state type does, Parallel/Map joins),
``runtime`` (the host contract and the result types), ``integrations``, ``integration_patterns``
(which resources take which pattern), ``tokens`` (the task token's format), ``callbacks`` (the registry
of open tokens), ``waiting`` (a callback task's wait and timers), ``virtual``, ``errors`` (one hierarchy
under ``AslError``), ``values`` (JSON, timestamps), ``history`` (the event history and its API shapes),
``task_events`` (a Task state's events), ``payload_limit`` (the 256 KiB quota).

Rejected at parse time (``AslDefinitionError``): JSONata, workflow variables (``Assign``), Distributed
Map, JSONPath filters and functions; and, as Step Functions refuses them at CreateStateMachine
(``InvalidDefinitionError``), a ``.waitForTaskToken`` on an integration without the callback pattern
(the optimised DynamoDB one, a Lambda function ARN) or in an Express workflow
(``parse(text, express=True)``). Failing at run time with States.Runtime: ``.sync`` resources (valid ASL
that this interpreter cannot run: other paths of the machine still work), and resources
``TaskIntegrations`` does not know.
"""

from __future__ import annotations

from workflowkit.asl.callbacks import TaskTokens
from workflowkit.asl.definition import StateMachineProgram
from workflowkit.asl.errors import (
    AslDefinitionError,
    AslError,
    ExecutionError,
    InvalidDefinitionError,
    TaskFailed,
    TaskTokenError,
)
from workflowkit.asl.execution import Execution, FinishCallback, TransitionCallback
from workflowkit.asl.integrations import TaskIntegrations
from workflowkit.asl.runtime import (
    ExecutionContext,
    ExecutionResult,
    ExecutionStatus,
    Runtime,
    TaskContext,
    TransitionEvent,
)
from workflowkit.asl.virtual import VirtualRuntime, local_context, run_to_completion

__all__ = [
    "AslDefinitionError",
    "AslError",
    "Execution",
    "ExecutionContext",
    "ExecutionError",
    "ExecutionResult",
    "ExecutionStatus",
    "FinishCallback",
    "InvalidDefinitionError",
    "Runtime",
    "StateMachineProgram",
    "TaskContext",
    "TaskFailed",
    "TaskIntegrations",
    "TaskTokenError",
    "TaskTokens",
    "TransitionCallback",
    "TransitionEvent",
    "VirtualRuntime",
    "local_context",
    "run_to_completion",
]
