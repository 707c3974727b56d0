"""Where faults enter the local cloud: one hook per hop.

The default :class:`Faults` injects nothing. A subclass raises from a hook to make that hop fail:
a delivery that throws is retried and dead-lettered as EventBridge would; an execution that throws
fails before its first state; a handler hook that throws is a crashed invocation (SQS redelivers,
Step Functions retries or catches); a service-call hook that throws is the AWS API failing under the
handler. That is how reliability tests inject crashes, throttling and timeouts.

Some hooks answer instead of raising. :meth:`Faults.delivery_delay` and :meth:`Faults.duplicate_delivery`
hold back or repeat an EventBridge delivery (at-least-once, out of sequence); :meth:`Faults.receive` and
:meth:`Faults.delete_lost` do the same to an SQS event-source mapping's receives (a receive whose
invocation never happened, a message nobody answers, a delete that did not take);
:meth:`Faults.duplicate_firing` repeats a Scheduler firing. :meth:`Faults.dynamodb_item` tells the local
DynamoDB engine that
another writer is busy on an item the app is writing, and the engine itself answers the call as
DynamoDB does (a cancelled transaction with a ``TransactionConflict`` reason, a
``TransactionConflictException``). :class:`TransactionConflicts` does that at a seeded rate;
:func:`handler_item_faults` makes the hook the engine asks, for the app's calls only. The app's own
response (a pause, then another try) needs nothing from the local cloud: a handler's ``time.sleep``
returns at once there (:mod:`workflowkit.lambdas`).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workflowkit.ddb import ItemFault

TRANSACTION_CONFLICT = "TransactionConflict"
TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
# What TransactionConflicts affects unless told otherwise: the writes (TransactGetItems is not a write).
WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"})
# Items eligible for a fault: (operation, table name, key attributes in wire form) -> bool.
ItemPredicate = Callable[[str, str, dict[str, Any]], bool]


class InjectedFaultError(Exception):
    """A failure the test asked for."""


class QueueMessage(Protocol):
    """A message an event-source mapping received (moto's ``Message`` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def body(self) -> str: ...

    @property
    def approximate_receive_count(self) -> int: ...


@dataclass(frozen=True)
class ReceiveFaults:
    """What becomes of some messages of a received batch (by message id).

    ``lost``: received, but the function was never invoked with them (Lambda's poller failed): they stay
    in flight until their visibility timeout and come back, their receive count one higher.
    ``ignored``: the function answers them without acting (a consumer that never answers): deleted.
    """

    lost: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()


NO_RECEIVE_FAULTS = ReceiveFaults()


class Faults:
    def before_delivery(self, event: dict[str, Any], target: str) -> None:
        """Called before an EventBridge target receives ``event``."""

    def delivery_delay(self, event: dict[str, Any], target: str) -> float:
        """Seconds an EventBridge delivery's first attempt waits beyond the network's latency."""
        return 0.0

    def duplicate_delivery(self, event: dict[str, Any], target: str) -> bool:
        """Whether EventBridge delivers ``event`` to ``target`` once more (it delivers at least once)."""
        return False

    def duplicate_firing(self, schedule_name: str) -> bool:
        """Whether EventBridge Scheduler invokes a schedule's target once more (at least once)."""
        return False

    def receive(self, queue: str, function_name: str, messages: Sequence[QueueMessage]) -> ReceiveFaults:
        """What becomes of a batch an event-source mapping received from ``queue`` for ``function_name``."""
        return NO_RECEIVE_FAULTS

    def delete_lost(self, queue: str, message: QueueMessage) -> bool:
        """Whether the mapping's delete of a message its function processed did not take (it comes back)."""
        return False

    def before_execution(self, execution_name: str) -> None:
        """Called before a Step Functions execution runs."""

    def starting_execution(self, execution_name: str, state_machine_arn: str, execution_input: Any) -> None:
        """Called after :meth:`before_execution` with its machine and (parsed) input: raising fails it
        before its first state."""

    def before_handler(self, function_name: str, event: Any) -> None:
        """Called inside each Lambda invocation, before the handler: raising is a handler crash."""

    def after_handler(self, function_name: str, event: Any) -> None:
        """Called inside each Lambda invocation the handler finished: raising fails it after its work."""

    def before_invoke_api(self, function_name: str, event: Any) -> None:
        """Called when the Lambda Invoke API (a Step Functions task) is asked to run a function: raising
        a ``ClientError`` is the API's error (``ServiceException``, ``TooManyRequestsException``)."""

    def after_invoke_api(self, function_name: str, event: Any) -> None:
        """Called when a function the Invoke API ran succeeded: a ``ClientError`` raised is what the
        caller sees instead of the result (the response lost on its way back: ``SdkClientException``)."""

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        """Called before each AWS API call a handler makes, each attempt of it: an error raised (a
        ``ClientError``, a fast-path ``ServiceError``) is the API's answer, which the client's botocore
        retry handler judges as it would an HTTP error response (a ``ThrottlingException`` is retried)."""

    def dynamodb_item(self, operation: str, table: str, key: dict[str, Any]) -> str | None:
        """Is another writer busy on this item of a handler's DynamoDB call? None: no.

        Asked by the local DynamoDB engine, once the request is valid and before any condition is
        evaluated, for every item of a ``TransactWriteItems``/``TransactGetItems`` and for a
        ``PutItem``/``UpdateItem``/``DeleteItem`` of an item transactions write. The answer is the
        cancellation reason DynamoDB would give for the item: ``"TransactionConflict"`` (another
        transaction is in progress on it: a transaction is cancelled, a single write refused with
        ``TransactionConflictException``) or, for transactions only, ``"ThrottlingError"``.
        """
        return None


class TransactionConflicts(Faults):
    """Another transaction is in progress on an item the app writes, at ``rate`` per item asked.

    Drawn from its own ``random.Random(seed)`` (never the loop's), so a run is the same for a seed and
    a run without this fault keeps its trace. ``where`` narrows the items (e.g. one table, or the
    workflows' STATE items); ``operations`` the calls (transactions and single writes by default);
    ``limit`` stops after that many conflicts (e.g. "the first N transactions are cancelled").
    ``code="ThrottlingError"`` cancels transactions with that reason instead (single writes are then
    never affected: DynamoDB throttles them with another error).
    """

    def __init__(
        self,
        *,
        rate: float,
        seed: int = 0,
        where: ItemPredicate | None = None,
        operations: Collection[str] = WRITES,
        limit: int | None = None,
        code: str = TRANSACTION_CONFLICT,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {rate}")
        self.rate = rate
        self.random = random.Random(seed)
        self.where = where
        wanted = frozenset(operations)
        self.operations = wanted if code == TRANSACTION_CONFLICT else wanted & TRANSACTIONS
        self.limit = limit
        self.code = code
        self.asked: Counter[str] = Counter()  # operation -> items asked about
        self.conflicts: Counter[str] = Counter()  # operation -> items answered busy

    def dynamodb_item(self, operation: str, table: str, key: dict[str, Any]) -> str | None:
        if operation not in self.operations or (
            self.where is not None and not self.where(operation, table, key)
        ):
            return None
        self.asked[operation] += 1
        if self.limit is not None and self.conflicts.total() >= self.limit:
            return None
        if self.random.random() >= self.rate:
            return None
        self.conflicts[operation] += 1
        return self.code


def handler_item_faults(faults: Callable[[], Faults], invoking: Callable[[], bool]) -> ItemFault:
    """The DynamoDB engine's item-fault hook: ``faults().dynamodb_item``, for the app's calls only.

    ``faults`` is read at each call, so replacing the cloud's faults later takes effect. ``invoking``
    says whether a handler is running: calls the local cloud makes itself (building, seeding data,
    reading results) are never affected, like ``before_service_call``.
    """

    def item_fault(operation: str, table: str, key: dict[str, Any]) -> str | None:
        if not invoking():
            return None
        return faults().dynamodb_item(operation, table, key)

    return item_fault
