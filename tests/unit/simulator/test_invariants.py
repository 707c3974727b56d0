"""The kit's invariants (every workflow's) catch what they promise to catch, and stay quiet otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from workflowkit.ledger import Ledger
from workflowkit.simulator.invariants import (
    TERMINATION_SLACK,
    check_audit,
    check_kit,
    check_nothing_lost,
    check_termination,
    termination_budget,
    termination_budgets,
)

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def status(state: str, *, took: timedelta = timedelta(seconds=5), timeline: Any = ()) -> dict[str, Any]:
    return {
        "status": state,
        "createdAt": START.isoformat(),
        "updatedAt": (START + took).isoformat(),
        "timeline": list(timeline),
    }


def change(event_id: str | None, detail_type: str | None = "StepDone") -> dict[str, Any]:
    """A history record that changed a step's state, caused by ``event_id``."""
    return {"eventId": event_id, "detailType": detail_type, "stepChanges": {"a": "RUNNING->COMPLETED"}}


def ledger_with(*event_ids: str, pending: str | None = None, dead: str | None = None) -> Ledger:
    """Published events (each processed by its one target); ``pending``: one whose delivery never ended."""
    ledger = Ledger()
    for n, event_id in enumerate((*event_ids, *filter(None, (pending, dead)))):
        detail = {"metadata": {"eventId": event_id, "correlationId": "w-1"}}
        entry = {"Source": "test", "DetailType": "StepDone"}
        ledger.published(eventbridge_id=f"eb-{n}", bus="bus", entry=entry, detail=detail, at=START)
        ledger.matched(f"eb-{n}", "rule", "queue:q")
        if event_id == dead:
            ledger.dead_lettered(f"eb-{n}", "queue:q", START, dlq="q-dlq", reason="rejected")
        elif event_id != pending:
            ledger.processed(f"eb-{n}", "queue:q", START)
    return ledger


def test_termination_needs_a_terminal_status_within_budget() -> None:
    statuses = {
        "fast": status("COMPLETED"),
        "slow": status("COMPENSATED", took=timedelta(hours=3)),
        "stuck": status("RUNNING"),
    }
    found = {v.subject for v in check_termination(statuses, budget=timedelta(hours=2))}
    assert found == {"slow", "stuck"}


def test_the_termination_budget_is_every_deadline_and_every_compensation_plus_slack() -> None:
    undo = SimpleNamespace(deadline=timedelta(hours=1))
    declaration = SimpleNamespace(
        steps=[
            SimpleNamespace(deadline=timedelta(minutes=15), compensation=undo),
            SimpleNamespace(deadline=timedelta(hours=24), compensation=None),
        ]
    )
    expected = timedelta(minutes=15) + timedelta(hours=24) + timedelta(hours=1) + TERMINATION_SLACK
    assert termination_budget(declaration) == expected


def declared(name: str, version: int, *deadlines: timedelta) -> SimpleNamespace:
    """A declaration of ``name`` at ``version``: one step per deadline, nothing to undo."""
    steps = [SimpleNamespace(deadline=deadline, compensation=None) for deadline in deadlines]
    return SimpleNamespace(name=name, version=version, key=(name, version), steps=steps)


def test_each_instance_has_the_termination_budget_of_the_version_it_runs() -> None:
    # GIVEN v1 and v2 of a workflow deployed side by side, v2's deadline twice v1's, and another workflow
    registry = SimpleNamespace(
        definitions=(
            declared("shop", 1, timedelta(hours=24)),
            declared("shop", 2, timedelta(hours=48)),
            declared("billing", 1, timedelta(minutes=5)),
        )
    )
    budget = termination_budgets(registry)

    def runs(name: str, version: int | None, took: timedelta) -> dict[str, Any]:
        document = {**status("COMPENSATED", took=took), "workflowType": name}
        return document if version is None else {**document, "definitionVersion": version}

    statuses = {
        "v1-in-time": runs("shop", 1, timedelta(hours=24, minutes=1)),
        "v1-late": runs("shop", 1, timedelta(hours=40)),
        "v2-in-time": runs("shop", 2, timedelta(hours=48, minutes=1)),  # past v1's budget, within v2's
        "v2-late": runs("shop", 2, timedelta(hours=60)),
        "before-versions": runs("shop", None, timedelta(hours=24, minutes=1)),  # read as v1
        "billing-late": runs("billing", 1, timedelta(hours=1)),
        "retired": runs("shop", 3, timedelta(seconds=1)),
    }
    assert budget(statuses["v2-in-time"]) == timedelta(hours=48) + TERMINATION_SLACK
    # THEN each is held to its own version's deadlines: v2's longer deadline is not v1's failure
    found = {v.subject: v.detail for v in check_termination(statuses, budget)}
    assert sorted(found) == ["billing-late", "retired", "v1-late", "v2-late"]
    assert found["v2-late"].endswith(f"budget {timedelta(hours=48) + TERMINATION_SLACK}")
    assert found["retired"] == "runs 'shop' v3, which is not deployed"


def test_audit_needs_every_state_change_caused_by_a_published_event() -> None:
    ledger = ledger_with("e-1")
    statuses = {
        "caused": status("COMPLETED", timeline=[change("e-1")]),
        "unpublished": status("COMPLETED", timeline=[change("e-forged")]),
        "uncaused": status("COMPLETED", timeline=[change(None)]),
        "quiet": status("COMPLETED", timeline=[{"eventId": None, "statusBefore": "X", "statusAfter": "X"}]),
    }
    violations = check_audit(statuses, ledger)
    assert [(v.invariant, v.subject) for v in violations] == [("audit", "uncaused"), ("audit", "unpublished")]
    assert "e-forged was never published" in str(violations[1])


def test_nothing_lost_names_every_event_whose_delivery_never_ended() -> None:
    # GIVEN one event processed, one dead-lettered (accounted for) and one whose delivery is still open
    ledger = ledger_with("e-1", pending="e-2", dead="e-3")
    # THEN only the open one is lost
    assert [v.subject for v in check_nothing_lost(ledger)] == ["StepDone e-2"]
    assert check_nothing_lost(ledger_with("e-1", dead="e-3")) == []


def test_the_kit_checks_run_together_and_pass_a_consistent_run() -> None:
    ledger = ledger_with("e-1")
    statuses = {"w-1": status("COMPLETED", timeline=[change("e-1")])}
    assert check_kit(statuses, ledger, budget=timedelta(hours=1)) == []
    statuses["w-2"] = status("RUNNING")
    assert [v.invariant for v in check_kit(statuses, ledger, budget=timedelta(hours=1))] == ["termination"]
