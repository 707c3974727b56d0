"""Running Lambda functions in-process, from their asset folders in ``cdk.out``.

Each function is imported from its own code asset with its own environment (handlers read it once, at
cold start, as in Lambda), invoked with a Lambda-like context, and held to its timeout: a handler that
runs longer than the template allows fails with ``Sandbox.Timedout``, as in AWS. What a handler
prints or logs goes to the function's log, not to the terminal.

Local time stands still while a handler runs (the event loop moves it between tasks), so a handler
that pauses (``time.sleep``: a back-off before trying a write again, say) waits for nothing: the
pause returns at once and counts towards the handler's running time, for its timeout and
``get_remaining_time_in_millis``, as the pause would in Lambda. Outside handlers ``time.sleep`` sleeps.

Invocations may run on several threads at once (Lambda runs concurrent invocations side by side; a
concurrency test does the same here). Each thread has its own invocations in progress: whether a call
is the app's, whose pause is virtual, whose log a ``print`` reaches. The functions' modules and
``os.environ`` are shared, as within one execution environment, so concurrent invocations should be
of functions that read their environment at cold start (the app's do).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import itertools
import json
import os
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflowkit.clock import real_perf_counter

LOG_LINES_KEPT = 2000
_REAL_SLEEP = time.sleep


class HandlerError(Exception):
    """The handler raised or timed out; ``error_type`` is what Lambda reports as ``errorType``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class FunctionLog(io.TextIOBase):
    """A function's log stream: the last lines it wrote, kept in memory."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        self._partial = ""
        self.written = 0  # characters written in all (what CloudWatch Logs would ingest)

    def write(self, text: str) -> int:
        self.written += len(text)
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines.extend(line for line in complete if line)
        return len(text)

    def writable(self) -> bool:
        return True


class _StoppedAtTimeout(BaseException):
    """Raised into a handler that sleeps past its timeout. A BaseException, so the handler's own
    ``except Exception`` (a batch processor's, say) cannot catch it and carry on as Lambda never would."""


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: float
    started: float = field(default_factory=real_perf_counter)
    log_group_name: str = ""
    log_stream_name: str = "local"
    slept: float = 0.0  # seconds the handler paused (they take no real time locally)
    # Real seconds inside the handler's AWS calls (the local cloud answering them), and of those, inside
    # invocations those calls made (a handler invoking another function): see ``count_api_call``.
    api_seconds: float = 0.0
    nested_seconds: float = 0.0
    event: Any = field(default=None, repr=False)  # what it was invoked with (the fault hooks read it)

    def running_seconds(self) -> float:
        return real_perf_counter() - self.started + self.slept

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - self.running_seconds()) * 1000))


@dataclass
class FunctionSpec:
    name: str
    arn: str
    handler: str  # "module.path.function"
    code_dir: Path
    environment: dict[str, str]
    timeout_seconds: float
    memory_mb: int


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    seconds: float = 0.0  # real time spent inside the handler (its AWS calls included: billed duration)
    # Of ``seconds``: inside its AWS calls, in the local cloud's own work (invocations the calls made
    # count as theirs); the rest is the handler's own code.
    emulator_seconds: float = 0.0
    nested_seconds: float = 0.0  # of ``seconds``: in invocations its calls made (counted as theirs)


