"""A run's plan: which scenario each workflow follows, drawn from a weighted mix with the run's seed."""

from __future__ import annotations

import random
from collections.abc import Mapping

from workflowkit.simulator.plugin import Scenario

Plan = list[tuple[str, str]]  # (workflow id, scenario) for every workflow, by arrival


def parse_mix(text: str, scenarios: Mapping[str, Scenario]) -> dict[str, int]:
    """``happy=70,declined=10`` -> {"happy": 70, "declined": 10}; names must be known scenarios."""
    mix: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name not in scenarios:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(scenarios))}")
        if not weight.isdigit():
            raise ValueError(f"weight of {name!r} must be a whole number, not {weight!r}")
        mix[name] = int(weight)
    if not mix or sum(mix.values()) == 0:
        raise ValueError("the mix needs at least one scenario with a positive weight")
    return mix


def format_mix(mix: Mapping[str, int]) -> str:
    """The inverse of :func:`parse_mix`."""
    return ",".join(f"{name}={weight}" for name, weight in mix.items())


def plan(count: int, mix: Mapping[str, int], seed: int) -> Plan:
    """(workflow id, scenario) for ``count`` workflows: drawn from the mix with the run's seed."""
    chooser = random.Random(seed)
    names = chooser.choices(list(mix), weights=list(mix.values()), k=count)
    return [(f"sim-{n:06d}", name) for n, name in enumerate(names)]
