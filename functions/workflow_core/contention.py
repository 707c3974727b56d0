"""Writes that lose to another writer for a moment: how DynamoDB says so, and what to do about it.

DynamoDB cancels a ``TransactWriteItems`` when another transaction is in progress on one of its items
(cancellation reason ``TransactionConflict``) or when an item's partition is throttled
(``ThrottlingError``, ``ProvisionedThroughputExceeded``), and refuses a ``PutItem``/``UpdateItem``/
``DeleteItem`` of an item that a transaction is writing (``TransactionConflictException``). The SDK
retries none of them (botocore retries whole-request throttling, not these), none means the write was
wrong, and each means the items are changing under the caller.

So a writer waits a little (exponential backoff with full jitter), **reads again and decides again**
(the write it was about to make was decided from what it read, which may be stale now), a bounded
number of times; then it gives up with :class:`ContendedWriteError`, a retryable error: the queue
redelivers the record (partial batch failure), Step Functions retries the task. Nothing was written by
a cancelled transaction or a refused write, so nothing is lost or applied twice. See
``docs/decisions/0019-transaction-conflicts.md``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from workflow_core.errors import ConcurrentUpdateError

# Cancellation reasons that say "not now" rather than "not this": retried after a pause.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
TRANSACTION_CANCELED = "TransactionCanceledException"
TRANSACTION_CONFLICT = "TransactionConflictException"

# Its own generator: drawing from ``random``'s shared one would shift whatever else draws from it.
_JITTER = random.Random()


def pause_for(seconds: float) -> None:
    """Wait ``seconds``: real time in AWS; the local cloud makes a handler's sleep virtual."""
    time.sleep(seconds)


class ContendedWriteError(ConcurrentUpdateError):
    """DynamoDB kept refusing a write for contention through every in-handler attempt: try again later."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> list[str]:
    """The cancellation reason codes of a cancelled transaction, one per item, in item sequence."""
    return [str(reason.get("Code", "None")) for reason in error.response.get("CancellationReasons", [])]


def is_contention(error: BaseException) -> bool:
    """A write refused because another writer is busy on an item (or its partition is throttled)."""
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    if code == TRANSACTION_CONFLICT:
        return True
    return code == TRANSACTION_CANCELED and any(c in RETRYABLE_REASONS for c in cancellation_codes(error))


# What AWS answers a request it cannot serve now, once the SDK's own retries have given up: throttling
# (each service's code for it) and a service's 5xx. The same request may succeed a little later.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "Throttled",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
    }
)


def is_transient(error: BaseException) -> bool:
    """An AWS call refused for now (throttled past the SDK's retries, or a 5xx): a retryable failure, never
    a reason to give up on what the call was for. Contention (:func:`is_contention`) is retried apart."""
    if not isinstance(error, ClientError):
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) in THROTTLING_CODES or (isinstance(status, int) and status >= 500)


def describe(error: ClientError) -> str:
    codes = cancellation_codes(error)
    return f"{error_code(error)} {codes}" if codes else error_code(error)


@dataclass(frozen=True)
class Backoff:
    """``attempts`` tries in all; before try n+1, a pause drawn from [0, min(cap, base * 2**(n-1))]."""

    attempts: int = 6
    base_seconds: float = 0.02
    cap_seconds: float = 0.4
    sleep: Callable[[float], None] = pause_for
    jitter: Callable[[], float] = _JITTER.random

    def delay(self, retry: int) -> float:
        """The pause before retry number ``retry`` (1 for the second try)."""
        return self.jitter() * min(self.cap_seconds, self.base_seconds * 2.0 ** (retry - 1))

    def pause(self, retry: int) -> None:
        self.sleep(self.delay(retry))


def retry_contended[Result](operation: Callable[[], Result], *, backoff: Backoff, what: str) -> Result:
    """Run ``operation`` again, after a pause, each time DynamoDB refuses one of its writes for contention.

    ``operation`` must read what it decides from (it runs from the start each time, so it decides on
    fresh data). Any other error goes through at once. After ``backoff.attempts`` contended runs:
    :class:`ContendedWriteError`.
    """
    for attempt in range(1, backoff.attempts + 1):
        try:
            return operation()
        except ClientError as error:
            if not is_contention(error):
                raise
            if attempt >= backoff.attempts:
                raise ContendedWriteError(
                    f"{what}: still contended after {attempt} attempts ({describe(error)})"
                ) from error
            backoff.pause(attempt)
    raise ValueError("backoff.attempts must be at least 1")
