"""The files a scaffold writes. ``<<key>>`` marks are filled by :func:`render`; nothing else is special."""

from __future__ import annotations

import json
import re
from typing import Any

from workflowkit.scaffold.names import StepNames, WorkflowNames


def render(template: str, **values: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"<<(\w+)>>", fill, template)


# --- the workflow package ---------------------------------------------------------------------------------
WORKFLOW_INIT = '''"""The <<name>> workflow: its declaration and its event contracts."""

from <<package>>.declaration import <<constant>>

__all__ = ["<<constant>>"]
'''

WORKFLOW_EVENTS = '''"""The <<name>> workflow's event contracts: models per event and version, owners.

The start event's data is the workflow's subject: every step reads it from the workflow context.
"""

from __future__ import annotations

from pydantic import Field

from workflow_core.catalog import EventType
from workflow_core.envelope import ContractModel
from workflow_core.lifecycle import SOURCE_CONTROLLER, CompensationOutcome, CompensationRequest

SOURCE_CLIENTS = "<<client_source>>"  # who starts a <<name>> workflow


class <<start_event>>(ContractModel):
    """The subject of a <<name>> workflow. Add the fields your steps need."""

    <<subject_id>>: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Scenarios of the local simulation steer a run with it ("fail:<step>", "fail-undo:<step>").
    note: str = Field(default="", max_length=200)


# Generated steps add their models above this line and their types to EVENT_TYPES.
EVENT_TYPES: tuple[EventType, ...] = (
    EventType("<<start_event>>", SOURCE_CLIENTS, {1: <<start_event>>}),
)

__all__ = ["SOURCE_CONTROLLER", "CompensationOutcome", "CompensationRequest"]
'''

WORKFLOW_DECLARATION = '''"""The <<name>> workflow, declared once: steps, deadlines, compensations."""

from __future__ import annotations

from datetime import timedelta

from <<package>>.events import EVENT_TYPES
from workflow_core.definition import Compensation, Step, WorkflowDefinition, consumer, state_machine

# Generated steps are added above this line, and to ``steps`` below.

<<constant>> = WorkflowDefinition(
    name="<<name>>",
    version=1,
    description="TODO: what a <<name>> workflow achieves.",
    start_event="<<start_event>>",
    subject_id="<<subject_id>>",
    steps=(),
    events=EVENT_TYPES,
)

__all__ = ["<<constant>>", "Compensation", "Step", "consumer", "state_machine", "timedelta"]
'''

# --- one step --------------------------------------------------------------------------------
STEP_MODELS = '''

class <<completed>>(ContractModel):
    """<<step>> is done: later steps can read this as its output."""

    reference: str = Field(min_length=1, max_length=200)


class <<failed>>(ContractModel):
    reason: str = Field(min_length=1, max_length=100)
    message: str = Field(default="", max_length=500)


class <<undo_requested>>(CompensationRequest):
    """Undo <<step>>. The controller fills the subject's id from the subject."""

    <<subject_id>>: str


class <<undone>>(CompensationOutcome):
    <<subject_id>>: str


class <<undo_failed>>(CompensationOutcome):
    <<subject_id>>: str
    reason: str
'''

STEP_EVENT_TYPES = """    EventType("<<completed>>", "<<source>>", {1: <<completed>>}),
    EventType("<<failed>>", "<<source>>", {1: <<failed>>}),
    EventType("<<undo_requested>>", SOURCE_CONTROLLER, {1: <<undo_requested>>}),
    EventType("<<undone>>", "<<source>>", {1: <<undone>>}),
    EventType("<<undo_failed>>", "<<source>>", {1: <<undo_failed>>}),
"""

STEP_DECLARATION = """<<constant>> = Step(
    name="<<step>>",
    runner=<<runner>>,
    started_by="<<started_by>>",
    completed_by="<<completed>>",
    failed_by="<<failed>>",
    deadline=timedelta(minutes=15),
    compensation=Compensation(
        request="<<undo_requested>>",
        completed_by="<<undone>>",
        failed_by="<<undo_failed>>",
        runner=<<undo_runner>>,
        deadline=timedelta(minutes=15),
    ),
)

"""

