"""Plug-ins are found by name (simulations.<name>) or by module, and a wrong name says what exists."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import simulations
from simulations.order import PLUGIN
from workflowkit.simulator import (
    PluginError,
    WorkflowPlugin,
    available_workflows,
    default_workflow,
    load_plugin,
    parse_mix,
    plan,
)

TOY = """
from dataclasses import dataclass

from workflowkit.simulator import WorkflowPlugin


@dataclass(frozen=True)
class Case:
    name: str
    description: str = "goes well"
    expected_status: str = "COMPLETED"
    expected_compensations: tuple[str, ...] = ()


def declaration():
    return None


PLUGIN = WorkflowPlugin(
    name="toy",
    scenarios={"fine": Case("fine")},
    default_mix={"fine": 1},
    driver=object,
    declaration=declaration,
)
OTHER = PLUGIN
NOT_A_PLUGIN = 42
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A plug-in in a user's own module, outside the simulations package."""
    (tmp_path / "my_toy_plugin.py").write_text(textwrap.dedent(TOY))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_toy_plugin"


def test_a_workflow_is_found_by_name_and_is_the_default() -> None:
    assert load_plugin("order") is PLUGIN
    assert "order" in available_workflows()
    assert default_workflow() == simulations.DEFAULT_WORKFLOW == "order"
    assert load_plugin() is PLUGIN


def test_a_plugin_elsewhere_is_found_by_its_module(toy: str) -> None:
    assert load_plugin(module=toy).name == "toy"
    assert load_plugin(module=f"{toy}:OTHER").name == "toy"
    assert load_plugin(module="simulations.order") is PLUGIN


def test_wrong_names_are_clear_errors(toy: str) -> None:
    with pytest.raises(PluginError, match=r"no workflow plug-in 'nope'; known: .*order"):
        load_plugin("nope")
    with pytest.raises(PluginError, match="not a workflow name"):
        load_plugin("../etc")
    with pytest.raises(PluginError, match="no plug-in module 'no_such_module'"):
        load_plugin(module="no_such_module")
    with pytest.raises(PluginError, match="NOT_A_PLUGIN is not a WorkflowPlugin"):
        load_plugin(module=f"{toy}:NOT_A_PLUGIN")
    with pytest.raises(PluginError, match="not both"):
        load_plugin("order", module=toy)


def test_a_plugin_whose_default_mix_names_an_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenarios \\['lost'\\]"):
        WorkflowPlugin(
            name="broken",
            scenarios=PLUGIN.scenarios,
            default_mix={"happy": 1, "lost": 1},
            driver=PLUGIN.driver,
            declaration=PLUGIN.declaration,
        )


@pytest.mark.parametrize("name", available_workflows())
def test_each_shipped_workflows_default_mix_runs_every_one_of_its_scenarios(name: str) -> None:
    plugin = load_plugin(name)
    assert set(plugin.default_mix) == set(plugin.scenarios)
    assert all(weight > 0 for weight in plugin.default_mix.values())


def test_an_order_that_reserves_stock_may_also_end_refunded_for_out_of_stock_and_nothing_else() -> None:
    # GIVEN the order plug-in: a happy order may also end refunded for OUT_OF_STOCK (its shelf emptied)
    (ran_out,) = PLUGIN.other_endings["happy"]
    refunded = {
        "status": "COMPENSATED",
        "compensatedSteps": ["payment"],
        "reason": "inventory failed: OUT_OF_STOCK",
    }
    assert ran_out.matches(refunded)
    # THEN another reason, or other steps undone, is not that ending; a declined order has none
    assert not ran_out.matches({**refunded, "reason": "shipping failed: NO_CARRIER"})
    assert not ran_out.matches({**refunded, "compensatedSteps": ["inventory", "payment"]})
    assert "declined" not in PLUGIN.other_endings
    assert "out_of_stock" not in PLUGIN.other_endings


def test_dead_letters_are_expected_only_of_the_scenarios_a_plugin_names() -> None:
    with pytest.raises(ValueError, match="names unknown scenarios \\['poison'\\]"):
        WorkflowPlugin(
            name="broken",
            scenarios=PLUGIN.scenarios,
            default_mix={"happy": 1},
            driver=PLUGIN.driver,
            declaration=PLUGIN.declaration,
            dead_letter_scenarios=frozenset({"poison"}),
        )
    tolerant = WorkflowPlugin(
        name="tolerant",
        scenarios=PLUGIN.scenarios,
        default_mix={"happy": 1},
        driver=PLUGIN.driver,
        declaration=PLUGIN.declaration,
        dead_letter_scenarios=frozenset({"timeout"}),
    )
    assert tolerant.expects_dead_letters(["happy", "timeout"])
    assert not tolerant.expects_dead_letters(["happy", "declined"])


def test_a_mix_names_the_plugins_scenarios_and_a_plan_repeats_for_its_seed() -> None:
    mix = parse_mix("happy=3,timeout=1", PLUGIN.scenarios)
    assert mix == {"happy": 3, "timeout": 1}
    with pytest.raises(ValueError, match="unknown scenario 'nonsense'"):
        parse_mix("nonsense=1", PLUGIN.scenarios)
    first = plan(50, mix, seed=7)
    assert first == plan(50, mix, seed=7)
    assert first != plan(50, mix, seed=8)
    assert [workflow_id for workflow_id, _ in first[:2]] == ["sim-000000", "sim-000001"]
    assert {scenario for _, scenario in first} == {"happy", "timeout"}
