"""A small workflow and a small template that wires it, as a synthesized stack would.

``demo`` v1: ``charge`` runs on a state machine (undone by a ``refund`` state machine a rule starts), then
``pack`` on a queue-fed service. :func:`template` builds the CloudFormation template a stack derived from
it holds: rules to queues and to the refund state machine, functions fed by the queues, and roles allowed
to put exactly their events. Tests change a copy to make the two disagree.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from workflow_core.catalog import EventType
from workflow_core.definition import Compensation, Step, WorkflowDefinition, consumer, state_machine
from workflow_core.envelope import ContractModel
from workflow_core.lifecycle import SOURCE_CONTROLLER, CompensationOutcome, CompensationRequest
from workflow_core.registry import Registry
from workflowkit.docgen import Wiring
from workflowkit.template import ResolvedTemplate

STACK = "Demo-dev"


class JobSubmitted(ContractModel):
    job_id: str
    amount_minor: int


class Charged(ContractModel):
    job_id: str


class Failed(ContractModel):
    job_id: str
    reason: str


class RefundAsked(CompensationRequest):
    job_id: str


class Refunded(CompensationOutcome):
    job_id: str


EVENTS = (
    EventType("JobSubmitted", "demo.front", {1: JobSubmitted}),
    EventType("ChargeDone", "demo.billing", {1: Charged, 2: Charged}, {1: lambda data: data}),
    EventType("ChargeFailed", "demo.billing", {1: Failed}),
    EventType("RefundAsked", SOURCE_CONTROLLER, {1: RefundAsked}),
    EventType("Refunded", "demo.billing", {1: Refunded}),
    EventType("RefundRefused", "demo.billing", {1: Failed}),
    EventType("PackDone", "demo.packing", {1: Charged}),
    EventType("PackFailed", "demo.packing", {1: Failed}),
)

DEMO = WorkflowDefinition(
    name="demo",
    version=1,
    description="Charge, then pack; refund the charge when packing fails.",
    start_event="JobSubmitted",
    subject_id="job_id",
    steps=(
        Step(
            name="charge",
            runner=state_machine("charge", service="billing"),
            started_by="WorkflowStarted",
            completed_by="ChargeDone",
            failed_by="ChargeFailed",
            deadline=timedelta(minutes=5),
            compensation=Compensation(
                request="RefundAsked",
                completed_by="Refunded",
                failed_by="RefundRefused",
                runner=state_machine("refund", service="billing"),
                deadline=timedelta(hours=1, minutes=30),
            ),
        ),
        Step(
            name="pack",
            runner=consumer("packer"),
            started_by="ChargeDone",
            completed_by="PackDone",
            failed_by="PackFailed",
            deadline=timedelta(hours=48),
            needs=("charge",),
        ),
    ),
    events=EVENTS,
)

CONTROLLER_TYPES = (
    "WorkflowStarted",
    "WorkflowCompleted",
    "WorkflowCompensated",
    "WorkflowFailed",
    "WorkflowEscalated",
    "StepRetryRequested",
    "RefundAsked",
)


def registry() -> Registry:
    return Registry([DEMO])


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def template() -> dict[str, Any]:
    resources: dict[str, Any] = {"Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "demo-bus"}}}

    def role(name: str, service: str, grants: dict[str, tuple[str, ...]]) -> None:
        resources[f"{name}Role"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
                    ],
                }
            },
        }
        resources[f"{name}Policy"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": f"{name}Policy",
                "Roles": [{"Ref": f"{name}Role"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "events:PutEvents",
                            "Resource": _arn("Bus"),
                            "Condition": {
                                "ForAllValues:StringEquals": {
                                    "events:source": [source],
                                    "events:detail-type": list(types),
                                },
                                "Null": {"events:source": "false", "events:detail-type": "false"},
                            },
                        }
                        for source, types in grants.items()
                    ],
                },
            },
        }

    def service(name: str, service_name: str, grants: dict[str, tuple[str, ...]], *, fed: bool) -> None:
        role(name, "lambda.amazonaws.com", grants)
        resources[f"{name}Function"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": _arn(f"{name}Role"),
                "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": service_name}},
            },
        }
        if fed:
            resources[f"{name}Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
            resources[f"{name}Mapping"] = {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": _arn(f"{name}Queue"),
                    "FunctionName": {"Ref": f"{name}Function"},
                },
            }

    def machine(name: str, grants: dict[str, tuple[str, ...]]) -> None:
        role(name, "states.amazonaws.com", grants)
        resources[f"{name}StateMachine"] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": f"demo-dev-demo-{name.lower()}",
                "RoleArn": _arn(f"{name}Role"),
            },
        }

    def rule(name: str, source: str, types: tuple[str, ...], target: str, **detail: Any) -> None:
        pattern: dict[str, Any] = {"source": [source], "detail-type": list(types)}
        if detail:
            pattern["detail"] = detail
        resources[f"{name}Rule"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": pattern,
                "State": "ENABLED",
                "Targets": [{"Id": "Target0", "Arn": _arn(target)}],
            },
        }

    service(
        "Front",
        "front",
        {"demo.front": ("JobSubmitted",), "workflow.operator": ("OperatorCommandIssued",)},
        fed=False,
    )
    service("Controller", "controller", {SOURCE_CONTROLLER: CONTROLLER_TYPES}, fed=True)
    service("Packer", "packer", {"demo.packing": ("PackDone", "PackFailed")}, fed=True)
    machine("Charge", {"demo.billing": ("ChargeDone", "ChargeFailed")})
    machine("Refund", {"demo.billing": ("Refunded", "RefundRefused")})
    role("Scheduler", "scheduler.amazonaws.com", {"workflow.scheduler": ("StepDeadlineReached",)})

    demo = {"workflow": {"name": ["demo"]}}
    rule("ControllerStart", "demo.front", ("JobSubmitted",), "ControllerQueue")
    rule(
        "ControllerBilling",
        "demo.billing",
        ("ChargeDone", "ChargeFailed", "Refunded", "RefundRefused"),
        "ControllerQueue",
        **demo,
    )
    rule("ControllerPacking", "demo.packing", ("PackDone", "PackFailed"), "ControllerQueue", **demo)
    rule("ControllerDeadline", "workflow.scheduler", ("StepDeadlineReached",), "ControllerQueue", **demo)
    rule("ControllerOperator", "workflow.operator", ("OperatorCommandIssued",), "ControllerQueue", **demo)
    rule("PackerTrigger", "demo.billing", ("ChargeDone",), "PackerQueue", **demo)
    rule(
        "PackerRetry",
        SOURCE_CONTROLLER,
        ("StepRetryRequested",),
        "PackerQueue",
        workflow={"name": ["demo"]},
        data={"step": ["pack"]},
    )
    rule("RefundStart", SOURCE_CONTROLLER, ("RefundAsked",), "RefundStateMachine", **demo)
    return {"Resources": resources}


def wiring(changed: dict[str, Any] | None = None) -> Wiring:
    return Wiring.from_templates([ResolvedTemplate(stack_name=STACK, template=changed or template())])


def changed_template() -> dict[str, Any]:
    """A deep copy of :func:`template`, for a test to break."""
    return copy.deepcopy(template())


def write_cdk_out(folder: Path, body: dict[str, Any]) -> Path:
    """A cloud assembly holding one stack, as ``cdk synth`` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{STACK}.template.json").write_text(json.dumps(body))
    manifest = {
        "artifacts": {
            STACK: {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": f"{STACK}.template.json"},
            }
        }
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
