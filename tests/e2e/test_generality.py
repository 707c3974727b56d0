"""The kit is general: a third workflow, declared only in a temporary folder, deploys and runs beside the
order workflow with no change to ``infra/``, the controller or ``workflowkit/``.

The new workflow ("billing") has two steps: ``check`` is orchestrated (a trivial state machine that
announces its outcome), ``post`` is choreographed (a queue-fed service) and fails for amounts over a
limit; the service also undoes ``check``. The only file of the app it touches is the registry's list.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, synthesize
from workflowkit import LocalCloud

EVENTS = '''
"""The billing workflow's contracts."""

from __future__ import annotations

from pydantic import Field

from workflow_core.catalog import EventType
from workflow_core.envelope import ContractModel
from workflow_core.lifecycle import SOURCE_CONTROLLER, CompensationOutcome, CompensationRequest


class InvoiceRaised(ContractModel):
    invoice_id: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(ge=0)


class InvoiceChecked(ContractModel):
    verdict: str


class InvoiceCheckFailed(ContractModel):
    reason: str


class InvoicePosted(ContractModel):
    entry_id: str


class InvoicePostFailed(ContractModel):
    reason: str


class CheckReleaseRequested(CompensationRequest):
    invoice_id: str


class CheckReleased(CompensationOutcome):
    invoice_id: str


class CheckReleaseFailed(CompensationOutcome):
    invoice_id: str
    reason: str


EVENT_TYPES = (
    EventType("InvoiceRaised", "billing.clients", {1: InvoiceRaised}),
    EventType("InvoiceChecked", "billing.check", {1: InvoiceChecked}),
    EventType("InvoiceCheckFailed", "billing.check", {1: InvoiceCheckFailed}),
    EventType("InvoicePosted", "billing.ledger", {1: InvoicePosted}),
    EventType("InvoicePostFailed", "billing.ledger", {1: InvoicePostFailed}),
    EventType("CheckReleaseRequested", SOURCE_CONTROLLER, {1: CheckReleaseRequested}),
    EventType("CheckReleased", "billing.ledger", {1: CheckReleased}),
    EventType("CheckReleaseFailed", "billing.ledger", {1: CheckReleaseFailed}),
)
'''

DECLARATION = '''
"""The billing workflow: check (orchestrated), then post (choreographed); undo the check on failure."""

from datetime import timedelta

from billing_workflow.events import EVENT_TYPES
from workflow_core.definition import Compensation, Step, WorkflowDefinition, consumer, state_machine

CHECK = Step(
    name="check",
    runner=state_machine("billing-check", service="billing_ledger"),
    started_by="WorkflowStarted",
    completed_by="InvoiceChecked",
    failed_by="InvoiceCheckFailed",
    deadline=timedelta(minutes=5),
    compensation=Compensation(
        request="CheckReleaseRequested",
        completed_by="CheckReleased",
        failed_by="CheckReleaseFailed",
        runner=consumer("billing_ledger"),
        deadline=timedelta(minutes=5),
    ),
)
POST = Step(
    name="post",
    runner=consumer("billing_ledger"),
    started_by="InvoiceChecked",
    completed_by="InvoicePosted",
    failed_by="InvoicePostFailed",
    deadline=timedelta(minutes=5),
    needs=("check",),
)
BILLING_WORKFLOW = WorkflowDefinition(
    name="billing",
    version=1,
    start_event="InvoiceRaised",
    subject_id="invoice_id",
    steps=(CHECK, POST),
    events=EVENT_TYPES,
)
'''

LEDGER_DEPLOYMENT = """
from workflow_core.deployment import ServiceNeeds

NEEDS = ServiceNeeds(handler="billing_ledger.handler.lambda_handler", description="the billing ledger")
"""

LEDGER_HANDLER = '''
"""Posts invoices (the post step) and releases checks (the check step's undo)."""

from typing import cast

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

from billing_workflow.events import (
    CheckReleased,
    CheckReleaseRequested,
    InvoicePosted,
    InvoicePostFailed,
    InvoiceRaised,
)
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event, step_trigger
from workflow_core.lifecycle import STEP_RETRY_REQUESTED
from workflow_core.publisher import EventBridgePublisher
from workflow_core.queue_lambda import queue_lambda
from workflow_core.registry import deployed
from workflow_core.settings import EVENT_BUS_NAME, required

LIMIT_MINOR = 100_000
logger, tracer, metrics = Logger(), Tracer(), Metrics()
publisher = EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=boto3.client("events"))
router: EventRouter[None] = EventRouter()


@router.on(*deployed().step_triggers("post"), STEP_RETRY_REQUESTED)
def post(event: DomainEvent) -> None:
    trigger = step_trigger(event, "post")
    invoice = cast(InvoiceRaised, trigger.subject)
    verdict = trigger.output("check")["verdict"]
    if invoice.amount_minor > LIMIT_MINOR:
        failed = InvoicePostFailed(reason=f"over the limit ({verdict})")
        outcome = outcome_event(event, "InvoicePostFailed", failed, producer="ledger")
    else:
        posted = InvoicePosted(entry_id=f"e-{invoice.invoice_id}")
        outcome = outcome_event(event, "InvoicePosted", posted, producer="ledger")
    publisher.publish([outcome])


