"""What ``workflowkit new`` writes synthesizes (cdk-nag included) and runs end to end as written.

In a copy of the project: a new workflow (``ticket``: a choreographed first step, then an orchestrated
one) and a step added to the shipped order workflow (``giftwrap``, choreographed, after shipping). The
copy is synthesized by the project's own app.py and run on the local cloud: every scenario of the new
workflow's generated plug-in ends as it expects, the order workflow completes with its new step, and
the new step's compensation runs when its completion goes unseen.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, synthesize
from tests.e2e.registries import list_order_v1_only
from tests.e2e.test_every_compensation import ControllerNeverHears, _controller_queue
from workflowkit import LocalCloud
from workflowkit.cli import main as workflowkit


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the project copy, its cdk.out) after three scaffold commands."""
    root = tmp_path_factory.mktemp("scaffold")
    for folder in ("functions", "statemachines", "simulations"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    list_order_v1_only(root)  # a stage that runs one version of the order workflow, which new step extends
    assert workflowkit(["new", "workflow", "ticket", "--step", "triage", "--root", str(root)]) == 0
    assert (
        workflowkit(["new", "step", "ticket", "resolve", "--pattern", "orchestrated", "--root", str(root)])
        == 0
    )
    assert workflowkit(["new", "step", "order", "giftwrap", "--root", str(root)]) == 0
    out = root / "cdk.out"
    synthesize(
        out,
        context={"functionsDir": str(root / "functions"), "statemachinesDir": str(root / "statemachines")},
    )
    return root, out


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_scaffolding_refuses_what_it_cannot_write_cleanly(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    registry = (tmp_path / "functions" / "workflow_registry.py").read_text()
    # an existing workflow, a bad name, a step of an unknown workflow: refused, and nothing written
    assert workflowkit(["new", "workflow", "order", "--root", str(tmp_path)]) == 2
    assert workflowkit(["new", "workflow", "Bad-Name", "--root", str(tmp_path)]) == 2
    assert workflowkit(["new", "step", "nosuch", "x", "--root", str(tmp_path)]) == 2
    assert (tmp_path / "functions" / "workflow_registry.py").read_text() == registry
    assert not (tmp_path / "functions" / "nosuch_x").exists()


def test_a_scaffolded_workflow_runs_every_generated_scenario_as_expected(
    scaffolded: tuple[Path, Path],
) -> None:
    root, out = scaffolded
    plugin: Any = _module(root / "simulations" / "ticket" / "__init__.py", "scaffolded_ticket").PLUGIN
    # three scenarios: everything completes; the first step fails (nothing to undo); the second fails
    assert sorted(plugin.scenarios) == ["completes", "fails-at-resolve", "fails-at-triage"]
    with LocalCloud(cdk_out=out, seed=3) as cloud:
        driver = plugin.driver(cloud)
        driver.seed()
        for name in sorted(plugin.scenarios):
            driver.submit(name, f"t-{name}")
        cloud.run_until_quiescent()
        statuses = {name: driver.status(f"t-{name}") for name in plugin.scenarios}
        assert cloud.access.denials == []
        assert cloud.ledger.dead_letters() == []
    for name, scenario in plugin.scenarios.items():
        status = statuses[name]
        assert status is not None, name
        assert (name, status["status"]) == (name, scenario.expected_status)
        assert tuple(status["compensatedSteps"]) == scenario.expected_compensations
    # the orchestrated step ran on its state machine and its output joined the workflow's
    assert statuses["completes"]["steps"]["resolve"]["output"]["reference"].startswith("t-completes")


def test_a_step_added_to_the_order_workflow_runs_and_is_undone(scaffolded: tuple[Path, Path]) -> None:
    from simulations.order.driver import OrderDriver  # noqa: PLC0415

    _, out = scaffolded
    faults = ControllerNeverHears("OrderGiftwrapCompleted")
    with LocalCloud(cdk_out=out, seed=4) as cloud:
        driver = OrderDriver(cloud)
        driver.seed()
        driver.submit("happy", "o-wrapped")
        cloud.run_until_quiescent()
        done = driver.status("o-wrapped")
    with LocalCloud(cdk_out=out, seed=4, faults=faults) as cloud:
        faults.controller_queue = _controller_queue(cloud)
        driver = OrderDriver(cloud)
        driver.seed()
        driver.submit("happy", "o-unwrapped")
        cloud.run_until_quiescent()
        undone = driver.status("o-unwrapped")
    assert done is not None
    assert undone is not None
    # the new step runs after shipping and the order completes only when it has
    assert list(done["steps"]) == ["payment", "inventory", "shipping", "giftwrap"]
    assert (done["status"], done["steps"]["giftwrap"]["status"]) == ("COMPLETED", "COMPLETED")
    # its completion unseen, it is undone by its own compensation, then everything before it
    assert undone["status"] == "COMPENSATED"
    assert undone["compensatedSteps"] == ["giftwrap", "shipping", "inventory", "payment"]
