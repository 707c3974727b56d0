"""Lambda entry point of the front door (HTTP API, payload v2, IAM authorisation)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from frontdoor.api import FrontDoor
from frontdoor.callbacks import Callbacks
from frontdoor.claims import CallbackTable
from frontdoor.delivery import DecisionDelivery
from frontdoor.routes import build_app
from workflow_core import item_table, lazy, logs
from workflow_core.publisher import EventBridgePublisher
from workflow_core.registry import deployed
from workflow_core.settings import CALLBACKS_TABLE_NAME, EVENT_BUS_NAME, WORKFLOW_TABLE_NAME, required
from workflow_core.workflow_status import load_state, load_status, load_workflow_type

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()
metrics = Metrics()

publisher = EventBridgePublisher(bus_name=required(EVENT_BUS_NAME), client=lazy.client("events"))
workflows = item_table.table(required(WORKFLOW_TABLE_NAME))
front_door = FrontDoor(
    publisher=publisher,
    status_reader=partial(load_status, workflows),
    type_reader=partial(load_workflow_type, workflows),
    registry=deployed(),
)
callbacks = Callbacks(
    state_reader=partial(load_state, workflows),
    claims=CallbackTable(item_table.table(required(CALLBACKS_TABLE_NAME))),
    delivery=DecisionDelivery(publisher=publisher, states=lazy.client("stepfunctions")),
    registry=deployed(),
)
app = build_app(front_door, logger=logger, callbacks=callbacks)


# The request id is the correlation id until the route knows the workflow id.
@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = app.resolve(event, context)
    metrics.add_metric(name=f"Http{response['statusCode']}", unit=MetricUnit.Count, value=1)
    return response
