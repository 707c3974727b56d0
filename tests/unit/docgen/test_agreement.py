"""Where the template and the declaration disagree, the page says so and the check fails."""

from __future__ import annotations

from typing import Any

from tests.unit.docgen import demo
from workflowkit.docgen import DocsRun, render_docs


def findings(body: dict[str, Any]) -> list[str]:
    return [f.message for f in render_docs(demo.registry(), demo.wiring(body)).findings]


def test_a_template_that_wires_the_declaration_agrees_with_it() -> None:
    assert findings(demo.template()) == []


def test_an_event_the_declaration_routes_that_no_rule_routes_is_reported_on_the_page() -> None:
    # GIVEN a template without the rule that delivers the step's trigger to its consumer
    body = demo.changed_template()
    del body["Resources"]["PackerTriggerRule"]
    # WHEN the docs are generated
    rendering = render_docs(demo.registry(), demo.wiring(body))
    # THEN the disagreement is a finding, written on the page as a warning
    message = (
        "`ChargeDone` (`charge` completed; starts `pack`) must reach `packer`, "
        "but no rule of the template routes it there"
    )
    assert [f.message for f in rendering.findings] == [message]
    page = rendering.files["workflows/demo.md"]
    assert "## The template and the declaration disagree\n\n> [!WARNING]\n" in page
    assert f"- v1: {message}" in page
    # AND a run with a finding is not ok, written or checked, however fresh the files are
    assert not DocsRun(checked=True, changed=(), findings=rendering.findings).ok
    assert not DocsRun(checked=False, changed=(), findings=rendering.findings).ok


def test_a_rule_to_a_consumer_the_declaration_does_not_name_is_reported() -> None:
    body = demo.changed_template()
    rule = body["Resources"]["PackerTriggerRule"]["Properties"]
    rule["EventPattern"]["detail-type"] = ["ChargeDone", "ChargeFailed"]
    assert findings(body) == [
        "rule `PackerTriggerRule` routes `ChargeFailed` to `packer`, which the declaration does not name"
    ]


def test_a_rule_of_another_workflow_is_not_this_workflows_business() -> None:
    body = demo.changed_template()
    body["Resources"]["PackerTriggerRule"]["Properties"]["EventPattern"]["detail"] = {
        "workflow": {"name": ["other"]}
    }
    assert findings(body) == [
        "`ChargeDone` (`charge` completed; starts `pack`) must reach `packer`, "
        "but no rule of the template routes it there"
    ]


def test_an_event_its_sender_may_not_put_on_the_bus_is_reported() -> None:
    # GIVEN the charge state machine's role may no longer put ChargeFailed, and nobody else may
    body = demo.changed_template()
    charge = body["Resources"]["ChargePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    charge["Condition"]["ForAllValues:StringEquals"]["events:detail-type"] = ["ChargeFailed"]
    assert findings(body) == [
        "`ChargeDone` (`charge` completed; starts `pack`): no role of the template may put it on the bus"
    ]
    # AND when another role may put it, the finding names the sender the declaration expects
    front = body["Resources"]["FrontPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    front["Condition"]["ForAllValues:StringEquals"] = {
        "events:source": ["demo.front", "demo.billing"],
        "events:detail-type": ["JobSubmitted", "ChargeDone"],
    }
    assert findings(body) == [
        "`ChargeDone` (`charge` completed; starts `pack`) comes from state machine `charge`, "
        "whose role may not put it on the bus"
    ]


def test_a_state_machine_the_template_does_not_hold_is_reported() -> None:
    body = demo.changed_template()
    body["Resources"]["ChargeStateMachine"]["Properties"]["StateMachineName"] = "demo-dev-demo-payment"
    assert findings(body) == [
        "state machine `charge` (runs `charge`) is not in the template",
        "`ChargeDone` (`charge` completed; starts `pack`) comes from state machine `charge`, "
        "whose role may not put it on the bus",
        "`ChargeFailed` (`charge` failed) comes from state machine `charge`, "
        "whose role may not put it on the bus",
    ]
    page = render_docs(demo.registry(), demo.wiring(body)).files["workflows/demo.md"]
    assert "| `charge` | orchestrated | state machine `charge` (not in the template) |" in page
    assert "orchestrated: state machine charge (not in the template)<br/>" in page
