"""A timeline names a state machine by its workflow and machine, not by the last part of its name."""

from __future__ import annotations

from workflowkit.simulator.report import flow_name

# (workflow, machine) as the app declares them: a scaffolded orchestrated step and its undo, a workflow
# whose name holds a "-", and one whose machine holds the workflow's name.
DECLARED = [
    ("ticket", "ticket-resolve"),
    ("ticket", "ticket-resolve-undo"),
    ("shop", "payment"),
    ("card-checks", "verify"),
    ("billing", "billing-check"),
]


def test_a_state_machine_is_named_by_its_workflow_and_machine() -> None:
    assert (
        flow_name("workflowkit-dev-ticket-ticket-resolve-undo", DECLARED) == "ticket ticket-resolve-undo flow"
    )
    assert flow_name("workflowkit-dev-ticket-ticket-resolve", DECLARED) == "ticket ticket-resolve flow"
    assert flow_name("workflowkit-dev-shop-payment", DECLARED) == "shop payment flow"
    # a stage with a "-", a workflow with a "-"
    assert flow_name("workflowkit-pr-12-card-checks-verify", DECLARED) == "card-checks verify flow"
    assert flow_name("workflowkit-dev-billing-billing-check", DECLARED) == "billing billing-check flow"


def test_a_state_machine_the_app_does_not_declare_keeps_its_name() -> None:
    assert flow_name("my-own-machine", DECLARED) == "my-own-machine"
    assert flow_name("workflowkit-dev-shop-refund", DECLARED) == "workflowkit-dev-shop-refund"
