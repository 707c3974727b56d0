"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat, answered by the local cloud's interpreter.

The executions run on :mod:`workflowkit.asl`, not on moto's interpreter, so moto knows none of their
task tokens: these three operations are answered on the fast path from the interpreter's registry
(:class:`workflowkit.asl.callbacks.TaskTokens`), with the API's errors (``InvalidToken``,
``TaskDoesNotExist``, ``TaskTimedOut``, ``InvalidOutput``; HTTP 400 each). The caller's permission was
checked before (the fast path's before-call seam), against the state machine that issued the token:
see ``workflowkit.access.requests``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflowkit.asl import TaskTokenError, TaskTokens
from workflowkit.fastpath import FastPath, ServiceError


def register_task_responses(fast_path: FastPath, tokens: TaskTokens) -> None:
    def success(params: dict[str, Any]) -> None:
        tokens.send_success(params["taskToken"], params["output"])

    def failure(params: dict[str, Any]) -> None:
        tokens.send_failure(params["taskToken"], params.get("error"), params.get("cause"))

    def heartbeat(params: dict[str, Any]) -> None:
        tokens.send_heartbeat(params["taskToken"])

    for operation, send in (
        ("SendTaskSuccess", success),
        ("SendTaskFailure", failure),
        ("SendTaskHeartbeat", heartbeat),
    ):
        fast_path.register("stepfunctions", operation, _answer(send))


def _answer(send: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def answer(params: dict[str, Any]) -> dict[str, Any]:
        try:
            send(params)
        except TaskTokenError as error:
            raise ServiceError(error.code, error.message) from None
        return {}  # each answers an empty body

    return answer