SERVICE_INIT = '''"""The <<service>> service: the <<step>> step of the <<name>> workflow."""
'''

CHOREOGRAPHED_DEPLOYMENT = '''"""What the <<service>> service needs deployed (the stack reads it).

See workflow_core.deployment.

Add its tables (TableNeed), topics, environment here; the stack creates and grants them.
"""

from workflow_core.deployment import ServiceNeeds

NEEDS = ServiceNeeds(
    handler="<<service>>.handler.lambda_handler",
    description="the <<step>> step of the <<name>> workflow",
)
'''

ORCHESTRATED_DEPLOYMENT = '''"""What the <<service>> service needs deployed (the stack reads it).

See workflow_core.deployment.

Its state machines are statemachines/<<machine>>.asl.json (the step) and <<machine>>-undo.asl.json (its
compensation). Task functions they call are declared here (TaskFunction: ASL placeholder -> handler).
"""

from workflow_core.deployment import ServiceNeeds

NEEDS = ServiceNeeds(description="the <<step>> step of the <<name>> workflow (Step Functions Standard)")
'''

CHOREOGRAPHED_SERVICE = '''"""The <<step>> step of the <<name>> workflow, and its undo.

One outcome event per trigger.

Replace the TODOs with the step's work. Handlers run at least once per event: make the work idempotent
(the queue Lambda already runs each event id once; keep your own writes conditional too).
"""

from __future__ import annotations

from typing import cast

from aws_lambda_powertools import Logger

from <<package>> import <<workflow_constant>>
from <<package>>.events import (
    <<completed>>,
    <<failed>>,
    <<start_event>>,
    <<undo_failed>>,
    <<undo_requested>>,
    <<undone>>,
)
from workflow_core.catalog import DomainEvent
from workflow_core.consumer import EventRouter, outcome_event, step_trigger
from workflow_core.envelope import ContractModel
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import STEP_RETRY_REQUESTED
from workflow_core.publisher import EventPublisher, OutgoingEvent
from workflow_core.registry import deployed

PRODUCER = "<<service>>"
STEP = "<<step>>"
logger = Logger(child=True)


class <<service_class>>:
    def __init__(self, *, publisher: EventPublisher) -> None:
        self._publisher = publisher
        self.router: EventRouter[OutgoingEvent] = EventRouter()
        self.router.on(*deployed().step_triggers(STEP), STEP_RETRY_REQUESTED)(self._run)
        self.router.on("<<undo_requested>>")(self._undo)

    def handle(self, event: DomainEvent) -> OutgoingEvent:
        return self.router.dispatch(event)

    def _run(self, event: DomainEvent) -> OutgoingEvent:
        trigger = step_trigger(event, STEP)
        subject = cast(<<start_event>>, trigger.subject)
        # TODO: the step's work, for subject (and trigger.output(<earlier step>) if it declares needs).
        # The scaffold's simulation steers runs with the subject's note (absent from other subjects).
        if getattr(subject, "note", "") == f"fail:{STEP}":
            failed = <<failed>>(reason="REJECTED", message=f"{STEP} refused {subject.<<subject_id>>}")
            return self._publish(event, "<<failed>>", failed)
        done = <<completed>>(reference=f"{STEP}-{subject.<<subject_id>>}-{trigger.attempt}")
        logger.info("step done", extra={"attempt": trigger.attempt})
        return self._publish(event, "<<completed>>", done)

    def _undo(self, event: DomainEvent) -> OutgoingEvent:
        request = event.data
        if not isinstance(request, <<undo_requested>>):
            raise InvalidEventError(f"{event.detail_type} carries {type(request).__name__}, not an undo")
        # TODO: undo the step's work for request.<<subject_id>> (and refuse its attempts up to
        # request.step_attempt afterwards, so a late trigger cannot redo it).
        if event.workflow is not None and event.workflow.subject.get("note") == f"fail-undo:{STEP}":
            failed = <<undo_failed>>(
                <<subject_id>>=request.<<subject_id>>,
                compensation_attempt=request.compensation_attempt,
                reason="could not undo",
            )
            return self._publish(event, "<<undo_failed>>", failed)
        undone = <<undone>>(
            <<subject_id>>=request.<<subject_id>>,
            compensation_attempt=request.compensation_attempt,
        )
        return self._publish(event, "<<undone>>", undone)

    def _publish(self, cause: DomainEvent, detail_type: str, data: ContractModel) -> OutgoingEvent:
        outgoing = outcome_event(cause, detail_type, data, producer=PRODUCER)
        self._publisher.publish([outgoing])
        return outgoing


<<workflow_constant>>.step(STEP)  # fails at import when the declaration does not name this step
'''

