"""The order workflow's simulation: its scenarios, driver and invariants as a simulator plug-in."""

from __future__ import annotations

from typing import Any

from simulations.order.driver import OrderDriver
from simulations.order.invariants import check_all
from simulations.order.scenarios import DEFAULT_MIX, OTHER_ENDINGS, SCENARIOS, shard_key
from workflowkit.simulator import WorkflowPlugin


def declaration() -> Any:
    """The order workflow's newest declaration, from the app's code (first on sys.path while a cloud runs)."""
    from order_workflow import ORDER_WORKFLOW_V2  # noqa: PLC0415 - the app's own code

    return ORDER_WORKFLOW_V2


PLUGIN = WorkflowPlugin[OrderDriver](
    name="order",
    unit="orders",
    scenarios=SCENARIOS,
    default_mix=DEFAULT_MIX,
    driver=OrderDriver,
    declaration=declaration,
    invariants=check_all,
    other_endings=OTHER_ENDINGS,
    shard_key=shard_key,
)

__all__ = ["PLUGIN", "OrderDriver"]
