"""The meter: what AWS would bill for the work a local cloud did, counted while it ran.

Attached to a running :class:`~workflowkit.cloud.LocalCloud` (``Meter.attach``), it counts from the seams the
local cloud already has, without changing what any of them does:

- the fast path's observers: every API call the app makes (inside a handler, or a state machine task acting
  with its role; the driver's and the cloud's own calls are not the app's and are not counted), with its
  parameters and answer: DynamoDB capacity units (item sizes from the engine), PutEvents entries and their
  64 KB chunks, SNS publishes, SQS calls, and per invocation the calls a handler waited on;
- the in-process Lambda runtime's figures (invocations, real seconds inside handlers, characters logged);
- the Step Functions histories (states entered, retries, every history event: the execution logs at level
  ALL), the ledger (every event published, every queue it was sent to), Scheduler's firings.

``Meter.stop`` reads what accumulated and returns a :class:`~workflowkit.cost.usage.Usage`: amounts keyed
by (actor, service, metric), where the actor is ``function:<name>``, ``machine:<name>``, ``queue:<name>``,
``scheduler`` or ``api``.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from workflowkit.cloud import LocalCloud
from workflowkit.cost.usage import Key, Usage

EVENT_CHUNK = 64 * 1024
WRITE_UNIT, READ_UNIT = 1024, 4096
# The history events a state machine records when a task is tried (again): a retry is a transition too.
_ATTEMPT_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


@dataclass
class _Invocation:
    function: str
    calls: Counter[str] = field(default_factory=Counter)  # "service:Operation" -> calls waited on
    call_seconds: float = 0.0  # real seconds spent inside those calls (the local cloud's, not the app's)


class Meter:
    """Counts one run's billable operations; attach before the first workflow, stop at quiescence."""

    def __init__(self) -> None:
        self.counts: defaultdict[Key, float] = defaultdict(float)
        self._cloud: LocalCloud | None = None
        self._machines_by_role: dict[str, str] = {}
        self._invocations: dict[str, _Invocation] = {}
        self._stats_before: dict[str, tuple[int, float, int]] = {}
        self._executions_before: set[str] = set()
        self._events_before: set[str] = set()
        self._fired_before = 0
        self._last_size: dict[tuple[str, str], int] = {}
        self._index_keys: dict[str, list[tuple[str, ...]]] = {}

    # --- the window -------------------------------------------------------------------------------------
    def attach(self, cloud: LocalCloud) -> Meter:
        self._cloud = cloud
        model = cloud.access.model
        self._machines_by_role = {
            role: arn.rsplit(":", 1)[-1] for arn, role in model.state_machine_roles.items()
        }
        runtime = cloud.lambdas
        self._stats_before = {
            name: (stats.invocations, stats.seconds, runtime.logs[name].written)
            for name, stats in runtime.stats.items()
        }
        self._executions_before = {arn for arn, _ in _executions(cloud)}
        self._events_before = set(cloud.ledger.events)
        self._fired_before = cloud.scheduler.fired
        cloud.fast_path.observers.append(self._observe)
        return self

    def stop(self, *, workflows: int) -> Usage:
        """End the window: the run's counts, per actor, for ``workflows`` workflows."""
        cloud = self._cloud
        assert cloud is not None, "attach the meter first"
        cloud.fast_path.observers.remove(self._observe)
        self._count_functions(cloud)
        self._count_executions(cloud)
        self._count_events(cloud)
        self.counts[("scheduler", "scheduler", "invocations")] += cloud.scheduler.fired - self._fired_before
        self._count_wiring(cloud)
        memory = {spec.name: spec.memory_mb for spec in cloud.lambdas.functions.values()}
        return Usage(workflows=workflows, counts=defaultdict(float, self.counts), memory_mb=memory)

    # --- API calls ----------------------------------------------------------------------------------------
    def _observe(
        self, service: str, operation: str, params: dict[str, Any], parsed: dict[str, Any], seconds: float
    ) -> None:
        cloud = self._cloud
        assert cloud is not None
        actor = self._actor(cloud)
        if actor is None:
            return  # the driver's or the local cloud's own call: not the app's
        counts = self.counts
        counts[(actor, service, f"call:{operation}")] += 1
        invocation = cloud.lambdas.current
        if invocation is not None:
            record = self._invocations.get(invocation.aws_request_id)
            if record is None:
                record = self._invocations[invocation.aws_request_id] = _Invocation(invocation.function_name)
            record.calls[f"{service}:{operation}"] += 1
            record.call_seconds += seconds
        failed = "Error" in parsed
        if service == "dynamodb":
            for table in _tables_named(operation, params):
                counts[(f"table:{table}", "dynamodb", "calls")] += 1
            read, write = self._capacity(cloud, operation, params, parsed)
            counts[(actor, "dynamodb", "rru")] += read
            counts[(actor, "dynamodb", "wru")] += write
        elif service == "events" and operation == "PutEvents" and not failed:
            entries = params.get("Entries") or []
            counts[(actor, "events", "entries")] += len(entries)
            counts[(actor, "events", "chunks")] += sum(_chunks(_entry_size(e), EVENT_CHUNK) for e in entries)
        elif service == "sns" and operation in ("Publish", "PublishBatch") and not failed:
            message = str(params.get("Message", ""))
            counts[(actor, "sns", "publishes")] += _chunks(len(message.encode()), EVENT_CHUNK)
            counts[(f"topic:{params.get('TopicArn', '')}", "sns", "publishes")] += 1
        elif service == "sqs" and not failed:
            counts[(actor, "sqs", "requests")] += 1

    def _actor(self, cloud: LocalCloud) -> str | None:
        invocation = cloud.lambdas.current
        if invocation is not None:
            return f"function:{invocation.function_name}"
        principal = cloud.access.current
        if principal is None:
            return None
        machine = self._machines_by_role.get(principal.arn)
        return f"machine:{machine}" if machine is not None else None

    # --- DynamoDB capacity units ------------------------------------------------------------------------
    def _capacity(
        self, cloud: LocalCloud, operation: str, params: dict[str, Any], parsed: dict[str, Any]
    ) -> tuple[float, float]:
        """(read units, write units) the call consumed: sizes as stored, rounded up per item (writes, 1 KB)
        or per request (reads, 4 KB), halved for eventually consistent reads, doubled in transactions.

        An update or delete is charged on the larger of the item's size before and after, the size before
        being the one this meter saw last (the size after the write, for an item first written before the
        window). A write refused by its condition still consumes the units of the item as it stands.
        """
        engine = cloud.dynamodb.engine
        if operation in _WRITES:
            table = params.get("TableName", "")
            key = params.get("Key") or params.get("Item") or {}
            return 0.0, self._write_units(engine, table, key)
        if operation == "TransactWriteItems":
            units = 0.0
            for entry in params.get("TransactItems") or []:
                ((_, action),) = entry.items()
                key = action.get("Key") or action.get("Item") or {}
                units += 2 * self._write_units(engine, action.get("TableName", ""), key)
            return 0.0, units
        if operation == "BatchWriteItem":
            units = 0.0
            for table, requests in (params.get("RequestItems") or {}).items():
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest") or {}
                    units += self._write_units(engine, table, body.get("Item") or body.get("Key") or {})
            return 0.0, units
        if operation == "GetItem":
            size = _stored_size(engine, params.get("TableName", ""), params.get("Key") or {})
            return _read_units(size, consistent=bool(params.get("ConsistentRead"))), 0.0
        if operation in ("Query", "Scan"):
            table = params.get("TableName", "")
            items = parsed.get("Items") or []
            sizes = [_stored_size(engine, table, item) or _wire_size(item) for item in items]
            unreturned = int(parsed.get("ScannedCount", len(items))) - len(items)
            average = sum(sizes) / len(sizes) if sizes else 0
            consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
            return _read_units(int(sum(sizes) + unreturned * average), consistent=consistent), 0.0
        if operation == "TransactGetItems":
            units = 0.0
            for entry in params.get("TransactItems") or []:
                action = entry.get("Get") or {}
                size = _stored_size(engine, action.get("TableName", ""), action.get("Key") or {})
                units += 2 * _read_units(size, consistent=True)
            return units, 0.0
        if operation == "BatchGetItem":
            units = 0.0
            for table, batch in (params.get("RequestItems") or {}).items():
                for key in batch.get("Keys") or []:
                    size = _stored_size(engine, table, key)
                    units += _read_units(size, consistent=bool(batch.get("ConsistentRead")))
            return units, 0.0
        return 0.0, 0.0

    def _write_units(self, engine: Any, table: str, key: dict[str, Any]) -> float:
        stored = engine.stored(table, key)
        after = stored[1] if stored is not None else 0
        identity = (table, json.dumps(key, sort_keys=True, default=str))
        before = self._last_size.get(identity, after)
        if stored is None:
            self._last_size.pop(identity, None)
        else:
            self._last_size[identity] = after
        units = max(1, math.ceil(max(before, after) / WRITE_UNIT))
        if stored is not None:  # each global secondary index the item is in takes a write too
            units *= 1 + sum(1 for names in self._indexes(table) if all(n in stored[0] for n in names))
        return float(units)

    def _indexes(self, table: str) -> list[tuple[str, ...]]:
        """The key attribute names of each of the table's global secondary indexes (as described)."""
        cached = self._index_keys.get(table)
        if cached is None:
            assert self._cloud is not None
            try:
                description = self._cloud.backend("dynamodb").describe_table(table)["Table"]
            except Exception:  # no such table: the call was refused, nothing was written
                description = {}
            cached = self._index_keys[table] = [
                tuple(key["AttributeName"] for key in index["KeySchema"])
                for index in description.get("GlobalSecondaryIndexes") or []
            ]
        return cached

    # --- what the cloud kept --------------------------------------------------------------------------------
    def _count_functions(self, cloud: LocalCloud) -> None:
        runtime = cloud.lambdas
        call_seconds: defaultdict[str, float] = defaultdict(float)
        for record in self._invocations.values():
            call_seconds[record.function] += record.call_seconds
        for name, stats in runtime.stats.items():
            invoked, seconds, written = self._stats_before.get(name, (0, 0.0, 0))
            count = stats.invocations - invoked
            if count <= 0:
                continue
            actor = f"function:{name}"
            self.counts[(actor, "lambda", "invocations")] += count
            # The app's own compute: time in the handler less the time the local cloud answered its calls.
            compute = max(0.0, stats.seconds - seconds - call_seconds[name])
            self.counts[(actor, "lambda", "compute_ms")] += compute * 1000
            self.counts[(actor, "logs", "bytes")] += runtime.logs[name].written - written
        for record in self._invocations.values():
            for call, number in record.calls.items():
                self.counts[(f"function:{record.function}", "lambda", f"waited:{call}")] += number

    def _count_executions(self, cloud: LocalCloud) -> None:
        for arn, machine in _executions(cloud):
            if arn in self._executions_before:
                continue
            history = cloud.stepfunctions.history(arn)
            if history is None:
                continue
            actor = f"machine:{machine}"
            entered = attempts = log_bytes = 0
            for rendered in history.rendered():
                kind = str(rendered.get("type", ""))
                if kind.endswith("StateEntered"):
                    entered += 1
                elif kind in _ATTEMPT_EVENTS:
                    attempts += 1
                    function = _task_function(rendered)
                    if function:
                        self.counts[(actor, "lambda", f"task:function:{function}")] += 1
                # A log record per history event (level ALL, execution data included), as Step Functions
                # writes it: the event, the execution's ARN, and the record's own fields.
                log_bytes += len(json.dumps(rendered, default=str)) + len(arn) + 64
            tasks = _task_states(history)
            self.counts[(actor, "stepfunctions", "executions")] += 1
            self.counts[(actor, "stepfunctions", "transitions")] += entered + max(0, attempts - tasks)
            self.counts[(actor, "stepfunctions", "history_events")] += len(history)
            self.counts[(actor, "logs", "bytes")] += log_bytes

    def _count_events(self, cloud: LocalCloud) -> None:
        """Every event published in the window (the ledger's), and every queue a rule sent it to."""
        for event_id, event in cloud.ledger.events.items():
            if event_id in self._events_before or not event.bus:
                continue
            self.counts[("bus", "events", "published")] += 1
            for target in event.deliveries:
                if target.startswith("queue:"):
                    self.counts[(target, "sqs", "sends")] += 1

    def _count_wiring(self, cloud: LocalCloud) -> None:
        """What the deployment adds per function: the queue feeding it (one message per invocation at a
        production rate, see workflowkit.cost.model) and the HTTP routes it serves; and its keys."""
        assert cloud.app is not None
        counts = self.counts
        for mapping in cloud.app.mappings:
            queue = f"queue:{mapping.queue_arn.rsplit(':', 1)[-1]}"
            counts[(queue, "sqs", "pollers")] = 1
            counts[(f"function:{mapping.function_name}", "sqs", "messages")] += counts.get(
                (queue, "sqs", "sends"), 0
            )
        routed = {route.function_name for route in cloud.app.routes}
        for name in routed:
            counts[("api", "apigateway", "requests")] += counts.get(
                (f"function:{name}", "lambda", "invocations"), 0
            )
        keys = sum(len(template.of_type("AWS::KMS::Key")) for template in cloud.app.templates)
        counts[("kms", "kms", "keys")] = keys