CHOREOGRAPHED_HANDLER = '''"""Lambda entry point of the <<service>> service (SQS batches of events)."""

from __future__ import annotations

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from <<service>>.service import <<service_class>>
from workflow_core.catalog import DomainEvent
from workflow_core.publisher import EventBridgePublisher
from workflow_core.queue_lambda import queue_lambda
from workflow_core.settings import EVENT_BUS_NAME, required

logger = Logger()
tracer = Tracer()
metrics = Metrics()

service = <<service_class>>(
    publisher=EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=boto3.client("events")),
)


@tracer.capture_method
def handle(event: DomainEvent) -> None:
    outcome = service.handle(event)
    metrics.add_metric(name=outcome.detail_type, unit=MetricUnit.Count, value=1)


lambda_handler = queue_lambda(
    handle, logger=logger, tracer=tracer, metrics=metrics, idempotency_key_prefix="<<service>>"
)
'''


def _metadata(detail_type: str, producer: str, *, root: str) -> dict[str, Any]:
    return {
        "eventId.$": f"States.Format('{{}}:{detail_type}', $$.Execution.Name)",
        "correlationId.$": f"{root}.metadata.correlationId",
        "causationId.$": f"{root}.metadata.eventId",
        "schemaVersion": 1,
        "occurredAt.$": "$$.State.EnteredTime",
        "producer": producer,
    }


def _put(detail_type: str, source: str, producer: str, data: dict[str, Any], *, root: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {
            "Entries": [
                {
                    "EventBusName": "${EventBusName}",
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": {
                        "metadata": _metadata(detail_type, producer, root=root),
                        "workflow.$": f"{root}.workflow",
                        "data": data,
                    },
                }
            ]
        },
        "Retry": [
            {
                "ErrorEquals": ["EventBridge.EventBridgeException", "States.Timeout"],
                "IntervalSeconds": 1,
                "MaxAttempts": 5,
                "BackoffRate": 2,
                "JitterStrategy": "FULL",
            }
        ],
        "End": True,
    }


def _note_is(path: str, value: str, then: str) -> dict[str, Any]:
    return {
        "And": [
            {"Variable": path, "IsPresent": True},
            {"Variable": path, "StringEquals": value},
        ],
        "Next": then,
    }


def step_machine(step: StepNames) -> str:
    """The step's state machine: started by the controller with the workflow's start announcement."""
    producer = f"{step.service}.flow"
    definition = {
        "Comment": f"The {step.name} step of the {step.workflow.name} workflow. TODO: the step's work.",
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [_note_is("$.workflow.subject.note", f"fail:{step.name}", "ReportFailed")],
                "Default": "ReportCompleted",
            },
            "ReportCompleted": _put(
                step.completed, step.source, producer, {"reference.$": "$$.Execution.Name"}, root="$"
            ),
            "ReportFailed": _put(
                step.failed,
                step.source,
                producer,
                {"reason": "REJECTED", "message": f"{step.name} refused it"},
                root="$",
            ),
        },
    }
    return json.dumps(definition, indent=2) + "\n"


