"""Usage x prices: a month's bill, line by line, for a number of workflows a month.

Every line is (service, what, quantity a month, price key), so a reader can re-derive a total by hand from
the counted operations and the price file. The assumptions that turn counts into billed quantities are the
constants below (docs/cost.md explains each):

- Lambda billed duration is modelled, not measured: per invocation, the function's own compute measured
  locally (time in its handler less the time the local cloud took to answer its calls), scaled by
  ``LAMBDA_FULL_VCPU_MB / memory`` (Lambda gives a function a vCPU share proportional to its memory; a local
  core is taken as one vCPU), plus the published p50 latency of every AWS call the handler waited on,
  rounded up to the millisecond.
- A queue-fed function is invoked once per message: at a production rate a queue gets a message every few
  seconds, so Lambda's pollers hand over batches of one (the simulation's arrivals, 50 a second, batch).
  Each message costs an SQS ReceiveMessage and a DeleteMessage besides its SendMessage, and every queue with
  an event source mapping is long-polled by ``ESM_POLLERS`` pollers every ``LONG_POLL_SECONDS`` when idle.
- X-Ray records the default rule, the first request each second and 5% of the rest, for each function and
  each state machine on its own (Lambda and Step Functions sample the requests that reach them without a
  trace header, one reservoir per function or machine), every invocation and execution taken as the root of
  its own trace. Neither bound is certain: one reservoir for the whole account would record fewer; headers
  carried through EventBridge and SQS would join traces, fewer again (docs/cost.md).
- KMS: each resource encrypted with the customer managed key and used in the month calls KMS about once per
  ``KMS_REUSE_SECONDS`` per principal using it (SQS's data key reuse period as the template leaves it, 300 s;
  taken for DynamoDB, SNS and CloudWatch Logs as well), two principals each.
- CloudWatch Logs: the characters each function printed, ``LAMBDA_PLATFORM_LOG_BYTES`` of START/END/REPORT
  lines per invocation, and a record per execution history event (level ALL, execution data included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from workflowkit.cost.prices import Hop, PriceBook
from workflowkit.cost.usage import Usage

MONTH_SECONDS = 30 * 24 * 3600
LAMBDA_FULL_VCPU_MB = 1769  # Lambda's documented memory at which a function has one full vCPU
LAMBDA_PLATFORM_LOG_BYTES = 330  # START, END and REPORT lines of one invocation (estimate)
ESM_POLLERS = 5  # Lambda's initial pollers per SQS event source mapping
LONG_POLL_SECONDS = 20
KMS_REUSE_SECONDS = 300
KMS_PRINCIPALS = 2
XRAY_RESERVOIR_PER_SECOND = 1
XRAY_FIXED_RATE = 0.05
EXPRESS_MEMORY_MB = 64  # Express bills memory in 64 MB chunks; small task machines fit one
SERVICES = (
    "Step Functions",
    "Lambda",
    "EventBridge",
    "Scheduler",
    "SQS",
    "DynamoDB",
    "CloudWatch Logs",
    "X-Ray",
    "KMS",
    "API Gateway",
    "SNS",
)


@dataclass(frozen=True)
class Line:
    service: str
    what: str
    quantity: float  # a month, in the price's unit
    price: str  # key into the price book

    def cost(self, prices: PriceBook) -> float:
        return self.quantity * prices[self.price]


def is_function(actor: str) -> bool:
    return actor.startswith("function:")


def call_latency_ms(call: str, hops: Mapping[str, Hop]) -> float:
    """The p50 a handler waits for one call ``service:Operation``."""
    service, _, operation = call.partition(":")
    if service == "dynamodb":
        return hops["dynamodb_call"].p50 * (2 if operation.startswith("Transact") else 1)
    return hops["api_call"].p50


@dataclass(frozen=True)
class FunctionBill:
    invocations: float  # in the sample
    billed_ms: int  # per invocation
    memory_mb: int


def function_bills(usage: Usage, hops: Mapping[str, Hop]) -> dict[str, FunctionBill]:
    """Per function: invocations in the sample (one per message when queue-fed) and billed ms each."""
    bills = {}
    for actor in usage.actors("function:"):
        mine = usage.of(actor)
        name = actor.removeprefix("function:")
        invocations = mine.get(("sqs", "messages")) or mine.get(("lambda", "invocations"), 0.0)
        if invocations <= 0:
            continue
        memory = usage.memory_mb.get(name, 128)
        compute = mine.get(("lambda", "compute_ms"), 0.0) / invocations
        compute *= max(1.0, LAMBDA_FULL_VCPU_MB / memory)
        waited = sum(
            calls * call_latency_ms(what.removeprefix("waited:"), hops)
            for (service, what), calls in mine.items()
            if service == "lambda" and what.startswith("waited:")
        )
        billed = max(1, math.ceil(compute + waited / invocations))
        bills[name] = FunctionBill(invocations, billed, memory)
    return bills


def _sampled(requests: float) -> float:
    """Traces X-Ray's default rule records of ``requests`` a month reaching one function or machine."""
    reservoir = min(requests, XRAY_RESERVOIR_PER_SECOND * MONTH_SECONDS)
    return reservoir + XRAY_FIXED_RATE * (requests - reservoir)


