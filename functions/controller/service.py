"""One event through the controller: load, decide, commit, act.

The decision is committed (history + projection, one transaction) before any effect runs, and the
effects are stored with it; if the Lambda dies in between, the redelivered event's transaction fails
on its existing history item, and the controller then runs the recorded effects that were not done.
The common case (a new event) costs one read, one transaction and the effects: duplicates are found
by the transaction itself, not by a read beforehand. Concurrent events of one workflow are serialised by
the projection's version: the loser re-reads and decides again.

A commit DynamoDB cancels for contention (another transaction in progress on the workflow's items, or
throttling) is handled the same way after a pause: wait (exponential backoff, full jitter), re-read,
decide again, a bounded number of times; then :class:`ContendedWriteError` (retryable) fails the record
and SQS redelivers it. A conflict means someone else is changing the workflow, so the decision made
from the old read is never sent again as it was. Nothing was written by a cancelled commit, so the
event is neither lost nor applied twice (docs/decisions/0019).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from controller.decide import Decider, Decision, workflow_id_of
from controller.effects import Effects
from controller.store import DuplicateEventError, Snapshot, VersionConflictError, WorkflowStore
from workflow_core import clock
from workflow_core.catalog import DomainEvent
from workflow_core.contention import Backoff, ContendedWriteError, describe, is_contention, retry_contended
from workflow_core.errors import ConcurrentUpdateError, InvalidEventError
from workflow_core.registry import Registry
from workflow_core.workflow_state import WorkflowState

MAX_CONFLICT_RETRIES = 8
HANDLED_BY = "controller"
CONTENDED_METRIC = "ContendedWrites"  # one per write DynamoDB refused for contention and we retried


@dataclass(frozen=True)
class Outcome:
    workflow_id: str
    duplicate: bool
    status: str | None
    metrics: tuple[str, ...] = ()


class Controller:
    def __init__(
        self,
        *,
        store: WorkflowStore,
        effects: Effects,
        registry: Registry,
        now: Callable[[], datetime] = clock.now,
        backoff: Backoff | None = None,
    ) -> None:
        self._store = store
        self._effects = effects
        self._registry = registry
        self._deciders: dict[tuple[str, int], Decider] = {}
        self._now = now
        self._backoff = backoff or Backoff()

    def workflow_id_of(self, event: DomainEvent) -> str:
        started = self._registry.starts(event)
        return workflow_id_of(started, event) if started else event.correlation_id

    def _decider(self, state: WorkflowState | None, event: DomainEvent) -> Decider:
        """The instance's own version decides for it; a start event, the newest version of its workflow.

        A recorded instance of a version no longer deployed fails loudly (UnknownWorkflowError): its
        wiring was removed while it ran. An event whose context names another workflow than the
        instance its correlation id names is refused: it was routed or produced for another workflow.
        An event without a context (from before 0022, or a kit event) is decided by the instance.
        """
        if state is not None and self._registry.starts(event) is None:
            context = event.workflow
            if context is not None and context.name != state.workflow_type:
                raise InvalidEventError(
                    f"{event.detail_type} is for a {context.name} workflow; {state.workflow_id} is a "
                    f"{state.workflow_type} workflow"
                )
            definition = self._registry.get(state.workflow_type, state.definition_version)
        else:
            definition = self._registry.of_event(event)
        decider = self._deciders.get(definition.key)
        if decider is None:
            decider = self._deciders[definition.key] = Decider(definition)
        return decider

    def handle(self, event: DomainEvent) -> Outcome:
        workflow_id = self.workflow_id_of(event)
        version_conflicts = contended = 0
        while True:
            snapshot = self._store.load(workflow_id)
            decider = self._decider(snapshot.state, event)
            decision = decider.decide(snapshot.state, event, self._now())
            try:
                self._store.commit(
                    workflow_id=workflow_id,
                    snapshot=snapshot,
                    new_state=decision.state,
                    event=event,
                    record=_history_record(snapshot, decision, event, self._now()),
                    actions=decision.actions,
                )
            except DuplicateEventError:
                # Seen before (the transaction wrote nothing): finish what that delivery started.
                return self._replay(workflow_id, event)
            except VersionConflictError:
                version_conflicts += 1
                if version_conflicts >= MAX_CONFLICT_RETRIES:
                    raise ConcurrentUpdateError(
                        f"workflow {workflow_id} kept changing; giving up after {MAX_CONFLICT_RETRIES}"
                    ) from None
                continue
            except ClientError as error:
                if not is_contention(error):
                    raise
                # Another transaction is changing the workflow (or DynamoDB throttled): nothing was
                # written. Wait, then read and decide again on what the other writer left.
                contended += 1
                if contended >= self._backoff.attempts:
                    raise ContendedWriteError(
                        f"workflow {workflow_id}: commit still contended after {contended} attempts "
                        f"({describe(error)})"
                    ) from error
                self._backoff.pause(contended)
                continue
            if decision.actions:
                self._effects.perform(decision.actions)
                contended += self._mark_effects_done(workflow_id, event.event_id)
            status = decision.state.status.value if decision.state else None
            metrics = (*decision.metrics, *(CONTENDED_METRIC,) * contended)
            return Outcome(workflow_id, duplicate=False, status=status, metrics=metrics)

    def _replay(self, workflow_id: str, event: DomainEvent) -> Outcome:
        """A redelivered event: run its recorded effects if the first delivery died before they ran."""
        entry = self._store.history_entry(workflow_id, event.event_id)
        contended = 0
        if entry is not None and not entry.effects_done:
            self._effects.perform(entry.actions)
            contended = self._mark_effects_done(workflow_id, event.event_id)
        return Outcome(workflow_id, duplicate=True, status=None, metrics=(CONTENDED_METRIC,) * contended)

    def _mark_effects_done(self, workflow_id: str, event_id: str) -> int:
        """Record that the effects ran; returns how many marks DynamoDB refused for contention first.

        The mark decides nothing (it sets one flag), so it is simply made again; if it never lands, the
        record fails and the redelivery runs the (idempotent) effects once more and marks them.
        """
        refused = 0

        def mark() -> None:
            nonlocal refused
            try:
                self._store.mark_effects_done(workflow_id, event_id)
            except ClientError as error:
                refused += is_contention(error)
                raise

        retry_contended(mark, backoff=self._backoff, what=f"marking {event_id} of {workflow_id} done")
        return refused


def _history_record(
    snapshot: Snapshot, decision: Decision, event: DomainEvent, now: datetime
) -> dict[str, Any]:
    before = snapshot.state
    after = decision.state
    return {
        "eventId": event.event_id,
        "detailType": event.detail_type,
        "source": event.source,
        "occurredAt": event.metadata.occurred_at.isoformat(),
        "receivedAt": now.isoformat(),
        "causationId": event.metadata.causation_id,
        "handledBy": HANDLED_BY,
        "statusBefore": before.status.value if before else None,
        "statusAfter": after.status.value if after else None,
        "stepChanges": _step_changes(before, after),
        # A new attempt changes a step even when its status stays (an operator's retry of a running step,
        # an undo run once more): the attempt counters that moved, so each attempt's span can be audited.
        "attempts": _attempt_changes(before, after),
        "actions": [_describe(a) for a in decision.actions],
        "notes": decision.notes,
    }


def _step_changes(before: WorkflowState | None, after: WorkflowState | None) -> dict[str, str]:
    if after is None:
        return {}
    changes: dict[str, str] = {}
    for name, step in after.steps.items():
        old = before.steps[name].status.value if before and name in before.steps else None
        if old != step.status.value:
            changes[name] = f"{old or 'NONE'}->{step.status.value}"
    return changes


def _attempt_changes(before: WorkflowState | None, after: WorkflowState | None) -> dict[str, dict[str, int]]:
    """step -> {"step": attempt, "undo": compensation attempt}, for the counters this decision moved."""
    if after is None:
        return {}
    changes: dict[str, dict[str, int]] = {}
    for name, step in after.steps.items():
        old = before.steps.get(name) if before else None
        moved = {
            phase: now
            for phase, now, then in (
                ("step", step.attempt, old.attempt if old else 0),
                ("undo", step.compensation_attempt, old.compensation_attempt if old else 0),
            )
            if now != then
        }
        if moved:
            changes[name] = moved
    return changes


def _describe(action: Any) -> str:
    kind = action.kind
    if kind == "publish":
        return f"published {action.detail_type}"
    if kind == "start_execution":
        return f"started {action.machine} execution {action.execution_name}"
    if kind == "stop_execution":
        return f"stopped {action.machine} execution {action.execution_name}"
    if kind == "schedule":
        return f"scheduled deadline {action.schedule_name} at {action.at}"
    if kind == "cancel_schedule":
        return f"cancelled deadline {action.schedule_name}"
    return f"escalated: {action.subject}"
