"""Decisions through the front door, end to end on the local cloud, as IAM principals.

A ``permit`` workflow is declared only in a temporary folder and synthesized beside the order workflow:
one human step, ``approve``, decided by the ``permit-officers`` group within 48 hours (a missed deadline
fails the permit). Officers hold only their group's approver policy (the stack output
``PermitOfficersApproverPolicyArn``); the local cloud enforces the template's policies on every call as
API Gateway's IAM authorisation would.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, synthesize
from workflowkit import LocalCloud
from workflowkit.principals import ApiPrincipal
from workflowkit.simulator.front_door import FrontDoorDriver

DECLARATION = '''
"""A permit: people approve it (or not) within two days."""

from datetime import timedelta

from pydantic import Field

from workflow_core.catalog import EventType
from workflow_core.definition import Callback, Step, WorkflowDefinition, human
from workflow_core.envelope import ContractModel


class PermitRequested(ContractModel):
    permit_id: str = Field(min_length=1, max_length=64)
    holder: str


APPROVE = Step(
    name="approve",
    runner=human(),
    after=(),
    deadline=timedelta(hours=48),
    callback=Callback(approvers="permit-officers", reminder=timedelta(hours=24)),
)
PERMIT_WORKFLOW = WorkflowDefinition(
    name="permit",
    version=1,
    start_event="PermitRequested",
    subject_id="permit_id",
    steps=(APPROVE,),
    events=(EventType("PermitRequested", "permits.clients", {1: PermitRequested}),),
)
'''

REGISTRY = """
from order_workflow import ORDER_WORKFLOW
from permit_workflow import PERMIT_WORKFLOW

