"""Every compensation a deployed workflow declares runs end to end, with no test written for it.

For each compensable step of each workflow that has a simulator plug-in, an instance of the plug-in's
first completing scenario runs while the controller never hears that the step completed: the step did
its work, then missed its deadline. The controller must undo it — and every step before it — through
the step's own declared compensation. A step added to a workflow is covered here as soon as it is
declared. The steps are those of the newest live version of each workflow in the app's registry: the
version new instances start on (docs/decisions/0024).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from workflow_core.registry import REGISTRY_MODULE, registry_from_module
from workflowkit import LocalCloud
from workflowkit.faults import Faults, InjectedFaultError
from workflowkit.simulator import available_workflows, load_plugin
from workflowkit.simulator.declarations import app_registry


def _compensable_steps(registry: Any, workflows: list[str]) -> list[tuple[str, str]]:
    """(workflow, step) of every compensable step of the newest version of each deployed ``workflows``."""
    cases = []
    for name in workflows:
        if name in registry.names:
            definition = registry.newest(name)
            cases += [(name, step.name) for step in definition.steps if step.compensation is not None]
    return cases


def _cases() -> list[tuple[str, str]]:
    # The registry of the app the session synthesizes (functions/, on the tests' path).
    return _compensable_steps(registry_from_module(REGISTRY_MODULE), available_workflows())


def test_the_cases_are_the_steps_of_the_version_new_instances_start_on() -> None:
    # GIVEN v1 and v2 of a workflow listed, v2 adding a compensable step, and a workflow with no plug-in
    def step(name: str, undo: bool = True) -> SimpleNamespace:
        return SimpleNamespace(name=name, compensation=object() if undo else None)

    v1 = SimpleNamespace(steps=(step("pay"), step("ship", undo=False)))
    v2 = SimpleNamespace(steps=(step("pay"), step("ship", undo=False), step("wrap")))
    newest = {"shop": v2, "other": SimpleNamespace(steps=(step("x"),))}
    registry = SimpleNamespace(names=("shop", "other"), newest=newest.__getitem__, definitions=(v1, v2))
    # THEN the cases are v2's, for the workflows with a plug-in that are deployed
    assert _compensable_steps(registry, ["shop", "not-deployed"]) == [("shop", "pay"), ("shop", "wrap")]


class ControllerNeverHears(Faults):
    """Refuses every delivery of one detail-type to the controller's queue (retried, then dead-lettered)."""

    def __init__(self, detail_type: str) -> None:
        self.detail_type = detail_type
        self.controller_queue = ""

    def before_delivery(self, event: dict[str, Any], target: str) -> None:
        if event["detail-type"] == self.detail_type and target == self.controller_queue:
            raise InjectedFaultError(f"{self.detail_type} lost on its way to the controller")


def _controller_queue(cloud: LocalCloud) -> str:
    assert cloud.app is not None
    functions = {f.name: f for f in cloud.app.functions}
    (queue,) = [
        m.queue_arn.split(":")[-1]
        for m in cloud.app.mappings
        if functions[m.function_name].environment.get("POWERTOOLS_SERVICE_NAME") == "controller"
    ]
    return f"queue:{queue}"


@pytest.mark.parametrize(("workflow", "step"), _cases())
def test_a_step_that_completed_unseen_is_undone_by_its_declared_compensation(
    cdk_out: Path, workflow: str, step: str
) -> None:
    plugin = load_plugin(workflow)
    scenario = next(s for s in plugin.scenarios.values() if s.expected_status == "COMPLETED")
    faults = ControllerNeverHears("")
    with LocalCloud(cdk_out=cdk_out, seed=5, faults=faults) as cloud:
        # The declaration the instance starts on, from the app the cloud runs.
        definition = app_registry(cloud).newest(workflow)
        declared = definition.step(step)
        faults.detail_type = declared.completed_by
        faults.controller_queue = _controller_queue(cloud)
        driver = plugin.driver(cloud)
        driver.seed()
        driver.submit(scenario.name, f"undo-{step}")
        cloud.run_until_quiescent()
        status = driver.status(f"undo-{step}")
    assert status is not None
    assert status["definitionVersion"] == definition.version
    # THEN the step timed out, and its compensation ran: requested, performed, reported, recorded —
    # and so did every compensable step it comes after, each after the steps that came after it (steps
    # after it may have run meanwhile: choreographed steps hear the completion the controller missed)
    assert status["steps"][step]["status"] == "COMPENSATED", status["steps"][step]
    assert status["status"] == "COMPENSATED"
    undone = status["compensatedSteps"]
    for ancestor in definition.ancestors(step):
        if definition.step(ancestor).compensation is not None:
            assert undone.index(ancestor) > undone.index(step), (ancestor, undone)
    # and no undo ran before the undo of a step that came after it
    for position, name in enumerate(undone):
        assert not set(undone[:position]) & set(definition.ancestors(name)), undone
    handled = [row["detailType"] for row in status["timeline"]]
    assert declared.compensation is not None
    assert declared.compensation.completed_by in handled
    assert declared.completed_by not in handled  # the controller never heard of the completion
