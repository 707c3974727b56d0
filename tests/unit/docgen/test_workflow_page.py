"""A workflow's page: its steps and flowchart from the declaration, its event catalog from the template."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from tests.unit.docgen import demo
from workflow_core.catalog import EventType
from workflow_core.definition import Step, consumer
from workflow_core.registry import Registry
from workflowkit.docgen import render_docs


def page(registry: Registry | None = None, template: dict[str, Any] | None = None) -> str:
    rendering = render_docs(registry or demo.registry(), demo.wiring(template))
    return rendering.files["workflows/demo.md"]


def section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_flowchart_shows_each_step_its_pattern_trigger_outcomes_deadline_and_compensation() -> None:
    # GIVEN the demo declaration and a template that wires it
    # WHEN its page is generated
    chart = section(page(), "```mermaid\n", "```")
    # THEN the start event reaches the controller, the state machine is started by the controller, the
    # queue-fed step by the first step's completion, outcomes go back to the controller, the undo is dashed
    # with its request and deadline, and the controller announces the workflow's start and end
    assert chart == (
        "flowchart TD\n"
        '    start(["JobSubmitted<br/>from demo.front"])\n'
        '    controller{{"controller"}}\n'
        '    step_charge[["step 1: charge<br/>orchestrated: state machine demo-dev-demo-charge'
        '<br/>deadline 5 min"]]\n'
        '    undo_charge[["undo charge<br/>orchestrated: state machine demo-dev-demo-refund"]]\n'
        '    step_pack["step 2: pack<br/>choreographed: service packer<br/>deadline 48 h"]\n'
        '    deadlines(["deadline schedules"])\n'
        '    operators(["operators"])\n'
        '    announcements(["WorkflowStarted<br/>WorkflowCompleted<br/>WorkflowCompensated<br/>WorkflowFailed'
        '<br/>WorkflowEscalated"])\n'
        '    controller -->|"StartExecution on WorkflowStarted"| step_charge\n'
        '    step_charge -->|"ChargeDone / ChargeFailed"| controller\n'
        '    step_charge -->|"ChargeDone"| step_pack\n'
        '    step_pack -->|"PackDone / PackFailed"| controller\n'
        '    controller -.->|"RefundAsked, deadline 1 h 30 min"| undo_charge\n'
        '    undo_charge -.->|"Refunded / RefundRefused"| controller\n'
        '    deadlines -->|"StepDeadlineReached"| controller\n'
        '    operators -->|"OperatorCommandIssued"| controller\n'
        '    controller -->|"announces"| announcements\n'
    )


def test_the_steps_table_names_what_runs_each_step_as_deployed() -> None:
    steps = section(page(), "## Version 1\n\n", "\n\n```mermaid")
    assert steps.splitlines()[2:] == [
        "| `charge` | orchestrated | state machine `demo-dev-demo-charge` (`statemachines/charge.asl.json`) "
        "| `WorkflowStarted` (the controller starts the execution) | `ChargeDone` | `ChargeFailed` | 5 min "
        "| `RefundAsked` -> state machine `demo-dev-demo-refund` (`statemachines/refund.asl.json`) -> "
        "`Refunded` / `RefundRefused`, deadline 1 h 30 min | - | - |",
        "| `pack` | choreographed | service `packer` | `ChargeDone` | `PackDone` | `PackFailed` | 48 h | - "
        "| `charge` | - |",
    ]


def catalog_rows(text: str) -> dict[str, str]:
    catalog = text.split("## Event catalog", 1)[1]
    table = section(catalog, "| --- | --- | --- | --- | --- | --- |\n", "\n\n")
    return {row.split(" | ", 1)[0].removeprefix("| "): row for row in table.splitlines()}


def test_the_event_catalog_reads_producers_and_consumers_from_the_template() -> None:
    rows = catalog_rows(page())
    # in the order of the flow, then the kit's events for this workflow
    assert list(rows)[:4] == ["`JobSubmitted`", "`WorkflowStarted`", "`ChargeDone`", "`ChargeFailed`"]
    assert rows["`ChargeDone`"] == (
        "| `ChargeDone` | `demo.billing` | [v1](../events/schemas/ChargeDone.v1.json), "
        "[v2](../events/schemas/ChargeDone.v2.json) | `charge` completed; starts `pack` "
        "| state machine `demo-dev-demo-charge` | `controller`, `packer` |"
    )
    # a rule target that is a state machine; a queue is named by the function it feeds
    assert rows["`RefundAsked`"] == (
        "| `RefundAsked` | `workflow.controller` | [v1](../events/schemas/RefundAsked.v1.json) "
        "| asks to undo `charge` | `controller` | state machine `demo-dev-demo-refund` |"
    )
    # a filter beyond source, detail-type and workflow is shown
    assert rows["`StepRetryRequested`"].endswith(
        "| the controller retries `pack` | `controller` | `packer` (only `detail.data.step: pack`) |"
    )
    # a role no function or state machine uses is named by the service that assumes it
    assert rows["`StepDeadlineReached`"].endswith("| EventBridge Scheduler | `controller` |")
    # an announcement nobody subscribed to
    assert rows["`WorkflowCompleted`"].endswith("| `controller` | - |")
    assert "The template routes and grants every event as the declaration says" in page()


def _with_label_step() -> tuple[Registry, dict[str, Any]]:
    """v2 of demo adds ``label`` after ``pack``; the template routes v2's own events on the version."""
    label_events = (
        EventType("Labelled", "demo.labels", {1: demo.Charged}),
        EventType("LabelFailed", "demo.labels", {1: demo.Failed}),
    )
    label = Step(
        name="label",
        runner=consumer("labeller"),
        started_by="PackDone",
        completed_by="Labelled",
        failed_by="LabelFailed",
        deadline=timedelta(minutes=10),
    )
    v2 = dataclasses.replace(
        demo.DEMO, version=2, steps=(*demo.DEMO.steps, label), events=(*demo.EVENTS, *label_events)
    )
    body = demo.changed_template()
    resources = body["Resources"]
    resources["LabellerFunction"] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Role": {"Fn::GetAtt": ["PackerRole", "Arn"]},
            "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "labeller"}},
        },
    }
    resources["LabellerQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    resources["LabellerMapping"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["LabellerQueue", "Arn"]},
            "FunctionName": {"Ref": "LabellerFunction"},
        },
    }
    v2_only = {"workflow": {"name": ["demo"], "version": [2]}}
    for name, source, types, target in (
        ("LabellerTrigger", "demo.packing", ["PackDone"], "LabellerQueue"),
        ("LabellerRetry", "workflow.controller", ["StepRetryRequested"], "LabellerQueue"),
        ("ControllerLabels", "demo.labels", ["Labelled", "LabelFailed"], "ControllerQueue"),
    ):
        detail: dict[str, Any] = dict(v2_only)
        if name == "LabellerRetry":
            detail["data"] = {"step": ["label"]}
        resources[f"{name}Rule"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": {"source": [source], "detail-type": types, "detail": detail},
                "Targets": [{"Id": "Target0", "Arn": {"Fn::GetAtt": [target, "Arn"]}}],
            },
        }
    # the labeller acts with the packer's role, which may put its events too
    resources["PackerPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": {"Fn::GetAtt": ["Bus", "Arn"]},
            "Condition": {
                "ForAllValues:StringEquals": {
                    "events:source": ["demo.labels"],
                    "events:detail-type": ["Labelled", "LabelFailed"],
                }
            },
        }
    )
    return Registry([demo.DEMO, v2]), body


