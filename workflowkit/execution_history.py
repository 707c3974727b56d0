"""GetExecutionHistory, answered by the local cloud from each execution's recorded history.

The executions run on :mod:`workflowkit.asl`, which records every event as Step Functions does
(:mod:`workflowkit.asl.history`); this is the API in front of it: pages of ``maxResults`` events (100 by
default, 0 meaning the default, at most 1000), oldest first or, with ``reverseOrder``, newest first; a
``nextToken`` while events remain, valid only with the same execution and direction (an other token is
``InvalidToken``); ``includeExecutionData=false`` leaves the events' input and output out. The execution
must exist (``ExecutionDoesNotExist``, ``InvalidArn``: moto's own checks, as DescribeExecution makes them).
The caller's ``states:GetExecutionHistory`` on the execution was checked before (the fast path's
before-call seam, see ``workflowkit.access.requests``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Final

from workflowkit.asl.history import History, render
from workflowkit.fastpath import FastPath, ServiceError

DEFAULT_PAGE: Final = 100
MAX_PAGE: Final = 1000

HistoryOf = Callable[[str], History | None]


def register_execution_history(
    fast_path: FastPath, backend: Callable[[str], Any], history_of: HistoryOf
) -> None:
    def get_execution_history(params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        backend("stepfunctions").describe_execution(arn)  # InvalidArn, ExecutionDoesNotExist
        history = history_of(arn)
        return page(
            history if history is not None else History(),
            arn,
            max_results=params.get("maxResults") or DEFAULT_PAGE,
            reverse=bool(params.get("reverseOrder", False)),
            next_token=params.get("nextToken"),
            include_data=params.get("includeExecutionData", True) is not False,
        )

    fast_path.register("stepfunctions", "GetExecutionHistory", get_execution_history)


def page(
    history: History,
    arn: str,
    *,
    max_results: int,
    reverse: bool,
    next_token: str | None,
    include_data: bool,
) -> dict[str, Any]:
    """One page of ``history``: ``{"events": [...], "nextToken": ...}`` (no token on the last page)."""
    if max_results > MAX_PAGE:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy"
            f" constraint: Member must have value less than or equal to {MAX_PAGE}",
        )
    count = len(history)
    # The token names the next event to return by id: a running execution's new events do not move it.
    start = _position(next_token, arn, reverse) if next_token else (count if reverse else 1)
    if next_token and start > count:
        # Never issued: a history only grows, and a token names an event it held. Made by hand, say.
        raise _invalid_token()
    if reverse:
        numbers = range(start, max(start - max_results, 0), -1)
        following = start - max_results
        more = following >= 1
    else:
        numbers = range(start, min(start + max_results, count + 1))
        following = start + max_results
        more = following <= count
    events = history.read()  # a packed history stays packed: a read is not an append
    answer: dict[str, Any] = {
        "events": [render(number, events[number - 1], include_data=include_data) for number in numbers]
    }
    if more:
        answer["nextToken"] = _token(arn, following, reverse)
    return answer


def _token(arn: str, position: int, reverse: bool) -> str:
    return base64.urlsafe_b64encode(f"{arn}|{position}|{int(reverse)}".encode()).decode("ascii")


def _position(token: str, arn: str, reverse: bool) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
        token_arn, position, direction = text.rsplit("|", 2)
        number = int(position)
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid_token() from None
    if token_arn != arn or direction != str(int(reverse)) or number < 1:
        raise _invalid_token()
    return number


def _invalid_token() -> ServiceError:
    return ServiceError("InvalidToken", "Invalid Token: 'the token was not issued for this request'")