def _tables_named(operation: str, params: dict[str, Any]) -> list[str]:
    if "TableName" in params:
        return [str(params["TableName"])]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [str(name) for name in params.get("RequestItems") or {}]
    names = []
    for entry in params.get("TransactItems") or []:
        for action in entry.values():
            names.append(str(action.get("TableName", "")))
    return names


def _executions(cloud: LocalCloud) -> list[tuple[str, str]]:
    """(execution ARN, state machine name) of every execution moto holds."""
    backend = cloud.backend("stepfunctions")
    return [
        (execution.execution_arn, machine.name)
        for machine in backend.state_machines
        for execution in machine.executions
    ]


def _task_function(rendered: dict[str, Any]) -> str:
    """The function a task attempt invokes (a Lambda integration's FunctionName, or a function ARN)."""
    details = rendered.get("taskScheduledEventDetails") or rendered.get("lambdaFunctionScheduledEventDetails")
    if not isinstance(details, dict):
        return ""
    target = str(details.get("resource", ""))
    if details.get("resourceType") == "lambda":
        try:
            target = str(json.loads(details.get("parameters") or "{}").get("FunctionName", ""))
        except ValueError:
            return ""
    if ":function:" not in target:
        return ""
    return target.split(":function:", 1)[1].split(":", 1)[0]


def _task_states(history: Any) -> int:
    """Task states entered: each tries at least once; attempts beyond that are retries."""
    return sum(1 for event in history.read() if event[0] == "TaskStateEntered")


def _chunks(size: int, chunk: int) -> int:
    return max(1, math.ceil(size / chunk))


def _entry_size(entry: dict[str, Any]) -> int:
    """PutEvents' entry size as EventBridge bills it: source, detail type, detail, resources, time."""
    size = sum(len(str(entry.get(name, "")).encode()) for name in ("Source", "DetailType", "Detail"))
    size += sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])
    return size + (14 if "Time" in entry else 0)


def _stored_size(engine: Any, table: str, key: dict[str, Any]) -> int:
    stored = engine.stored(table, key)
    return stored[1] if stored is not None else 0


def _wire_size(item: dict[str, Any]) -> int:
    return len(json.dumps(item, default=str))


def _read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2
