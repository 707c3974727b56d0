"""A run's result compares every workflow with its scenario: the status it ends in and what it undid."""

from __future__ import annotations

from typing import Any

from workflowkit.simulator import Ending, RunResult

AT = {"createdAt": "2026-01-05T09:00:00+00:00", "updatedAt": "2026-01-05T09:00:05+00:00"}


def result(statuses: dict[str, dict[str, Any]], scenarios: dict[str, str]) -> RunResult:
    return RunResult(
        seed=1,
        statuses={workflow_id: {**AT, **status} for workflow_id, status in statuses.items()},
        scenarios=scenarios,
        figures={},
        violations=[],
        trace_sha256="",
        wall_seconds=1.0,
        virtual_seconds=1.0,
        handler_seconds=1.0,
        expected={"happy": "COMPLETED", "undone": "COMPENSATED"},
        expected_compensations={"happy": [], "undone": ["second", "first"]},
    )


def test_a_workflow_that_undid_other_steps_than_its_scenario_says_is_a_mismatch() -> None:
    # GIVEN workflows in their scenario's status, one of them having undone the wrong steps
    statuses = {
        "w-ok": {"status": "COMPENSATED", "compensatedSteps": ["second", "first"]},
        "w-one-short": {"status": "COMPENSATED", "compensatedSteps": ["first"]},
        "w-reversed": {"status": "COMPENSATED", "compensatedSteps": ["first", "second"]},
        "w-happy": {"status": "COMPLETED", "compensatedSteps": []},
        "w-happy-but-undid": {"status": "COMPLETED", "compensatedSteps": ["first"]},
        "w-wrong-status": {"status": "FAILED", "compensatedSteps": []},
        "w-sent": {"status": "COMPLETED", "compensatedSteps": ["first"]},  # `send`: no scenario
    }
    scenarios = {
        "w-ok": "undone",
        "w-one-short": "undone",
        "w-reversed": "undone",
        "w-happy": "happy",
        "w-happy-but-undid": "happy",
        "w-wrong-status": "undone",
        "w-sent": "",
    }
    # THEN the compensations count as much as the status (as `demo` checks them)
    assert result(statuses, scenarios).mismatches() == [
        "w-happy-but-undid (happy): compensated [first], expected []",
        "w-one-short (undone): compensated [first], expected [second, first]",
        "w-reversed (undone): compensated [first, second], expected [second, first]",
        "w-wrong-status (undone): FAILED, expected COMPENSATED",
    ]
    assert result(statuses, scenarios).summary()["scenario_mismatches"] == 4


def test_a_run_with_dead_letters_is_unhealthy_unless_its_scenarios_expect_them() -> None:
    # GIVEN a run whose invariants all held but one event ended in a dead-letter queue
    run = result({"w-ok": {"status": "COMPLETED", "compensatedSteps": []}}, {"w-ok": "happy"})
    assert run.healthy
    run.dead_letters = ["1 x StepDone: dead-lettered in q-dlq by queue:q: MalformedEventError: no lines"]
    # THEN the run is not healthy: a dead letter waits for a person, it was not consumed
    assert not run.healthy
    # AND a run whose scenarios dead-letter on purpose is
    run.dead_letters_expected = True
    assert run.healthy


def test_an_ending_the_scenario_declares_besides_its_expected_one_is_no_mismatch() -> None:
    # GIVEN a happy workflow that may also end refunded when what it needed ran out
    run = result(
        {
            "w-ran-out": {
                "status": "COMPENSATED",
                "compensatedSteps": ["first"],
                "reason": "take failed: RAN_OUT",
            },
            "w-other-reason": {
                "status": "COMPENSATED",
                "compensatedSteps": ["first"],
                "reason": "take failed: BROKEN",
            },
            "w-undid-more": {
                "status": "COMPENSATED",
                "compensatedSteps": ["second", "first"],
                "reason": "take failed: RAN_OUT",
            },
        },
        {"w-ran-out": "happy", "w-other-reason": "happy", "w-undid-more": "happy"},
    )
    run.other_endings = {"happy": [Ending("COMPENSATED", ("first",), reason="RAN_OUT")]}
    # THEN only that ending, to the letter (status, steps undone, reason), is the scenario's
    assert run.mismatches() == [
        "w-other-reason (happy): COMPENSATED, expected COMPLETED",
        "w-undid-more (happy): COMPENSATED, expected COMPLETED",
    ]
    # AND a mismatch makes the run unhealthy, as a broken invariant does
    assert not run.healthy
