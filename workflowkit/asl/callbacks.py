"""The registry of task tokens: which are open, and who SendTaskSuccess/Failure/Heartbeat reaches.

A token is issued when an attempt of a ``.waitForTaskToken`` task starts (before its Parameters are
evaluated: they read ``$$.Task.Token``), is *pending* while the service call runs, *waiting* once a
waiter is attached (the call succeeded), and *closed* when it is answered, times out, its attempt
fails or is retried, or its flow is cancelled (StopExecution, a failed sibling branch). Only an open
token is answered; a closed one answers ``TaskTimedOut`` ("the task associated with the token has
already been closed"), text that is no token ``InvalidToken``, a token never issued
``TaskDoesNotExist`` - the errors of the SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat API; an
output over the 256 KiB payload quota is a ``ValidationException``, whatever the token.

An answer may come while the service call still runs (a Lambda invoked with the token calls
SendTaskSuccess before it returns): it is kept, and ``attach`` hands it to the task when the call
returns. Every token issued is remembered (closed ones as text), so that a late answer gets
``TaskTimedOut`` rather than ``TaskDoesNotExist``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol

from workflowkit.asl.errors import TaskTokenError
from workflowkit.asl.payload_limit import MAX_PAYLOAD_BYTES, text_exceeds_limit
from workflowkit.asl.tokens import execution_of, new_token
from workflowkit.asl.values import parse_json

INVALID_TOKEN = "InvalidToken"
TASK_DOES_NOT_EXIST = "TaskDoesNotExist"
TASK_TIMED_OUT = "TaskTimedOut"
INVALID_OUTPUT = "InvalidOutput"
VALIDATION = "ValidationException"


@dataclass(frozen=True, slots=True)
class Answer:
    """What SendTaskSuccess (``output``, parsed) or SendTaskFailure (``error``, ``cause``) said."""

    failed: bool
    output: Any = None
    error: str | None = None
    cause: str | None = None


class Waiter(Protocol):
    """The waiting task a token's answers go to (:class:`workflowkit.asl.waiting.CallbackWait`)."""

    def answered(self, answer: Answer) -> None: ...

    def heartbeat(self) -> None: ...


class _Entry:
    __slots__ = ("early", "waiter")

    def __init__(self) -> None:
        self.waiter: Waiter | None = None
        self.early: Answer | None = None  # answered while the service call ran


class TaskTokens:
    def __init__(self) -> None:
        self._open: dict[str, _Entry] = {}
        self._closed: set[str] = set()

    @property
    def open_tokens(self) -> list[str]:
        """The tokens that may still be answered, oldest first."""
        return [token for token, entry in self._open.items() if entry.early is None]

    # --- the interpreter's side ---------------------------------------------------------------------
    def issue(self, execution_arn: str, source: random.Random) -> str:
        token = new_token(execution_arn, source)
        self._open[token] = _Entry()
        return token

    def attach(self, token: str, waiter: Waiter) -> Answer | None:
        """The service call succeeded: answers go to ``waiter`` from now on. An answer that came during
        the call is returned instead (the token is then closed)."""
        entry = self._open[token]
        if entry.early is not None:
            self.close(token)
            return entry.early
        entry.waiter = waiter
        return None

    def close(self, token: str) -> None:
        """No answer reaches this token any more (idempotent)."""
        if self._open.pop(token, None) is not None:
            self._closed.add(token)

    # --- the API's side -----------------------------------------------------------------------------
    def send_success(self, token: str, output: str) -> None:
        if text_exceeds_limit(output):
            # The API's own constraint on the output (SensitiveData, at most 262,144 bytes): refused
            # before the token is even read, and the task keeps waiting.
            raise TaskTokenError(
                VALIDATION,
                "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must"
                f" have length less than or equal to {MAX_PAYLOAD_BYTES}",
            )
        _check_format(token)
        try:
            parsed = parse_json(output)  # strict: NaN, Infinity and 1e400 are not JSON
        except ValueError as error:
            raise TaskTokenError(INVALID_OUTPUT, f"Invalid Output: the output is not JSON: {error}") from None
        self._answer(token, Answer(failed=False, output=parsed))

    def send_failure(self, token: str, error: str | None, cause: str | None) -> None:
        _check_format(token)
        self._answer(token, Answer(failed=True, error=error, cause=cause))

    def send_heartbeat(self, token: str) -> None:
        _check_format(token)
        entry = self._entry(token)
        if entry.waiter is not None:
            entry.waiter.heartbeat()
        # A heartbeat while the service call runs: the heartbeat clock starts once the call returns.

    def _answer(self, token: str, answer: Answer) -> None:
        entry = self._entry(token)
        if entry.waiter is None:
            entry.early = answer  # attach() hands it over; until then the token is answered, not open
            return
        self.close(token)
        entry.waiter.answered(answer)

    def _entry(self, token: str) -> _Entry:
        entry = self._open.get(token)
        if entry is not None and entry.early is None:
            return entry
        if entry is not None or token in self._closed:
            raise TaskTokenError(TASK_TIMED_OUT, "Task Timed Out: 'Provided task does not exist anymore'")
        raise TaskTokenError(TASK_DOES_NOT_EXIST, "Task does not exist: no task was issued this token")


def _check_format(token: str) -> None:
    if execution_of(token) is None:
        raise TaskTokenError(INVALID_TOKEN, "Invalid token")
