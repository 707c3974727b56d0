"""Who may decide which step, as planned from the declarations: no synthesis (infra/callback_plan.py)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from infra.callback_plan import callback_plan
from infra.plan import plan
from order_workflow import ORDER_WORKFLOW
from tests.infra.conftest import STAGE
from tests.infra.test_callbacks import CASE, Opened
from workflow_core.catalog import EventType
from workflow_core.definition import Callback, Step, WorkflowDefinition, human
from workflow_core.registry import Registry


def _with_approvers(
    definition: WorkflowDefinition, step: str, approvers: str, **changes: object
) -> WorkflowDefinition:
    steps = tuple(
        dataclasses.replace(s, callback=Callback(approvers=approvers)) if s.name == step else s
        for s in definition.steps
    )
    return dataclasses.replace(definition, steps=steps, **changes)  # type: ignore[arg-type]


def test_each_group_decides_the_steps_its_declarations_name() -> None:
    planned = callback_plan(Registry([ORDER_WORKFLOW, CASE]))
    assert planned.approvers == {"officers": ("approve", "sign"), "partners": ("confirm",)}
    assert planned.publishes_decisions  # approve (people) and confirm (a consumer) take StepDecided
    assert planned.paused_machines == (("case", "signing"),)


def test_a_stage_without_callback_steps_plans_none() -> None:
    planned = callback_plan(Registry([ORDER_WORKFLOW]))
    assert (planned.approvers, planned.publishes_decisions, planned.paused_machines) == ({}, False, ())


def test_a_step_name_decided_by_different_groups_in_two_workflows_is_refused() -> None:
    # The route names the step, not the workflow: officers could decide the other workflow's approve.
    events = (EventType("AuditOpened", "tests.audits", {1: Opened}), *CASE.events[1:])
    audit = _with_approvers(
        CASE, "approve", "auditors", name="audit", start_event="AuditOpened", events=events
    )
    refused = r"step 'approve' is decided by different approvers .*\(audit: auditors; case: officers\)"
    with pytest.raises(ValueError, match=refused):
        callback_plan(Registry([CASE, audit]))


def test_versions_of_one_workflow_may_hand_a_step_to_another_group() -> None:
    v2 = _with_approvers(CASE, "approve", "auditors", version=2)
    planned = callback_plan(Registry([CASE, v2]))
    # While both versions run, both groups may decide it.
    assert planned.approvers["auditors"] == ("approve",)
    assert "approve" in planned.approvers["officers"]


@pytest.mark.parametrize("approvers", ["Officers", "officers team", "x" * 41, "1st-line"])
def test_an_approvers_name_that_cannot_name_a_policy_is_refused(approvers: str) -> None:
    with pytest.raises(ValueError, match=rf"step 'approve': approvers '{approvers}' must match"):
        callback_plan(Registry([_with_approvers(CASE, "approve", approvers)]))


def test_a_human_step_needs_no_service() -> None:
    review = Step(
        name="review",
        runner=human(),
        after=(),
        deadline=timedelta(hours=1),
        callback=Callback(approvers="officers"),
    )
    people_only = dataclasses.replace(CASE, steps=(review,), listeners={})
    planned = plan(Registry([ORDER_WORKFLOW, people_only]), stage=STAGE)
    assert "" not in planned.services
    assert planned.callbacks.approvers == {"officers": ("review",)}