def undo_machine(step: StepNames) -> str:
    """The step's compensation: started by a rule on the undo request (input: the EventBridge event)."""
    producer = f"{step.service}.undo"
    subject_id = step.workflow.subject_id_wire
    common = {
        f"{subject_id}.$": f"$.detail.data.{subject_id}",
        "compensationAttempt.$": "$.detail.data.compensationAttempt",
    }
    definition = {
        "Comment": f"Undoes the {step.name} step of the {step.workflow.name} workflow. TODO: its work.",
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    _note_is("$.detail.workflow.subject.note", f"fail-undo:{step.name}", "ReportFailed")
                ],
                "Default": "ReportUndone",
            },
            "ReportUndone": _put(step.undone, step.source, producer, dict(common), root="$.detail"),
            "ReportFailed": _put(
                step.undo_failed,
                step.source,
                producer,
                {**common, "reason": "could not undo"},
                root="$.detail",
            ),
        },
    }
    return json.dumps(definition, indent=2) + "\n"


def step_values(step: StepNames, *, started_by: str, orchestrated: bool) -> dict[str, str]:
    w: WorkflowNames = step.workflow
    runner = (
        f'state_machine("{step.machine}", service="{step.service}")'
        if orchestrated
        else f'consumer("{step.service}")'
    )
    undo_runner = (
        f'state_machine("{step.machine}-undo", service="{step.service}")'
        if orchestrated
        else f'consumer("{step.service}")'
    )
    return {
        "name": w.name,
        "package": w.package,
        "constant": step.constant,
        "workflow_constant": w.constant,
        "start_event": w.start_event,
        "subject_id": w.subject_id,
        "step": step.name,
        "service": step.service,
        "service_class": f"{w.camel}{step.name.capitalize()}Service",
        "machine": step.machine,
        "source": step.source,
        "runner": runner,
        "undo_runner": undo_runner,
        "started_by": started_by,
        "completed": step.completed,
        "failed": step.failed,
        "undo_requested": step.undo_requested,
        "undone": step.undone,
        "undo_failed": step.undo_failed,
    }


def workflow_values(workflow: WorkflowNames) -> dict[str, str]:
    return {
        "name": workflow.name,
        "package": workflow.package,
        "constant": workflow.constant,
        "start_event": workflow.start_event,
        "subject_id": workflow.subject_id,
        "client_source": workflow.client_source,
        "subject_id_wire": workflow.subject_id_wire,
    }


# --- the workflow's simulation plug-in -------------------------------------------------------------------
SIMULATION = '''"""The <<name>> workflow's simulation: its scenarios and driver, a plug-in of the simulator.

Each scenario steers one instance through the subject's ``note``, which the generated steps read.
Add scenarios of your own, a driver that seeds data your steps need, and invariants only this
workflow can check (``invariants=`` of the plug-in).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from workflowkit.simulator import WorkflowPlugin
from workflowkit.simulator.front_door import FrontDoorDriver


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    note: str
    expected_status: str
    expected_compensations: tuple[str, ...] = ()


# ``workflowkit new step`` adds one scenario per step.
SCENARIO_LIST: tuple[Scenario, ...] = (
    Scenario("completes", "every step succeeds", "", "COMPLETED"),
)
SCENARIOS = {scenario.name: scenario for scenario in SCENARIO_LIST}


def subject_for(scenario: str, workflow_id: str) -> dict[str, Any]:
    """The start event's data for one instance of ``scenario``."""
    return {"<<subject_id_wire>>": workflow_id, "note": SCENARIOS[scenario].note}


def declaration() -> Any:
    """The declaration, from the app's code (first on sys.path while a local cloud runs)."""
    from <<package>> import <<constant>>  # noqa: PLC0415 - the app's own code

    return <<constant>>


PLUGIN = WorkflowPlugin[FrontDoorDriver](
    name="<<name>>",
    scenarios=SCENARIOS,
    default_mix=dict.fromkeys(SCENARIOS, 1),
    driver=partial(FrontDoorDriver, workflow="<<name>>", subject_for=subject_for),
    declaration=declaration,
)

__all__ = ["PLUGIN", "SCENARIOS"]
'''

SIMULATION_SCENARIO = (
    '    Scenario("fails-at-<<step>>", "<<step>> fails: what ran before is undone", "fail:<<step>>", '
    '"<<status>>", <<compensations>>),'
)
