"""Fault profiles: names and rates, and what the outcome faults must make of a declared workflow."""

from __future__ import annotations

import json

import pytest

from order_workflow import ORDER_WORKFLOW_V2
from workflowkit.chaos import FAULTS, PROFILES, FaultProfile, Silence, build_profile, parse_fault
from workflowkit.chaos.outcomes import expected_outcome, step_silence, undo_sequence, undo_silence


def test_the_profiles_grow_from_nothing_to_every_fault() -> None:
    assert not PROFILES["none"].active
    assert set(PROFILES["flaky"].rates) < set(FAULTS)
    assert {f for f, rate in PROFILES["chaos"].rates.items() if rate > 0} == set(FAULTS)


def test_a_fault_option_changes_one_rate_of_the_profile() -> None:
    profile = build_profile("flaky", ["drop=0.5", "never_answers=0.1", "drop=0.25"])
    assert profile.rate("drop") == 0.25  # the last one counts
    assert profile.rate("never_answers") == 0.1
    assert profile.rate("duplicate") == PROFILES["flaky"].rate("duplicate")
    assert profile.name == "flaky+drop=0.25,never_answers=0.1"
    assert build_profile("chaos") is PROFILES["chaos"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drop", "NAME=RATE"),
        ("drop=", "must be a number"),
        ("drop=x", "must be a number"),
        ("drop=1.5", "within [0, 1]"),
        ("drop=inf", "within [0, 1]"),
        ("drop=nan", "within [0, 1]"),
        ("meteor=0.1", "unknown fault 'meteor'"),
    ],
)
def test_a_malformed_fault_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_fault(text)


def test_an_unknown_profile_or_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault profile 'storm'"):
        build_profile("storm")
    with pytest.raises(ValueError, match="within"):
        FaultProfile("mine", {"drop": 2.0})


def _status(completed: list[str]) -> dict[str, object]:
    return {"completionOrder": completed}


def test_a_silent_required_step_undoes_what_completed_and_itself_latest_first() -> None:
    # GIVEN order v2: payment, then notify beside inventory, then shipping; inventory never answers
    silence = step_silence(ORDER_WORKFLOW_V2, ORDER_WORKFLOW_V2.step("inventory"), "o-1")
    assert silence.service == "inventory"
    assert silence.detail_types == frozenset({"PaymentProcessed"})
    # WHEN it is given up at its deadline, after payment and notify completed
    expected = expected_outcome(silence, _status(["payment", "notify", "inventory"]), ORDER_WORKFLOW_V2)
    # THEN it and payment are undone, it first (notify has no undo); the workflow is compensated
    assert (expected.status, expected.compensations) == ("COMPENSATED", ("inventory", "payment"))


def test_a_silent_step_that_gates_nothing_leaves_the_workflow_to_complete() -> None:
    silence = step_silence(ORDER_WORKFLOW_V2, ORDER_WORKFLOW_V2.step("notify"), "o-1")
    expected = expected_outcome(silence, _status(["payment", "inventory", "shipping"]), ORDER_WORKFLOW_V2)
    assert (expected.status, expected.compensations) == ("COMPLETED", ())


def test_a_silent_state_machine_is_recognised_by_its_machine_and_the_workflow() -> None:
    silence = step_silence(ORDER_WORKFLOW_V2, ORDER_WORKFLOW_V2.step("payment"), "o-1")
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:workflowkit-dev-order-payment"
    assert silence.runs_machine(machine, {"metadata": {"correlationId": "o-1"}})
    assert not silence.runs_machine(machine, {"metadata": {"correlationId": "o-2"}})
    assert not silence.runs_machine(
        machine.replace("payment", "refund"), {"metadata": {"correlationId": "o-1"}}
    )
    expected = expected_outcome(silence, _status(["payment"]), ORDER_WORKFLOW_V2)
    assert (expected.status, expected.compensations) == ("COMPENSATED", ("payment",))


def test_the_undo_sequence_never_puts_a_step_before_one_that_came_after_it() -> None:
    # inventory's completion reached the controller before payment's: the DAG still undoes it first
    names = ["inventory", "payment", "shipping"]
    assert undo_sequence(ORDER_WORKFLOW_V2, ["inventory", "payment", "shipping"], names) == (
        "shipping",
        "inventory",
        "payment",
    )


def test_an_undo_that_never_answers_leaves_the_undos_after_it_to_people() -> None:
    silence = undo_silence(ORDER_WORKFLOW_V2, ORDER_WORKFLOW_V2.step("inventory"), "o-1")
    assert silence.detail_types == frozenset({"InventoryReleaseRequested"})
    expected = expected_outcome(silence, _status([]), ORDER_WORKFLOW_V2, ("shipping", "inventory", "payment"))
    # halt (the declaration's default): shipping was undone, inventory failed, payment waits for a person
    assert (expected.status, expected.compensations) == ("NEEDS_ATTENTION", ("shipping",))


def test_a_silenced_consumer_ignores_only_the_events_that_ask_it_to_act_for_that_workflow() -> None:
    silence = Silence("never_answers", "o-1", "notify", service="notification", step_commands=True)
    detail = {"metadata": {"correlationId": "o-1"}, "data": {"step": "notify"}}
    asked = json.dumps({"detail-type": "StepRequested", "detail": detail})
    assert silence.asks_consumer(asked)
    assert not silence.asks_consumer(asked.replace('"notify"', '"other"'))
    assert not silence.asks_consumer(asked.replace("o-1", "o-2"))
    assert not silence.asks_consumer(asked.replace("StepRequested", "WorkflowCompleted"))