def test_each_live_version_has_its_section_and_the_catalog_says_what_holds_for_one_version_only() -> None:
    # GIVEN v1 and v2 live, v2 adding a step whose events the template routes for v2 only
    registry, body = _with_label_step()
    rendering = render_docs(registry, demo.wiring(body))
    text = rendering.files["workflows/demo.md"]
    # THEN they agree, the newest version comes first, and each has its flowchart
    assert rendering.findings == ()
    assert "- **Live versions**: v1, v2; new instances start on v2." in text
    assert text.index("## Version 2") < text.index("## Version 1")
    assert text.count("```mermaid") == 2
    assert '    step_pack -->|"PackDone"| step_label\n' in section(text, "## Version 2", "## Version 1")
    # AND the catalog tags the parts and consumers of one version
    rows = catalog_rows(text)
    assert rows["`PackDone`"] == (
        "| `PackDone` | `demo.packing` | [v1](../events/schemas/PackDone.v1.json) "
        "| `pack` completed; starts `label` (v2) | `labeller`, `packer` | `controller`, `labeller` (v2) |"
    )
    assert rows["`StepRetryRequested`"].endswith(
        "| `controller` | `labeller` (only `detail.data.step: label`) (v2), "
        "`packer` (only `detail.data.step: pack`) |"
    )
    assert rows["`Labelled`"].endswith(
        "| `label` completed (v2) | `labeller`, `packer` | `controller` (v2) |"
    )