@router.on("CheckReleaseRequested")
def release(event: DomainEvent) -> None:
    request = cast(CheckReleaseRequested, event.data)
    released = CheckReleased(
        invoice_id=request.invoice_id, compensation_attempt=request.compensation_attempt
    )
    publisher.publish([outcome_event(event, "CheckReleased", released, producer="ledger")])


lambda_handler = queue_lambda(
    router.dispatch, logger=logger, tracer=tracer, metrics=metrics, idempotency_key_prefix="billing_ledger"
)
'''

CHECK_ASL = {
    "Comment": "Checks an invoice: announces InvoiceChecked with the workflow context it was started with.",
    "StartAt": "Announce",
    "States": {
        "Announce": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {
                "Entries": [
                    {
                        "EventBusName": "${EventBusName}",
                        "Source": "billing.check",
                        "DetailType": "InvoiceChecked",
                        "Detail": {
                            "metadata": {
                                "eventId.$": "States.Format('{}:InvoiceChecked', $$.Execution.Name)",
                                "correlationId.$": "$.metadata.correlationId",
                                "causationId.$": "$.metadata.eventId",
                                "schemaVersion": 1,
                                "occurredAt.$": "$$.State.EnteredTime",
                                "producer": "billing.check",
                            },
                            "workflow.$": "$.workflow",
                            "data": {"verdict": "ok"},
                        },
                    }
                ]
            },
            "End": True,
        }
    },
}

REGISTRY = """
from billing_workflow.declaration import BILLING_WORKFLOW
from order_workflow import ORDER_WORKFLOW

WORKFLOWS = (ORDER_WORKFLOW, BILLING_WORKFLOW)
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


@pytest.fixture(scope="module")
def app_with_billing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the app's code with the billing workflow added; synthesized by the repo's own app.py."""
    base = tmp_path_factory.mktemp("generality")
    functions = base / "functions"
    statemachines = base / "statemachines"
    shutil.copytree(ROOT / "functions", functions, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "statemachines", statemachines)
    _write(functions / "billing_workflow" / "__init__.py", '"""The billing workflow."""\n')
    _write(functions / "billing_workflow" / "events.py", EVENTS)
    _write(functions / "billing_workflow" / "declaration.py", DECLARATION)
    _write(functions / "billing_ledger" / "__init__.py", '"""The billing ledger service."""\n')
    _write(functions / "billing_ledger" / "deployment.py", LEDGER_DEPLOYMENT)
    _write(functions / "billing_ledger" / "handler.py", LEDGER_HANDLER)
    (statemachines / "billing-check.asl.json").write_text(json.dumps(CHECK_ASL, indent=2))
    _write(functions / "workflow_registry.py", REGISTRY)  # the one line a new workflow adds
    out = base / "cdk.out"
    synthesize(out, context={"functionsDir": str(functions), "statemachinesDir": str(statemachines)})
    return out


@pytest.fixture
def billing_cloud(app_with_billing: Path) -> Iterator[LocalCloud]:
    with LocalCloud(cdk_out=app_with_billing, seed=11) as cloud:
        yield cloud


def _status(cloud: LocalCloud, workflow_id: str) -> dict[str, object]:
    response = cloud.http("GET", f"/workflows/{workflow_id}")
    assert response["statusCode"] == 200, response
    status: dict[str, object] = json.loads(response["body"])
    return status


def test_a_third_workflow_runs_end_to_end_beside_the_order_workflow(billing_cloud: LocalCloud) -> None:
    # GIVEN the stack deployed with the order workflow and a billing workflow declared in a temp folder
    cloud = billing_cloud
    # WHEN one invoice within the limit and one over it are raised through the front door
    for invoice_id, amount in (("inv-1", 5_000), ("inv-2", 500_000)):
        answer = cloud.http("POST", "/start/billing", {"invoiceId": invoice_id, "amountMinor": amount})
        assert answer["statusCode"] == 202, answer
    cloud.run_until_quiescent()
    # THEN the first completes: the state machine checked it, the ledger posted it with the check's output
    happy = _status(cloud, "inv-1")
    assert (happy["workflowType"], happy["definitionVersion"], happy["status"]) == ("billing", 1, "COMPLETED")
    steps = happy["steps"]
    assert isinstance(steps, dict)
    assert steps["check"]["output"] == {"verdict": "ok"}
    assert steps["post"]["output"] == {"entryId": "e-inv-1"}
    # AND the second is compensated: posting failed, so the completed check was undone by the ledger
    failed = _status(cloud, "inv-2")
    assert failed["status"] == "COMPENSATED"
    assert failed["compensatedSteps"] == ["check"]
    # AND nothing was refused by the template's permissions, nothing dead-lettered or lost
    assert cloud.access.denials == []
    assert cloud.ledger.dead_letters() == []
    assert cloud.ledger.unaccounted() == []


def test_the_order_workflow_still_runs_in_the_same_stack(billing_cloud: LocalCloud) -> None:
    from simulations.order.driver import OrderDriver  # noqa: PLC0415

    driver = OrderDriver(billing_cloud)
    driver.seed()
    driver.submit("happy", "o-gen-1")
    billing_cloud.run_until_quiescent()
    status = driver.status("o-gen-1")
    assert status is not None
    assert status["status"] == "COMPLETED"
