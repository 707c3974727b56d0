"""Reusable L3 constructs of the kit: one pattern per module, keyword-only props, resources as attributes."""

from infra.constructs.data import WorkflowTables
from infra.constructs.encryption import WorkflowKey
from infra.constructs.event_bus import WorkflowEventBus
from infra.constructs.event_queue_function import EventQueueFunction
from infra.constructs.front_controller import FrontController
from infra.constructs.observability import WorkflowObservability, WorkflowResources
from infra.constructs.orchestrated_flow import OrchestratedFlow
from infra.constructs.rule_targets import EncryptedQueueTarget
from infra.constructs.service_function import FunctionRuntime, ServiceFunction
from infra.constructs.status_api import StatusApi
from infra.constructs.subscriptions import Subscription
from infra.constructs.topics import WorkflowTopics
from infra.constructs.unrouted_events import UnroutedEvents

__all__ = [
    "EncryptedQueueTarget",
    "EventQueueFunction",
    "FrontController",
    "FunctionRuntime",
    "OrchestratedFlow",
    "ServiceFunction",
    "StatusApi",
    "Subscription",
    "UnroutedEvents",
    "WorkflowEventBus",
    "WorkflowKey",
    "WorkflowObservability",
    "WorkflowResources",
    "WorkflowTables",
    "WorkflowTopics",
]
