"""The kit's invariants (every workflow's) catch what they promise to catch, and stay quiet otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from workflowkit.ledger import Ledger
from workflowkit.simulator.invariants import (
    TERMINATION_SLACK,
    KitDeployment,
    check_audit,
    check_kit,
    check_nothing_lost,
    check_step_deadlines,
    check_termination,
    termination_budget,
    termination_budgets,
)

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
CONTROLLER = "queue:controller"


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


def ledger_with(
    *event_ids: str,
    pending: str | None = None,
    dead: str | None = None,
    target: str = CONTROLLER,
    workflow: str = "w-1",
) -> Ledger:
    """Published events of ``workflow``, each processed by ``target`` (the controller's queue unless
    told); ``pending``: one whose delivery never ended; ``dead``: one its consumer kept refusing."""
    ledger = Ledger()
    for n, event_id in enumerate((*event_ids, *filter(None, (pending, dead)))):
        publish(ledger, f"eb-{n}", event_id, workflow=workflow)
        ledger.matched(f"eb-{n}", "rule", target)
        if event_id == dead:
            ledger.attempt(f"eb-{n}", target, START, ok=False, detail="MalformedEventError: no lines")
            ledger.dead_lettered(f"eb-{n}", target, START, dlq="q-dlq", reason="maxReceiveCount reached")
        elif event_id != pending:
            ledger.attempt(f"eb-{n}", target, START, ok=True)
            ledger.processed(f"eb-{n}", target, START)
    return ledger


def publish(
    ledger: Ledger, eventbridge_id: str, event_id: str, *, workflow: str = "w-1", kind: str = "StepDone"
) -> None:
    detail = {"metadata": {"eventId": event_id, "correlationId": workflow}}
    entry = {"Source": "test", "DetailType": kind}
    ledger.published(eventbridge_id=eventbridge_id, bus="bus", entry=entry, detail=detail, at=START)


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
    steps = [
        SimpleNamespace(name=f"s{n}", deadline=deadline, compensation=None, callback=None)
        for n, deadline in enumerate(deadlines)
    ]
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
        "w-1": status("COMPLETED", timeline=[change("e-1")]),
        "unpublished": status("COMPLETED", timeline=[change("e-forged")]),
        "uncaused": status("COMPLETED", timeline=[change(None)]),
        "quiet": status("COMPLETED", timeline=[{"eventId": None, "statusBefore": "X", "statusAfter": "X"}]),
    }
    violations = check_audit(statuses, ledger, {CONTROLLER})
    assert [(v.invariant, v.subject) for v in violations] == [("audit", "uncaused"), ("audit", "unpublished")]
    assert "e-forged was never published" in str(violations[1])


def test_audit_fails_on_a_state_change_whose_event_never_reached_the_controller() -> None:
    # GIVEN an event that was published, but routed to another consumer (a misrouted rule), not the controller
    ledger = ledger_with("e-1", target="queue:somebody-else")
    statuses = {"w-1": status("COMPLETED", timeline=[change("e-1")])}
    # THEN the state change it is recorded as causing has no delivery behind it
    (violation,) = check_audit(statuses, ledger, {CONTROLLER})
    assert violation.subject == "w-1"
    assert "StepDone e-1 changed its state but never reached the controller" in violation.detail
    # AND an event the controller received but dead-lettered did not reach it either
    (dead,) = check_audit(statuses, ledger_with(dead="e-1"), {CONTROLLER})
    assert "never reached the controller" in dead.detail


def test_audit_fails_on_a_controller_input_with_no_history_entry() -> None:
    # GIVEN the controller processed two events of w-1 and one of a workflow that is not this run's
    ledger = ledger_with("e-1", "e-2")
    publish(ledger, "eb-other", "e-9", workflow="w-other")
    ledger.matched("eb-other", "rule", CONTROLLER)
    ledger.processed("eb-other", CONTROLLER, START)
    # WHEN w-1's history holds e-1 but lost the entry of e-2 (which changed nothing: a duplicate start, say)
    statuses = {"w-1": status("COMPLETED", timeline=[change("e-1")])}
    # THEN the lost entry is caught; another run's workflow is not judged
    (violation,) = check_audit(statuses, ledger, {CONTROLLER})
    assert (violation.subject, violation.detail) == (
        "w-1",
        "the controller received StepDone e-2; its history lacks it",
    )
    whole = status("COMPLETED", timeline=[change("e-1"), {"eventId": "e-2", "detailType": "StepDone"}])
    assert check_audit({"w-1": whole}, ledger, {CONTROLLER}) == []


def test_nothing_lost_names_every_event_whose_delivery_never_ended() -> None:
    # GIVEN one event processed and one whose delivery is still open
    ledger = ledger_with("e-1", pending="e-2")
    # THEN the open one is lost
    (violation,) = check_nothing_lost(ledger, announcements=())
    assert violation.subject == "StepDone e-2"
    assert violation.detail.startswith("delivery never ended")


def test_an_event_that_matched_no_rule_is_lost_unless_declared_an_announcement() -> None:
    # GIVEN an event no rule matched (misrouted: its rule names another detail-type), and an announcement
    ledger = ledger_with("e-1")
    publish(ledger, "eb-lost", "e-2", kind="StepDone")
    publish(ledger, "eb-news", "e-3", kind="WorkflowStarted")
    # THEN the unmatched event is lost; the announcement nobody must consume is not
    (violation,) = check_nothing_lost(ledger, announcements={"WorkflowStarted"})
    assert (violation.subject, violation.detail) == (
        "StepDone e-2",
        "matched no rule (source 'test'): nothing consumed it",
    )
    # AND an event of a type declared an announcement is fine with no subscriber at all
    assert check_nothing_lost(ledger, announcements={"WorkflowStarted", "StepDone"}) == []


def test_a_dead_letter_is_lost_with_its_cause_unless_the_scenarios_expect_it() -> None:
    # GIVEN an event its consumer refused on every receive, until its queue dead-lettered it
    ledger = ledger_with("e-1", dead="e-2", target="queue:stock")
    # THEN it is reported with the queue it went to and the consumer's last error
    (violation,) = check_nothing_lost(ledger, announcements=())
    assert violation.subject == "StepDone e-2"
    assert violation.detail == "dead-lettered in q-dlq by queue:stock: MalformedEventError: no lines"
    # AND a run whose scenarios dead-letter on purpose accepts it
    assert check_nothing_lost(ledger, announcements=(), dead_letters_expected=True) == []


def test_an_event_parked_with_the_unrouted_events_is_lost() -> None:
    # GIVEN an event only the unrouted-events rule took (it carried no workflow context)
    ledger = ledger_with("e-1", target="queue:unrouted")
    (violation,) = check_nothing_lost(ledger, announcements=(), parking_targets={"queue:unrouted"})
    assert violation.detail == "parked in unrouted: no workflow rule routed it"


def step(name: str, deadline: timedelta, *, undo: timedelta | None = None, escalates: bool = False) -> Any:
    return SimpleNamespace(
        name=name,
        deadline=deadline,
        compensation=SimpleNamespace(deadline=undo) if undo else None,
        callback=SimpleNamespace(on_deadline="escalate") if escalates else None,
    )


SHOP = SimpleNamespace(
    name="shop",
    version=1,
    key=("shop", 1),
    steps=[
        step("pay", timedelta(minutes=15), undo=timedelta(hours=1)),
        step("pick", timedelta(minutes=10), undo=timedelta(minutes=30)),
        step("review", timedelta(hours=48), escalates=True),
    ],
)
LATENESS = timedelta(minutes=14)


def at(offset: timedelta, **changes: str) -> dict[str, Any]:
    """A history record handled ``offset`` after the start, moving steps as ``changes`` say."""
    return {"eventId": "e", "receivedAt": (START + offset).isoformat(), "stepChanges": changes}


def shop(*timeline: dict[str, Any]) -> dict[str, Any]:
    return {**status("COMPENSATED", timeline=timeline), "workflowType": "shop", "definitionVersion": 1}


def test_a_step_whose_deadline_fired_hours_late_breaks_its_own_bound() -> None:
    # GIVEN pick (a 10-minute deadline) timed out 20 hours after it started: its deadline fired that late
    late = shop(
        at(timedelta(0), pay="NONE->RUNNING"),
        at(timedelta(seconds=3), pay="RUNNING->COMPLETED", pick="NONE->RUNNING"),
        at(timedelta(hours=20, seconds=3), pick="RUNNING->TIMED_OUT", pay="COMPLETED->COMPENSATING"),
        at(timedelta(hours=20, seconds=9), pay="COMPENSATING->COMPENSATED"),
    )
    # THEN the whole workflow is within the sum of all deadlines (the old, loose bound) ...
    assert check_termination({"o-1": late}, termination_budget(SHOP)) == []
    # ... but pick is not within its own
    (violation,) = check_step_deadlines({"o-1": late}, {SHOP.key: SHOP}, lateness=LATENESS)
    assert violation.invariant == "termination"
    assert violation.detail == f"pick step took 20:00:00, allowed {timedelta(minutes=10) + LATENESS}"


def test_steps_and_undos_within_their_deadlines_plus_lateness_pass() -> None:
    in_time = shop(
        at(timedelta(0), pay="NONE->RUNNING"),
        at(timedelta(minutes=2), pay="RUNNING->COMPLETED", pick="NONE->RUNNING"),
        # pick's deadline fired 10 minutes later, its event handled 13 minutes late (refused receives)
        at(timedelta(minutes=25), pick="RUNNING->TIMED_OUT", pay="COMPLETED->COMPENSATING"),
        at(timedelta(minutes=50), pay="COMPENSATING->COMPENSATED"),
        # a review decided by a person a day after its 48-hour deadline escalated: waited for by design
        at(timedelta(hours=1), review="NONE->RUNNING"),
        at(timedelta(hours=73), review="RUNNING->COMPLETED"),
    )
    assert check_step_deadlines({"o-1": in_time}, {SHOP.key: SHOP}, lateness=LATENESS) == []


def test_an_undo_past_its_deadline_and_a_retried_attempt_are_each_judged_on_their_own() -> None:
    slow_undo = shop(
        at(timedelta(0), pay="NONE->RUNNING"),
        at(timedelta(minutes=1), pay="RUNNING->FAILED"),
        at(timedelta(minutes=1), pay="FAILED->COMPENSATING"),
        at(timedelta(hours=3), pay="COMPENSATING->COMPENSATED"),
    )
    (violation,) = check_step_deadlines({"o-1": slow_undo}, {SHOP.key: SHOP}, lateness=LATENESS)
    assert violation.detail.startswith("pay undo took 2:59:00")
    # GIVEN an operator retried pick at 9 minutes (attempt 2), which then completed 9 minutes later
    retried = shop(
        at(timedelta(0), pick="NONE->RUNNING"),
        {**at(timedelta(minutes=9)), "attempts": {"pick": {"step": 2}}},
        at(timedelta(minutes=18), pick="RUNNING->COMPLETED"),
    )
    # THEN each attempt is within 10 minutes plus lateness (together they are not, and need not be)
    assert check_step_deadlines({"o-1": retried}, {SHOP.key: SHOP}, lateness=timedelta(0)) == []


def test_the_kit_checks_run_together_and_pass_a_consistent_run() -> None:
    ledger = ledger_with("e-1")
    declaration = declared("shop", 1, timedelta(hours=1))
    deployment = KitDeployment(definitions={declaration.key: declaration}, controller_targets={CONTROLLER})
    statuses = {"w-1": {**status("COMPLETED", timeline=[change("e-1")]), "workflowType": "shop"}}
    assert check_kit(statuses, ledger, deployment) == []
    statuses["w-2"] = {**status("RUNNING"), "workflowType": "shop"}
    assert [v.invariant for v in check_kit(statuses, ledger, deployment)] == ["termination"]