WORKFLOWS = (ORDER_WORKFLOW, PERMIT_WORKFLOW)
"""
OFFICERS = "PermitOfficersApproverPolicyArn"
SETTLE = timedelta(minutes=1)  # long enough for every hop of one decision, far from the deadline


@pytest.fixture(scope="module")
def app_with_permits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("callbacks")
    functions = base / "functions"
    shutil.copytree(ROOT / "functions", functions, ignore=shutil.ignore_patterns("__pycache__"))
    (functions / "permit_workflow").mkdir()
    (functions / "permit_workflow" / "__init__.py").write_text(textwrap.dedent(DECLARATION).lstrip())
    (functions / "workflow_registry.py").write_text(textwrap.dedent(REGISTRY).lstrip())
    out = base / "cdk.out"
    synthesize(out, context={"functionsDir": str(functions), "statemachinesDir": str(ROOT / "statemachines")})
    return out


@pytest.fixture
def cloud(app_with_permits: Path) -> Iterator[LocalCloud]:
    with LocalCloud(cdk_out=app_with_permits, seed=5) as local:
        yield local


@pytest.fixture
def permits(cloud: LocalCloud) -> FrontDoorDriver:
    return FrontDoorDriver(
        cloud, workflow="permit", subject_for=lambda _, pid: {"permitId": pid, "holder": "h"}
    )


def _requested(cloud: LocalCloud, permits: FrontDoorDriver, permit_id: str) -> None:
    permits.start({"permitId": permit_id, "holder": "Ada"})
    cloud.run_for(SETTLE)
    status = permits.status(permit_id)
    assert status is not None
    assert (status["status"], status["steps"]["approve"]["status"]) == ("RUNNING", "RUNNING")


def _status(permits: FrontDoorDriver, permit_id: str) -> dict[str, Any]:
    status = permits.status(permit_id)
    assert status is not None
    return status


def _officer(cloud: LocalCloud, name: str) -> ApiPrincipal:
    return cloud.principal(name, OFFICERS)


def test_an_officer_approves_in_time_and_the_decision_is_on_record(
    cloud: LocalCloud, permits: FrontDoorDriver
) -> None:
    # GIVEN a permit waiting for the officers' decision
    _requested(cloud, permits, "p-1")
    alice = _officer(cloud, "alice")
    # WHEN an officer approves it through the callback route, holding only the officers' policy
    code, body = permits.decide("p-1", "approve", "complete", principal=alice, details={"ticket": "T-1"})
    cloud.run_for(SETTLE)
    # THEN 202, and the workflow completes with the decision (who, when, details) as the step's record
    assert code == 202
    assert body == {
        "workflowId": "p-1",
        "step": "approve",
        "attempt": 1,
        "decision": "complete",
        "decidedBy": alice.arn,
        "statusPath": "/workflows/p-1",
    }
    status = _status(permits, "p-1")
    assert status["status"] == "COMPLETED"
    decision = status["steps"]["approve"]["decision"]
    assert (decision["decision"], decision["decidedBy"], decision["details"]) == (
        "complete",
        alice.arn,
        {"ticket": "T-1"},
    )
    assert "StepDecided" in [entry["detailType"] for entry in status["timeline"]]
    # AND nothing was refused or lost on the way
    assert cloud.access.denials == []
    assert cloud.ledger.dead_letters() == []
    assert cloud.ledger.unaccounted() == []


def test_a_rejection_fails_the_workflow_with_the_reason(cloud: LocalCloud, permits: FrontDoorDriver) -> None:
    _requested(cloud, permits, "p-2")
    bob = _officer(cloud, "bob")
    code, _ = permits.decide("p-2", "approve", "reject", principal=bob, reason="holder unknown")
    cloud.run_for(SETTLE)
    assert code == 202
    status = _status(permits, "p-2")
    assert status["status"] == "FAILED"
    assert "holder unknown" in status["reason"]
    assert bob.arn in status["reason"]
    assert status["steps"]["approve"]["decision"]["reason"] == "holder unknown"


def test_a_principal_without_the_approver_policy_is_denied(
    cloud: LocalCloud, permits: FrontDoorDriver
) -> None:
    _requested(cloud, permits, "p-3")
    # Clients and operators hold policies of their own, none of which names a callback route.
    for intruder in (
        cloud.principal("mallory"),
        cloud.principal("client", "ClientPolicyArn"),
        cloud.principal("ops", "WorkflowOperatorPolicyArn", kind="role"),
    ):
        code, body = permits.decide("p-3", "approve", "complete", principal=intruder)
        assert (code, body) == (403, {"message": "Forbidden"})
    cloud.run_for(SETTLE)
    # THEN the step still waits: nothing reached the front door, nothing was claimed
    assert _status(permits, "p-3")["steps"]["approve"]["status"] == "RUNNING"
    assert {d.action for d in cloud.access.denials} == {"execute-api:Invoke"}
    assert len(cloud.access.denials) == 3
    # AND an officer may still decide it
    assert permits.decide("p-3", "approve", "complete", principal=_officer(cloud, "carol"))[0] == 202


def test_two_officers_racing_one_decides_and_the_other_is_told_who(
    cloud: LocalCloud, permits: FrontDoorDriver
) -> None:
    _requested(cloud, permits, "p-4")
    alice, bob = _officer(cloud, "alice"), _officer(cloud, "bob")
    # WHEN both decide before the controller has seen either decision
    first = permits.decide("p-4", "approve", "complete", principal=alice)
    second = permits.decide("p-4", "approve", "reject", principal=bob, reason="too late?")
    # THEN the first claim wins; the second is told who decided what and when, and changes nothing
    assert first[0] == 202
    assert second[0] == 409
    assert second[1]["error"] == "AlreadyDecided"
    assert second[1]["message"].startswith(f"already decided: complete by {alice.arn} at ")
    # AND the winner's retry is answered as the first time
    assert permits.decide("p-4", "approve", "complete", principal=alice) == first
    cloud.run_for(SETTLE)
    status = _status(permits, "p-4")
    assert status["status"] == "COMPLETED"
    assert status["steps"]["approve"]["decision"]["decidedBy"] == alice.arn
    assert [e["detailType"] for e in status["timeline"]].count("StepDecided") == 1


def test_a_decision_after_the_workflow_ended_is_409_and_changes_nothing(
    cloud: LocalCloud, permits: FrontDoorDriver
) -> None:
    # GIVEN a permit nobody decided within 48 hours: the deadline failed it
    _requested(cloud, permits, "p-5")
    cloud.run_for(timedelta(hours=49))
    ended = _status(permits, "p-5")
    assert ended["status"] == "FAILED"
    # WHEN an officer approves it after all
    code, body = permits.decide("p-5", "approve", "complete", principal=_officer(cloud, "alice"))
    cloud.run_for(SETTLE)
    # THEN 409 says why, and the workflow is as it was
    assert (code, body["error"]) == (409, "WorkflowNotRunning")
    assert body["message"] == "workflow 'p-5' is FAILED; the decision changes nothing"
    after = _status(permits, "p-5")
    assert (after["status"], after["steps"]) == (ended["status"], ended["steps"])


def test_decisions_on_steps_that_take_none_are_404(cloud: LocalCloud, permits: FrontDoorDriver) -> None:
    _requested(cloud, permits, "p-6")
    officer = _officer(cloud, "alice")
    # The officers' policy names the approve step's routes only: another step's route is refused by IAM.
    assert permits.decide("p-6", "review", "complete", principal=officer)[0] == 403
    # A caller IAM lets through (no policies given: an administrator) hears from the front door why.
    response = cloud.http("POST", "/workflows/p-6/steps/review/complete", {})
    assert (response["statusCode"], response["json"]["error"]) == (404, "StepNotFound")
