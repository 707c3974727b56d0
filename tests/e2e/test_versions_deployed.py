"""Versions deployed on the local cloud: instances started on v1 finish on v1 after v2 is deployed over
them, while new instances run v2 (issue 8, item 5; docs/decisions/0024).

(a) is a copy of the app whose registry lists the order workflow v1 only (the app as shipped lists its own
v2 too: a stage that ran v1 before it). (b) is a copy whose registry lists v1, exactly as shipped, and a v2
of this test's own: v1 plus a ``giftwrap`` step after shipping (its service and contracts written by
``workflowkit new step``) and shipping's deadline doubled to 48 h. Orders start on (a) and are left
mid-flight, (b) is deployed over the running cloud (``LocalCloud.deploy``), new orders start, and
everything runs to its end.
"""

from __future__ import annotations

import ast
import shutil
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from simulations.order.driver import OrderDriver
from tests.e2e.conftest import ROOT, synthesize
from tests.e2e.registries import list_order_v1_only
from workflowkit import LocalCloud
from workflowkit.cli import main as workflowkit

SEED = 8
OLD = ("o-v1-happy", "o-v1-timeout")  # started on v1 and left mid-flight: shipping running
NEW = ("o-v2-happy", "o-v2-timeout")  # started after v2 is deployed

REGISTRY = '''
"""The order workflow v1, as shipped, and v2: a giftwrap step after shipping, shipping's deadline 48 h."""

import dataclasses
from datetime import timedelta

from order_workflow import INVENTORY, ORDER_WORKFLOW, PAYMENT, SHIPPING
from order_workflow.events import GIFTWRAP_EVENT_TYPES
from workflow_core.definition import Compensation, Step, consumer

{giftwrap}

ORDER_V2 = dataclasses.replace(
    ORDER_WORKFLOW,
    version=2,
    steps=(PAYMENT, INVENTORY, dataclasses.replace(SHIPPING, deadline=timedelta(hours=48)), GIFTWRAP),
    events=(*ORDER_WORKFLOW.events, *GIFTWRAP_EVENT_TYPES),
)
WORKFLOWS = (ORDER_WORKFLOW, ORDER_V2)
'''


def _segment(path: Path, name: str) -> str:
    """The source of the top-level assignment to ``name`` in ``path``."""
    text = path.read_text()
    for node in ast.parse(text).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.get_source_segment(text, node) or ""
    raise AssertionError(f"{path} assigns no {name}")


def _declare_v2_beside_v1(root: Path) -> None:
    """Turn what ``new step`` wrote into a v2 declaration, leaving v1 exactly as shipped."""
    functions = root / "functions"
    shipped = ROOT / "functions" / "order_workflow"
    declaration = functions / "order_workflow" / "declaration.py"
    events = functions / "order_workflow" / "events.py"
    # The scaffold appended the step to v1: the step goes into the registry's v2, v1's file is put back.
    giftwrap = _segment(declaration, "GIFTWRAP")
    shutil.copy(shipped / "declaration.py", declaration)
    # The scaffold appended the step's contracts to v1's EVENT_TYPES: v2 lists them in a tuple of their own.
    text = events.read_text()
    added = [
        line for line in text.splitlines(keepends=True) if line.strip().startswith('EventType("OrderGiftwrap')
    ]
    assert len(added) == 5, added
    for line in added:
        text = text.replace(line, "")
    events.write_text(text + "\n\nGIFTWRAP_EVENT_TYPES: tuple[EventType, ...] = (\n" + "".join(added) + ")\n")
    assert _segment(events, "EVENT_TYPES") == _segment(shipped / "events.py", "EVENT_TYPES")
    # The service checks its step is declared: in the newest version, since v1 has no such step.
    service = functions / "order_giftwrap" / "service.py"
    check = "ORDER_WORKFLOW.step(STEP)"
    assert service.read_text().count(check) == 1
    service.write_text(
        service.read_text().replace(check, "deployed().newest(ORDER_WORKFLOW.name).step(STEP)")
    )
    registry = textwrap.dedent(REGISTRY).lstrip().replace("{giftwrap}", giftwrap)
    (functions / "workflow_registry.py").write_text(registry)


