"""Where faults enter the local cloud: one hook per hop.

The default :class:`Faults` injects nothing. A subclass raises from a hook to make that hop fail:
a delivery that throws is retried and dead-lettered as EventBridge would; an execution that throws
fails before its first state; a handler hook that throws is a crashed invocation (SQS redelivers,
Step Functions retries or catches); a service-call hook that throws is the AWS API failing under the
handler. That is how reliability tests inject crashes, throttling and timeouts.

One hook answers instead of raising: :meth:`Faults.dynamodb_item` tells the local DynamoDB engine that
another writer is busy on an item the app is writing, and the engine answers the call as DynamoDB does
(a cancelled transaction with a ``TransactionConflict`` reason, a ``TransactionConflictException``).
:class:`TransactionConflicts` does that at a seeded rate. The engine asks it only once
:func:`wire_dynamodb_faults` has connected the two (see there).
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflowkit.cloud import LocalCloud

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


def wire_dynamodb_faults(cloud: LocalCloud) -> None:
    """Let ``cloud.faults.dynamodb_item`` answer the local DynamoDB engine, for the app's calls only.

    Reads ``cloud.faults`` at each call, so replacing it later takes effect. Calls the local cloud makes
    itself (building, seeding stock, reading results) are never affected, like ``before_service_call``.
    ``LocalCloud`` calls it once its handlers are loaded. Calling it twice is harmless.
    """
    lambdas = cloud.lambdas

    def item_fault(operation: str, table: str, key: dict[str, Any]) -> str | None:
        if not lambdas.invoking:
            return None
        return cloud.faults.dynamodb_item(operation, table, key)

    cloud.dynamodb.engine.item_faults = item_fault
    # The app's backoff after contention (workflow_core.contention) would sleep for real inside a
    # handler, while the local cloud's time stands still and the "other writer" is a coin flip that no
    # pause waits out: its pauses return at once (the app's modules are dropped when the cloud exits).
    install_sleep = getattr(sys.modules.get("workflow_core.contention"), "install_sleep", None)
    if install_sleep is not None:
        install_sleep(_no_pause)


def _no_pause(_seconds: float) -> None:
    return None
