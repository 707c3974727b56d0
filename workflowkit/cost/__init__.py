"""The cost and latency model: what a workflow costs on AWS in each pattern, from a metered simulation.

- :class:`Meter`: counts what AWS bills while a local cloud runs (the shipped design, measured);
- :class:`Usage`: those counts, per actor, service and metric;
- :func:`model_designs`: the same workflow all-orchestrated, all-choreographed and with its orchestrated
  steps on Express, modelled from the measured counts;
- :func:`bill`: a usage priced for a month (:class:`PriceBook`: the price file, dated and sourced);
- :func:`run_cost`: all of it for a plug-in's sample run, with each design's latency (``workflowkit cost``).
"""

from workflowkit.cost.bill import Line, bill, by_service
from workflowkit.cost.designs import DESIGNS, model_designs
from workflowkit.cost.meter import Meter
from workflowkit.cost.prices import PriceBook, PriceFileError, load_latencies
from workflowkit.cost.run import CostReport, run_cost
from workflowkit.cost.usage import Usage

__all__ = [
    "DESIGNS",
    "CostReport",
    "Line",
    "Meter",
    "PriceBook",
    "PriceFileError",
    "Usage",
    "bill",
    "by_service",
    "load_latencies",
    "model_designs",
    "run_cost",
]
