"""Where faults enter the local cloud: one hook per hop.

The default :class:`Faults` injects nothing. A subclass raises from a hook to make that hop fail:
a delivery that throws is retried and dead-lettered as EventBridge would; an execution that throws
fails before its first state; a handler hook that throws is a crashed invocation (SQS redelivers,
Step Functions retries or catches); a service-call hook that throws is the AWS API failing under the
handler. That is how reliability tests inject crashes, throttling and timeouts.

One hook answers instead of raising: :meth:`Faults.dynamodb_item` tells the local DynamoDB engine that
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
from collections.abc import Callable, Collection
from typing import Any

from workflowkit.ddb import ItemFault

TRANSACTION_CONFLICT = "TransactionConflict"
TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
# What TransactionConflicts affects unless told otherwise: the writes (TransactGetItems is not a write).
WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"})
# Items eligible for a fault: (operation, table name, key attributes in wire form) -> bool.
ItemPredicate = Callable[[str, str, dict[str, Any]], bool]


class InjectedFaultError(Exception):
    """A failure the test asked for."""


class Faults:
    def before_delivery(self, event: dict[str, Any], target: str) -> None:
        """Called before an EventBridge target receives ``event``."""

    def before_execution(self, execution_name: str) -> None:
        """Called before a Step Functions execution runs."""

    def before_handler(self, function_name: str, event: Any) -> None:
        """Called inside each Lambda invocation, before the handler: raising is a handler crash."""

    def before_service_call(self, service: str, operation: str, params: Any) -> None:
        """Called before each AWS API call a handler makes (e.g. raise a ThrottlingException ClientError)."""

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
