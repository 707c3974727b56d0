"""The simulator: many workflows of one plug-in on the local cloud, their figures and invariants.

It knows the kit and no workflow: a workflow brings its scenarios, driver and invariants as a
:class:`WorkflowPlugin` (``simulations.<name>.PLUGIN``, see :mod:`workflowkit.simulator.loading`).

- :func:`run_simulation`: a planned run from a scenario mix and a seed, in one process or several;
- :func:`run_send`: your own PutEvents entries, one after another;
- :class:`RunResult`: statuses, figures, the invariants' verdict (the kit's: termination, audit, nothing
  lost; and the plug-in's own), the trace hash.
"""

from workflowkit.simulator.invariants import (
    PackedStatuses,
    Status,
    Statuses,
    Violation,
    in_sequence,
    termination_budget,
)
from workflowkit.simulator.loading import PluginError, available_workflows, default_workflow, load_plugin
from workflowkit.simulator.planning import format_mix, parse_mix, plan
from workflowkit.simulator.plugin import Driver, Ending, Scenario, WorkflowPlugin, no_invariants
from workflowkit.simulator.results import RunResult, workflow_details
from workflowkit.simulator.runner import run_planned, run_send
from workflowkit.simulator.simulate import run_simulation

__all__ = [
    "Driver",
    "Ending",
    "PackedStatuses",
    "PluginError",
    "RunResult",
    "Scenario",
    "Status",
    "Statuses",
    "Violation",
    "WorkflowPlugin",
    "available_workflows",
    "default_workflow",
    "format_mix",
    "in_sequence",
    "load_plugin",
    "no_invariants",
    "parse_mix",
    "plan",
    "run_planned",
    "run_send",
    "run_simulation",
    "termination_budget",
    "workflow_details",
]
