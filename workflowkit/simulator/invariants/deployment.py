"""What the kit's invariants read of the deployed app: its declarations, which events are announcements,
which queue feeds the controller and where unrouted events are parked, and how late a deadline may be
handled.

Built from a running local cloud (:func:`read_deployment`) after a run, or by hand in a test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3

from workflowkit.cloud import LocalCloud

# The controller's service name (its function's POWERTOOLS_SERVICE_NAME, and ``handledBy`` in every
# history record it writes): the queue its event source mapping reads is where its inputs arrive.
CONTROLLER_SERVICE = "controller"
# The stack output naming the queue where events no workflow rule could route are parked for an operator.
OUTPUT_UNROUTED = "UnroutedEventsQueueUrl"
# EventBridge Scheduler invokes every schedule "with 60 second precision" (at 1:00, between 1:00:00 and
# 1:00:59), later still by a flexible time window (Scheduler User Guide, "Schedule types").
SCHEDULER_PRECISION = timedelta(seconds=60)
# Hops between a deadline's firing and the controller's decision (bus -> rule -> queue -> poller):
# milliseconds each on the local cloud, seconds in AWS.
HOP_SLACK = timedelta(seconds=60)


@dataclass(frozen=True)
class KitDeployment:
    # (workflow name, version) -> its declaration (``workflow_core.definition.WorkflowDefinition``)
    definitions: Mapping[tuple[str, int], Any]
    announcements: frozenset[str] = frozenset()  # detail-types nothing must consume
    controller_targets: frozenset[str] = frozenset()  # ledger targets that are the controller's queue
    parking_targets: frozenset[str] = frozenset()  # ledger targets that park unrouted events
    # How much later than its time a deadline may fire: Scheduler's precision and flexible window.
    scheduler_lateness: timedelta = SCHEDULER_PRECISION
    # How long a controller input may wait once delivered: the receives its queue may refuse before it
    # dead-letters (each a visibility timeout), its batching window, the hops.
    controller_delay: timedelta = HOP_SLACK

    @property
    def step_lateness(self) -> timedelta:
        """What a step's or an undo's outcome may take beyond its declared deadline."""
        return self.scheduler_lateness + self.controller_delay


def read_deployment(cloud: LocalCloud, registry: Any) -> KitDeployment:
    """The deployment of the app ``cloud`` runs; ``registry``: its ``workflow_core.registry.Registry``.
    Call it inside the cloud's with-block, after the run (the schedules it created tell their windows)."""
    assert cloud.app is not None
    functions = {f.name: f for f in cloud.app.functions}
    controller_mappings = [
        m
        for m in cloud.app.mappings
        if (function := functions.get(m.function_name)) is not None
        and function.environment.get("POWERTOOLS_SERVICE_NAME") == CONTROLLER_SERVICE
    ]
    sqs = boto3.client("sqs", region_name=cloud.region)
    delay = timedelta(0)
    for mapping in controller_mappings:
        delay = max(
            delay,
            _redelivery_window(sqs, mapping.queue_arn) + timedelta(seconds=mapping.batching_window_seconds),
        )
    unrouted = cloud.outputs.get(OUTPUT_UNROUTED)
    return KitDeployment(
        definitions={definition.key: definition for definition in registry.definitions},
        announcements=frozenset(
            name
            for definition in registry.definitions
            for name, event_type in definition.catalog.items()
            if event_type.announcement
        ),
        controller_targets=frozenset(f"queue:{_queue_name(m.queue_arn)}" for m in controller_mappings),
        parking_targets=frozenset({f"queue:{unrouted.rsplit('/', 1)[-1]}"} if unrouted else ()),
        scheduler_lateness=SCHEDULER_PRECISION + cloud.scheduler.widest_window,
        controller_delay=delay + HOP_SLACK,
    )


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _redelivery_window(sqs: Any, queue_arn: str) -> timedelta:
    """Visibility timeout x the receives before the dead-letter queue (one, without a redrive policy)."""
    url = sqs.get_queue_url(QueueName=_queue_name(queue_arn))["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
    )["Attributes"]
    redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
    receives = int(redrive.get("maxReceiveCount", 1))
    return timedelta(seconds=int(attributes.get("VisibilityTimeout", 30)) * max(receives - 1, 0))
