"""A test plug-in: the order workflow's, with one invariant added by hand that a fault breaks.

Every workflow a ``crash_after`` fault hit is reported as a violation, so a test can see what a real
violation under faults prints (the seed, the workflow, its shortest trace) and that ``--replay``
reproduces it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from simulations.order import PLUGIN as ORDER
from workflowkit.chaos import ChaosFaults
from workflowkit.cloud import LocalCloud
from workflowkit.simulator import Statuses, Violation

HAND_MADE = "hand-made"


def no_crash_after_its_work(cloud: LocalCloud, driver: Any, statuses: Statuses) -> list[Violation]:
    violations = list(ORDER.invariants(cloud, driver, statuses))
    if isinstance(cloud.faults, ChaosFaults):
        for workflow_id in sorted(statuses):
            if any(i.fault == "crash_after" for i in cloud.faults.log.for_workflow(workflow_id)):
                violations.append(Violation(HAND_MADE, workflow_id, "a crash after its work hit it"))
    return violations


PLUGIN = dataclasses.replace(ORDER, invariants=no_crash_after_its_work)