class InProcessRuntime:
    """Loads and invokes every function of the app; one instance per local cloud."""

    def __init__(self) -> None:
        self.functions: dict[str, FunctionSpec] = {}
        self.logs: dict[str, FunctionLog] = {}
        self.stats: dict[str, FunctionStats] = {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._requests = itertools.count(1)
        self._saved_modules: dict[str, Any] | None = None
        self._saved_path: list[str] | None = None
        self._code_dirs: list[Path] = []
        # Called before every invocation (fault injection); raising fails the invocation like a crash.
        self.before_invoke: Callable[[str, Any], None] = lambda name, event: None
        # Called when a handler finished; raising fails the invocation after the handler's work.
        self.after_invoke: Callable[[str, Any], None] = lambda name, event: None
        # Around the Invoke API (:meth:`invoke_json`): a ClientError raised is the API's answer.
        self.before_invoke_api: Callable[[str, Any], None] = lambda name, event: None
        self.after_invoke_api: Callable[[str, Any], None] = lambda name, event: None
        # The permissions a handler's calls run with (its execution role); none by default.
        self.acting_as: Callable[[str], contextlib.AbstractContextManager[None]] = lambda name: (
            contextlib.nullcontext()
        )
        self._environment = _FunctionEnvironment()
        # Per thread: the invocations in progress there, outermost first (a Step Functions task runs
        # inside the loop's task).
        self._threads = threading.local()
        self._stdout = _ThreadStdout()
        self._saved_sleep: Callable[[float], None] | None = None

    def register(self, spec: FunctionSpec) -> None:
        self.functions[spec.name] = spec
        self.logs[spec.name] = FunctionLog()
        self.stats[spec.name] = FunctionStats()
        if spec.code_dir not in self._code_dirs:
            self._code_dirs.append(spec.code_dir)

    def by_arn(self, arn: str) -> FunctionSpec | None:
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        return self.functions.get(name)

    # --- module isolation ------------------------------------------------------------------------
    def __enter__(self) -> InProcessRuntime:
        """Put the asset folders first on sys.path, hiding same-named modules imported from elsewhere."""
        self._saved_path = list(sys.path)
        self._saved_modules = {}
        self._hide_modules_named_like_assets()
        sys.path[:0] = [str(d) for d in self._code_dirs]
        # Before any handler's cold start: a module keeping ``time.sleep`` (``from time import sleep``)
        # keeps this one. The handlers' modules are dropped on exit.
        self._saved_sleep = time.sleep
        setattr(time, "sleep", self._sleep)  # noqa: B010 - typeshed's sleep takes SupportsIndex too
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved_sleep is not None:
            setattr(time, "sleep", self._saved_sleep)  # noqa: B010
            self._saved_sleep = None
        self._drop_asset_modules()
        if self._saved_modules is not None:
            sys.modules.update(self._saved_modules)
        if self._saved_path is not None:
            sys.path[:] = self._saved_path

    def replace(self, specs: list[FunctionSpec]) -> None:
        """Take a new deployment's functions while the runtime is open (a stack update).

        Handler modules are shared by every function loaded from one asset folder, so every function
        starts cold again: the modules imported from the old asset folders are dropped, the new folders
        go first on sys.path, and :meth:`load_all` imports the handlers anew. Logs and figures of a
        function that stays are kept.
        """
        self._drop_asset_modules()
        old_dirs = {str(d) for d in self._code_dirs}
        sys.path[:] = [entry for entry in sys.path if entry not in old_dirs]
        self.functions, self._code_dirs = {}, []
        for spec in specs:
            self.functions[spec.name] = spec
            self.logs.setdefault(spec.name, FunctionLog())
            self.stats.setdefault(spec.name, FunctionStats())
            if spec.code_dir not in self._code_dirs:
                self._code_dirs.append(spec.code_dir)
        self._hide_modules_named_like_assets()
        sys.path[:0] = [str(d) for d in self._code_dirs]
        importlib.invalidate_caches()

    def _hide_modules_named_like_assets(self) -> None:
        """Set aside modules imported from elsewhere under an asset folder's names (put back on exit)."""
        assert self._saved_modules is not None, "the runtime is not open"
        for code_dir in self._code_dirs:
            for top in _top_level_names(code_dir):
                for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                    self._saved_modules.setdefault(name, sys.modules[name])
                    del sys.modules[name]

    def _drop_asset_modules(self) -> None:
        self._environment.restore()
        self._handlers.clear()
        for code_dir in self._code_dirs:
            for top in _top_level_names(code_dir):
                for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                    del sys.modules[name]

    # --- invoking ----------------------------------------------------------------------------------
    @property
    def _running(self) -> list[LambdaContext]:
        """The invocations in progress on this thread, outermost first."""
        running: list[LambdaContext] | None = getattr(self._threads, "running", None)
        if running is None:
            running = self._threads.running = []
        return running

    def invoke(self, name: str, event: Any) -> Any:
        """Invoke ``name`` synchronously; returns its result or raises :class:`HandlerError`."""
        spec = self.functions[name]
        stats = self.stats[name]
        context = LambdaContext(
            function_name=spec.name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=spec.arn,
            aws_request_id=f"local-{next(self._requests):08d}",
            timeout_seconds=spec.timeout_seconds,
            log_group_name=f"/aws/lambda/{spec.name}",
            event=event,
        )
        log = self.logs[name]
        running = self._running
        outer = self._environment.current if running else None
        self._environment.switch_to(spec)
        with self._stdout.to(log):
            handler = self._handler(spec)
            started = real_perf_counter()
            failure: Exception | None = None
            stopped = False
            running.append(context)
            try:
                self.before_invoke(name, event)
                with self.acting_as(name):
                    result = handler(event, context)
                self.after_invoke(name, event)
            except _StoppedAtTimeout:
                stopped = True  # reported below as Lambda does
            except Exception as error:
                failure = error
                log.write("".join(traceback.format_exception(error)))
            finally:
                running.pop()
                if outer is not None:  # an invocation inside another: the outer one resumes
                    self._environment.switch_to(outer)
            elapsed = real_perf_counter() - started
            stats.invocations += 1
            stats.seconds += elapsed
            stats.emulator_seconds += context.api_seconds - context.nested_seconds
            stats.nested_seconds += context.nested_seconds
            if outer is not None:  # it ran inside one of the outer invocation's calls (Invoke)
                running[-1].nested_seconds += elapsed
        if stopped or elapsed + context.slept > spec.timeout_seconds:
            # Lambda stops a handler at its timeout: whatever it would have returned or raised later is moot.
            stats.errors += 1
            raise HandlerError("Sandbox.Timedout", f"Task timed out after {spec.timeout_seconds:.2f} seconds")
        if failure is not None:
            stats.errors += 1
            raise HandlerError(type(failure).__name__, str(failure)) from failure
        return result

    @property
    def invoking(self) -> bool:
        """True while a handler runs on this thread: its boto3 calls are the app's."""
        return bool(self._running)

    @property
    def current(self) -> LambdaContext | None:
        """The innermost invocation in progress on this thread, if any (its ``event`` included)."""
        running = self._running
        return running[-1] if running else None

    def stop_at_timeout(self) -> None:
        """Stop the innermost invocation on this thread at its timeout, now (as Lambda stops a handler
        whose call hangs): nothing after this point runs, and it fails with ``Sandbox.Timedout``."""
        context = self._running[-1]
        context.slept += max(0.0, context.timeout_seconds - context.running_seconds()) + 0.001
        raise _StoppedAtTimeout

    def _sleep(self, seconds: float) -> None:
        """``time.sleep`` while the runtime is open: instant inside a handler, counted as its running time."""
        running = self._running
        if not running:  # not a handler's thread (or none runs): a real pause
            (self._saved_sleep or _REAL_SLEEP)(seconds)
            return
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        for context in running:  # an outer invocation waits out its inner ones' pauses too
            context.slept += seconds
        if running[-1].running_seconds() > running[-1].timeout_seconds:
            # Lambda stops the handler at its timeout, mid-sleep: nothing after this pause happens.
            raise _StoppedAtTimeout

    def invoke_json(self, name: str, event: Any, *, api_faults: bool = True) -> tuple[str, bool]:
        """Lambda's Invoke API shape: (payload JSON, whether it is a function error).

        With ``api_faults`` the Invoke API's own fault hooks run around it: an error they raise (a
        botocore ``ClientError``) is what the caller gets instead of an answer.
        """
        if api_faults:
            self.before_invoke_api(name, event)
        try:
            result = self.invoke(name, event)
        except HandlerError as error:
            payload = {"errorType": error.error_type, "errorMessage": error.message, "stackTrace": []}
            return json.dumps(payload), True
        if api_faults:
            self.after_invoke_api(name, event)
        return json.dumps(result, default=str), False

    def load_all(self) -> None:
        """Import every function's handler (its cold start), each with its own environment."""
        for spec in self.functions.values():
            self._environment.switch_to(spec)
            with contextlib.redirect_stdout(self.logs[spec.name]):
                self._handler(spec)
        self._environment.restore()

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        handler = self._handlers.get(spec.name)
        if handler is None:
            module_name, _, function_name = spec.handler.rpartition(".")
            module = importlib.import_module(module_name)  # imported with this function's environment
            handler = getattr(module, function_name)
            self._handlers[spec.name] = handler
        return handler

    def count_api_call(self, seconds: float) -> None:
        """An AWS call (``seconds`` of real time) ended on this thread: the innermost invocation made it."""
        running = self._running
        if running:
            running[-1].api_seconds += seconds

    def handler_seconds(self) -> float:
        """Real time in the handlers' own code: their AWS calls excluded (the local cloud answers those),
        each invocation counted once (one a handler's call made is not its caller's)."""
        return sum(s.seconds - s.emulator_seconds - s.nested_seconds for s in self.stats.values())

    def emulator_seconds(self) -> float:
        """Real time the local cloud spent answering the handlers' AWS calls."""
        return sum(s.emulator_seconds for s in self.stats.values())


class _ThreadStdout(io.TextIOBase):
    """``sys.stdout`` while invocations run: what a thread prints goes to the log of its invocation.

    ``contextlib.redirect_stdout`` swaps one process-wide stream, so two threads' invocations would
    restore each other's (and leave a function's log as ``sys.stdout`` for good). This one is put in
    place by the first invocation in progress on any thread and taken away by the last.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: Any = None
        self._logs = threading.local()

    @contextlib.contextmanager
    def to(self, log: FunctionLog) -> Iterator[None]:
        logs: list[FunctionLog] | None = getattr(self._logs, "stack", None)
        if logs is None:
            logs = self._logs.stack = []
        with self._lock:
            if self._users == 0:
                self._saved, sys.stdout = sys.stdout, self
            self._users += 1
        logs.append(log)
        try:
            yield
        finally:
            logs.pop()
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    sys.stdout, self._saved = self._saved, None

    def _target(self) -> Any:
        logs: list[FunctionLog] | None = getattr(self._logs, "stack", None)
        return logs[-1] if logs else self._saved

    def write(self, text: str) -> int:
        target = self._target()
        return len(text) if target is None else int(target.write(text))

    def flush(self) -> None:
        target = self._target()
        if target is not None:
            target.flush()

    def writable(self) -> bool:
        return True


class _FunctionEnvironment:
    """Each function's environment variables in os.environ while it runs.

    Switching only when the function changes (and putting the process's own values back on restore)
    costs a fraction of setting and restoring every variable around every invocation: os.environ
    writes go through putenv. Between invocations the last function's variables stay; nothing of the
    local cloud reads them, and ``restore`` runs when the runtime closes.
    """

    def __init__(self) -> None:
        self.current: FunctionSpec | None = None
        self._applied: dict[str, str] = {}
        self._original: dict[str, str | None] = {}

    def switch_to(self, spec: FunctionSpec) -> None:
        if self.current is spec:
            return
        wanted = {
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_seconds)),
            "_HANDLER": spec.handler,
        }
        for key in self._applied.keys() - wanted.keys():
            self._put_back(key)
        for key, value in wanted.items():
            self._original.setdefault(key, os.environ.get(key))
            if os.environ.get(key) != value:  # (a handler may have changed its own variables)
                os.environ[key] = value
        self._applied = wanted
        self.current = spec

    def restore(self) -> None:
        for key in list(self._applied):
            self._put_back(key)
        self._applied, self._original, self.current = {}, {}, None

    def _put_back(self, key: str) -> None:
        original = self._original.get(key)
        if original is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = original


def _top_level_names(code_dir: Path) -> list[str]:
    names = []
    for child in code_dir.iterdir():
        if child.is_dir() and (child / "__init__.py").exists():
            names.append(child.name)
        elif child.suffix == ".py":
            names.append(child.stem)
    return names
