"""The bill: counted operations x the price file, for a month, re-derived here by hand."""

from __future__ import annotations

from collections import defaultdict

import pytest

from workflowkit.cost.bill import MONTH_SECONDS, bill, by_service
from workflowkit.cost.prices import Hop, PriceBook
from workflowkit.cost.usage import Key, Usage

HOPS = {
    "dynamodb_call": Hop(5, 25, "assumption", "test"),
    "api_call": Hop(20, 80, "assumption", "test"),
}


def _usage() -> Usage:
    counts: defaultdict[Key, float] = defaultdict(float)
    counts.update(
        {
            ("machine:m", "stepfunctions", "transitions"): 10,
            ("function:f", "lambda", "invocations"): 4,
            ("function:f", "lambda", "compute_ms"): 20,  # 5 ms an invocation, at a full vCPU
            ("function:f", "lambda", "waited:dynamodb:GetItem"): 4,  # 1 an invocation: 5 ms
            ("function:f", "lambda", "waited:events:PutEvents"): 2,  # 0.5 an invocation: 10 ms
            ("function:f", "events", "entries"): 2,
            ("function:f", "events", "chunks"): 3,  # one entry was over 64 KB
            ("bus", "events", "published"): 6,
            ("function:f", "dynamodb", "wru"): 8,
            ("function:f", "dynamodb", "rru"): 4,
            ("function:f", "logs", "bytes"): 1000,
            ("kms", "kms", "keys"): 1,
        }
    )
    return Usage(workflows=2, counts=counts, memory_mb={"f": 1769})


def test_a_month_of_a_hand_computed_usage() -> None:
    prices = PriceBook.load()
    lines = {(line.service, line.what): line for line in bill(_usage(), workflows_a_month=1000, hops=HOPS)}
    quantity = {key: line.quantity for key, line in lines.items()}

    # 1,000 workflows a month are 500 samples of 2.
    assert quantity[("Step Functions", "Standard state transitions")] == 5000
    assert quantity[("Lambda", "invocations")] == 2000
    # ceil(5 ms compute + 5 ms GetItem + 10 ms PutEvents) = 20 ms billed, at 1769 MB.
    assert quantity[("Lambda", "GB-seconds (arm64)")] == pytest.approx(2000 * 0.020 * 1769 / 1024)
    assert quantity[("EventBridge", "custom events (64 KB chunks)")] == 3500  # 6 + 1 extra chunk, x 500
    assert quantity[("DynamoDB", "write request units")] == 4000
    assert quantity[("DynamoDB", "read request units")] == 2000
    assert quantity[("CloudWatch Logs", "GB ingested")] == pytest.approx((1000 + 330 * 4) * 500 / 1e9)
    assert quantity[("X-Ray", "traces recorded")] == 2000  # under the reservoir of one a second
    assert quantity[("KMS", "customer managed keys")] == 1
    # One log group used, two principals, a data key every 300 s.
    assert quantity[("KMS", "requests (data keys, per resource and reuse period)")] == 2 * MONTH_SECONDS / 300
    assert ("SQS", "requests (send, receive, delete; idle long polls)") not in quantity

    services = by_service(list(lines.values()), prices)
    assert services["Step Functions"] == pytest.approx(5000 * 0.000025)
    assert services["DynamoDB"] == pytest.approx(4000 * 0.000000625 + 2000 * 0.000000125)
    assert services["Lambda"] == pytest.approx(2000 * 0.0000002 + 2000 * 0.020 * 1769 / 1024 * 0.0000133334)


def test_queue_fed_functions_are_billed_one_invocation_a_message_and_queues_are_polled() -> None:
    usage = _usage()
    usage.counts[("function:f", "sqs", "messages")] = 8  # 4 batches in the sample held 8 messages
    usage.counts[("queue:q", "sqs", "sends")] = 8
    usage.counts[("queue:q", "sqs", "pollers")] = 1

    lines = bill(usage, workflows_a_month=1000, hops=HOPS)
    quantity = {(line.service, line.what): line.quantity for line in lines}

    assert quantity[("Lambda", "invocations")] == 4000
    # 8 sends + 8 receives + 8 deletes a sample, and 5 pollers long-polling every 20 s all month.
    sqs = quantity[("SQS", "requests (send, receive, delete; idle long polls)")]
    assert sqs == 24 * 500 + 5 * MONTH_SECONDS / 20


def test_x_ray_records_the_reservoir_and_five_percent_beyond_it() -> None:
    lines = bill(_usage(), workflows_a_month=10_000_000, hops=HOPS)
    quantity = {(line.service, line.what): line.quantity for line in lines}

    traced = 4 / 2 * 10_000_000
    assert quantity[("X-Ray", "traces recorded")] == pytest.approx(
        MONTH_SECONDS + 0.05 * (traced - MONTH_SECONDS)
    )


def test_x_ray_samples_each_function_and_machine_on_its_own() -> None:
    usage = _usage()
    usage.counts[("machine:m", "stepfunctions", "executions")] = 2
    # A month of 2,000,000 workflows: f is invoked 4,000,000 times, m runs 2,000,000 executions.
    lines = bill(usage, workflows_a_month=2_000_000, hops=HOPS)
    quantity = {(line.service, line.what): line.quantity for line in lines}

    function_traces = MONTH_SECONDS + 0.05 * (4_000_000 - MONTH_SECONDS)
    machine_traces = 2_000_000  # under its own reservoir of one a second: every execution recorded
    assert quantity[("X-Ray", "traces recorded")] == pytest.approx(function_traces + machine_traces)