def bill(usage: Usage, *, workflows_a_month: float, hops: Mapping[str, Hop]) -> list[Line]:
    """The month's lines for ``workflows_a_month`` workflows like the ``usage.workflows`` measured."""
    scale = workflows_a_month / usage.workflows
    lines: list[Line] = []

    def add(service: str, what: str, per_sample: float, price: str, *, fixed: float = 0.0) -> None:
        quantity = per_sample * scale + fixed
        if quantity:
            lines.append(Line(service, what, quantity, price))

    add(
        "Step Functions",
        "Standard state transitions",
        usage.total("stepfunctions", "transitions"),
        "stepfunctions.standard_transition",
    )
    add(
        "Step Functions",
        "Express executions",
        usage.total("stepfunctions", "express_executions"),
        "stepfunctions.express_request",
    )
    add(
        "Step Functions",
        "Express GB-seconds",
        usage.total("stepfunctions", "express_gb_seconds"),
        "stepfunctions.express_gb_second",
    )
    functions = function_bills(usage, hops)
    invocations = sum(f.invocations for f in functions.values())
    add("Lambda", "invocations", invocations, "lambda.request")
    gb_seconds = sum(f.invocations * f.billed_ms / 1000 * f.memory_mb / 1024 for f in functions.values())
    add("Lambda", "GB-seconds (arm64)", gb_seconds, "lambda.arm64_gb_second")
    published = usage.total("events", "published")
    extra_chunks = usage.total("events", "chunks") - usage.total("events", "entries")
    add("EventBridge", "custom events (64 KB chunks)", published + extra_chunks, "events.custom_event")
    add("Scheduler", "invocations", usage.total("scheduler", "invocations"), "scheduler.invocation")
    messages = usage.total("sqs", "messages")
    pollers = usage.total("sqs", "pollers")
    sqs = usage.total("sqs", "sends") + usage.total("sqs", "requests") + 2 * messages
    add(
        "SQS",
        "requests (send, receive, delete; idle long polls)",
        sqs,
        "sqs.standard_request",
        fixed=pollers * ESM_POLLERS * MONTH_SECONDS / LONG_POLL_SECONDS,
    )
    add("DynamoDB", "write request units", usage.total("dynamodb", "wru"), "dynamodb.write_request_unit")
    add("DynamoDB", "read request units", usage.total("dynamodb", "rru"), "dynamodb.read_request_unit")
    log_bytes = usage.total("logs", "bytes") + LAMBDA_PLATFORM_LOG_BYTES * invocations
    add("CloudWatch Logs", "GB ingested", log_bytes / 1e9, "logs.ingestion_gb")
    roots = [f.invocations * scale for f in functions.values()] + [
        amount * scale
        for (_, service, metric), amount in usage.counts.items()
        if service == "stepfunctions" and metric in ("executions", "express_executions")
    ]
    add("X-Ray", "traces recorded", 0.0, "xray.trace_recorded", fixed=sum(map(_sampled, roots)))
    add("KMS", "customer managed keys", 0.0, "kms.key_month", fixed=usage.total("kms", "keys"))
    encrypted = _resources_used(usage)
    add(
        "KMS",
        "requests (data keys, per resource and reuse period)",
        0.0,
        "kms.request",
        fixed=encrypted * KMS_PRINCIPALS * MONTH_SECONDS / KMS_REUSE_SECONDS,
    )
    add("API Gateway", "HTTP API requests", usage.total("apigateway", "requests"), "apigateway.http_request")
    add("SNS", "publishes (64 KB chunks)", usage.total("sns", "publishes", actor=is_function), "sns.publish")
    return lines


def _resources_used(usage: Usage) -> int:
    """Queues, tables, topics and log groups (one per function and state machine) the run used."""
    used = {
        who
        for (who, service, what), n in usage.counts.items()
        if n
        and who.startswith(("queue:", "table:", "topic:"))
        and (service, what) in {("sqs", "sends"), ("dynamodb", "calls"), ("sns", "publishes")}
    }
    logged = {who for (who, service, what), n in usage.counts.items() if n and service == "logs"}
    return len(used) + len(logged)


def by_service(lines: list[Line], prices: PriceBook) -> dict[str, float]:
    totals = dict.fromkeys(SERVICES, 0.0)
    for line in lines:
        totals[line.service] += line.cost(prices)
    return totals