@pytest.fixture(scope="module")
def v1_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cdk.out of (a): the app as a stage that runs order v1 alone (the shipped app lists v2 too)."""
    root = tmp_path_factory.mktemp("v1")
    for folder in ("functions", "statemachines"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    list_order_v1_only(root)
    out = root / "cdk.out"
    synthesize(
        out,
        context={"functionsDir": str(root / "functions"), "statemachinesDir": str(root / "statemachines")},
    )
    return out


@pytest.fixture(scope="module")
def with_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cdk.out of (b): the app with the order workflow v1 and v2."""
    root = tmp_path_factory.mktemp("versions")
    for folder in ("functions", "statemachines", "simulations"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    list_order_v1_only(root)
    assert workflowkit(["new", "step", "order", "giftwrap", "--root", str(root)]) == 0
    _declare_v2_beside_v1(root)
    out = root / "cdk.out"
    synthesize(
        out,
        context={"functionsDir": str(root / "functions"), "statemachinesDir": str(root / "statemachines")},
    )
    return out


@dataclass
class Run:
    deployed_at: datetime
    at_deploy: dict[str, dict[str, Any]]  # the old instances' status documents when v2 was deployed
    statuses: dict[str, dict[str, Any]]  # every instance's at the end
    denials: list[Any]
    dead_letters: list[Any]
    unaccounted: list[Any]
    trace: str


def run(v1: Path, v2: Path) -> Run:
    with LocalCloud(cdk_out=v1, seed=SEED) as cloud:
        driver = OrderDriver(cloud)
        driver.seed()
        # GIVEN orders started on v1: one the carrier confirms, one it never confirms (the 24 h deadline)
        driver.submit("happy", OLD[0])
        driver.submit("timeout", OLD[1])
        # ... left mid-flight: both are shipping
        while not all(_step(driver.status(o), "shipping") == "RUNNING" for o in OLD):
            cloud.run_for(timedelta(milliseconds=100))
        at_deploy = {o: _status(driver, o) for o in OLD}
        # WHEN v2 is deployed over the running cloud and new orders start
        deployed_at = cloud.clock.now()
        cloud.deploy(v2)
        driver.submit("happy", NEW[0])
        driver.submit("timeout", NEW[1])
        cloud.run_until_quiescent()
        return Run(
            deployed_at=deployed_at,
            at_deploy=at_deploy,
            statuses={o: _status(driver, o) for o in OLD + NEW},
            denials=list(cloud.access.denials),
            dead_letters=cloud.ledger.dead_letters(),
            unaccounted=cloud.ledger.unaccounted(),
            trace=cloud.ledger.trace_sha256,
        )


@pytest.fixture(scope="module")
def deployed_run(v1_only: Path, with_v2: Path) -> Run:
    return run(v1_only, with_v2)


def _status(driver: OrderDriver, order_id: str) -> dict[str, Any]:
    status = driver.status(order_id)
    assert status is not None, order_id
    return status


def _step(status: dict[str, Any] | None, step: str) -> str | None:
    return status["steps"][step]["status"] if status else None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _deadline_after_start(status: dict[str, Any], step: str) -> timedelta:
    state = status["steps"][step]
    return _at(state["deadline"]) - _at(state["startedAt"])


def _deadline_reached(status: dict[str, Any]) -> list[datetime]:
    return [_at(e["occurredAt"]) for e in status["timeline"] if e["detailType"] == "StepDeadlineReached"]


def test_v1_instances_finish_on_v1_after_v2_is_deployed(deployed_run: Run) -> None:
    happy, timeout = (deployed_run.statuses[o] for o in OLD)
    # GIVEN both were running on v1, shipping, when v2 was deployed
    for status in deployed_run.at_deploy.values():
        assert (status["definitionVersion"], status["status"], _step(status, "shipping")) == (
            1,
            "RUNNING",
            "RUNNING",
        )
    # THEN both finished on v1: three steps, no giftwrap
    assert (happy["definitionVersion"], happy["status"]) == (1, "COMPLETED")
    assert (timeout["definitionVersion"], timeout["status"]) == (1, "COMPENSATED")
    for status in (happy, timeout):
        assert list(status["steps"]) == ["payment", "inventory", "shipping"]
    # AND the happy one's shipping completed after the deployment, decided by v2's code on v1's declaration
    assert _at(happy["steps"]["shipping"]["finishedAt"]) > deployed_run.deployed_at
    # AND the stuck one's deadline was v1's: 24 h after shipping started, when it fired; then all was undone
    assert _deadline_after_start(timeout, "shipping") == timedelta(hours=24)
    assert _deadline_reached(timeout) == [_at(timeout["steps"]["shipping"]["deadline"])]
    assert timeout["compensatedSteps"] == ["shipping", "inventory", "payment"]


def test_new_instances_run_v2_with_the_added_step_and_the_changed_deadline(deployed_run: Run) -> None:
    happy, timeout = (deployed_run.statuses[o] for o in NEW)
    assert (happy["definitionVersion"], happy["status"]) == (2, "COMPLETED")
    assert (timeout["definitionVersion"], timeout["status"]) == (2, "COMPENSATED")
    for status in (happy, timeout):
        assert list(status["steps"]) == ["payment", "inventory", "shipping", "giftwrap"]
        assert _deadline_after_start(status, "shipping") == timedelta(hours=48)
    # the added step ran after shipping, on the service the deployment created
    assert happy["steps"]["giftwrap"]["status"] == "COMPLETED"
    assert happy["steps"]["giftwrap"]["output"]["reference"].startswith(f"giftwrap-{NEW[0]}")
    # the stuck one waited for v2's 48 h deadline: giftwrap never started, the rest was undone
    assert _deadline_reached(timeout) == [_at(timeout["steps"]["shipping"]["deadline"])]
    assert (_step(timeout, "giftwrap"), timeout["compensatedSteps"]) == (
        "PENDING",
        ["shipping", "inventory", "payment"],
    )


def test_nothing_was_refused_dead_lettered_or_lost(deployed_run: Run) -> None:
    assert deployed_run.denials == []
    assert deployed_run.dead_letters == []
    assert deployed_run.unaccounted == []


def test_the_same_seed_gives_the_same_run_across_the_deployment(
    v1_only: Path, with_v2: Path, deployed_run: Run
) -> None:
    again = run(v1_only, with_v2)
    assert again.trace == deployed_run.trace
    assert again.statuses == deployed_run.statuses
