"""Decisions through the front door, end to end on the local cloud, as IAM principals.

Two workflows are declared only in a temporary folder and synthesized beside the order workflow: a
``permit`` has one human step, ``approve``, decided by the ``permit-officers`` group within 48 hours (a
missed deadline fails the permit); a ``licence`` has one orchestrated step, ``sign``, whose state machine
leaves its task token in the callbacks table and waits for the same group's decision. Officers hold only
their group's approver policy (the stack output ``PermitOfficersApproverPolicyArn``); the local cloud
enforces the template's policies on every call as API Gateway's IAM authorisation would, and on the front
door's ``SendTaskSuccess`` as Step Functions would.
"""

from __future__ import annotations

import json
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

LICENCE = '''
"""A licence: a state machine signs it once an officer decided (the machine waits on a task token)."""

from datetime import timedelta

from pydantic import Field

from workflow_core import lifecycle
from workflow_core.catalog import EventType
from workflow_core.definition import Callback, Step, WorkflowDefinition, state_machine
from workflow_core.envelope import ContractModel


class LicenceRequested(ContractModel):
    licence_id: str = Field(min_length=1, max_length=64)


class LicenceSigned(ContractModel):
    licence_id: str
    signed_by: str


class LicenceRefused(ContractModel):
    licence_id: str
    reason: str


LICENCE_WORKFLOW = WorkflowDefinition(
    name="licence",
    version=1,
    start_event="LicenceRequested",
    subject_id="licence_id",
    steps=(
        Step(
            name="sign",
            runner=state_machine("licence-signing", service="licences"),
            started_by=lifecycle.WORKFLOW_STARTED,
            completed_by="LicenceSigned",
            failed_by="LicenceRefused",
            deadline=timedelta(hours=8),
            callback=Callback(approvers="permit-officers"),
        ),
    ),
    events=(
        EventType("LicenceRequested", "licences.clients", {1: LicenceRequested}),
        EventType("LicenceSigned", "licences.signing", {1: LicenceSigned}),
        EventType("LicenceRefused", "licences.signing", {1: LicenceRefused}),
    ),
)
'''


def _announce(detail_type: str, data: dict[str, str]) -> dict[str, Any]:
    """A putEvents task announcing the step's outcome in the envelope, in the workflow's context."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {
            "Entries": [
                {
                    "EventBusName": "${EventBusName}",
                    "Source": "licences.signing",
                    "DetailType": detail_type,
                    "Detail": {
                        "metadata": {
                            "eventId.$": f"States.Format('{{}}:{detail_type}', $$.Execution.Name)",
                            "correlationId.$": "$.metadata.correlationId",
                            "causationId.$": "$.metadata.eventId",
                            "schemaVersion": 1,
                            "occurredAt.$": "$$.State.EnteredTime",
                            "producer": "licences.signing",
                        },
                        "workflow.$": "$.workflow",
                        "data": data,
                    },
                }
            ]
        },
        "End": True,
    }


# The machine leaves its task token where the front door looks for it (the workflow id, TOKEN#<step>#<its
# execution's name) and waits; the officer's decision comes back as the task's result.
SIGNING_ASL = {
    "StartAt": "AwaitDecision",
    "States": {
        "AwaitDecision": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {
                "TableName": "${CallbacksTableName}",
                "Item": {
                    "workflowId": {"S.$": "$.data.workflowId"},
                    "sk": {"S.$": "States.Format('TOKEN#sign#{}', $$.Execution.Name)"},
                    "execution": {"S.$": "$$.Execution.Name"},
                    "taskToken": {"S.$": "$$.Task.Token"},
                },
            },
            "ResultPath": "$.decision",
            "Next": "Decided",
        },
        "Decided": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.decision.decision", "StringEquals": "complete", "Next": "Signed"}],
            "Default": "Refused",
        },
        "Signed": _announce(
            "LicenceSigned", {"licenceId.$": "$.data.workflowId", "signedBy.$": "$.decision.decidedBy"}
        ),
        "Refused": _announce(
            "LicenceRefused", {"licenceId.$": "$.data.workflowId", "reason.$": "$.decision.reason"}
        ),
    },
}

REGISTRY = """
from licence_workflow import LICENCE_WORKFLOW
from order_workflow import ORDER_WORKFLOW
from permit_workflow import PERMIT_WORKFLOW

WORKFLOWS = (ORDER_WORKFLOW, PERMIT_WORKFLOW, LICENCE_WORKFLOW)
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
    (functions / "licence_workflow").mkdir()
    (functions / "licence_workflow" / "__init__.py").write_text(textwrap.dedent(LICENCE).lstrip())
    (functions / "workflow_registry.py").write_text(textwrap.dedent(REGISTRY).lstrip())
    statemachines = base / "statemachines"
    shutil.copytree(ROOT / "statemachines", statemachines)
    (statemachines / "licence-signing.asl.json").write_text(json.dumps(SIGNING_ASL, indent=2))
    out = base / "cdk.out"
    synthesize(out, context={"functionsDir": str(functions), "statemachinesDir": str(statemachines)})
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


# --- a state machine paused on a task token -------------------------------------------------------------
@pytest.fixture
def licences(cloud: LocalCloud) -> FrontDoorDriver:
    return FrontDoorDriver(cloud, workflow="licence", subject_for=lambda _, lid: {"licenceId": lid})


@pytest.mark.parametrize(
    ("verdict", "reason", "final"), [("complete", None, "COMPLETED"), ("reject", "forged seal", "FAILED")]
)
def test_a_paused_state_machine_resumes_with_the_officers_decision(
    cloud: LocalCloud, licences: FrontDoorDriver, verdict: Any, reason: str | None, final: str
) -> None:
    # GIVEN a licence whose signing machine waits on its task token
    licences.start({"licenceId": "l-1"})
    cloud.run_for(SETTLE)
    assert _status(licences, "l-1")["steps"]["sign"]["status"] == "RUNNING"
    alice = _officer(cloud, "alice")
    # WHEN an officer decides through the callback route
    code, body = licences.decide("l-1", "sign", verdict, principal=alice, reason=reason)
    cloud.run_for(SETTLE)
    # THEN the front door answered the token (its grant names this machine) and the machine's outcome,
    # which carries the decider's identity or reason, ended the step
    assert (code, body["decidedBy"]) == (202, alice.arn)
    status = _status(licences, "l-1")
    assert status["status"] == final
    if verdict == "complete":
        assert status["steps"]["sign"]["output"] == {"licenceId": "l-1", "signedBy": alice.arn}
    else:
        assert "forged seal" in status["reason"]
    assert cloud.access.denials == []
    # AND a second decision changes nothing: the claim names the first
    again = licences.decide("l-1", "sign", "complete", principal=_officer(cloud, "bob"))
    assert again[0] == 409
