"""What a run keeps, it keeps whole however it keeps it: the bus's archive holds every event the bus
carried, in sequence (on disk, workflowkit.spool), and DescribeArchive counts them; a run of many keeps
its status documents packed and reports exactly what it reports with them parsed."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import boto3
import pytest
from moto.sqs.models import Message

from simulations.order import PLUGIN
from simulations.order.driver import OrderDriver
from workflowkit import LocalCloud, ledger
from workflowkit.chaos import build_profile
from workflowkit.simulator import PackedStatuses, RunResult, run_simulation
from workflowkit.simulator.invariants import base
from workflowkit.spool import Spool


def test_the_archive_keeps_every_event_the_bus_carried_in_sequence(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN a few orders run to their end
    for n in range(3):
        orders.submit("happy", f"archived-{n}")
    cloud.run_until_quiescent()
    # WHEN the archive is read back
    (archive,) = cloud.backends("events").archives.values()
    bus = archive.source_arn.rsplit("/", 1)[-1]
    archived = list(archive.events)
    # THEN it holds each event published on its bus, in publication sequence, as published
    carried = [e for e in cloud.ledger.events.values() if e.bus == bus]
    assert len(carried) > 10
    assert [event["id"] for event in archived] == [e.eventbridge_id for e in carried]
    assert {event["detail"]["metadata"]["correlationId"] for event in archived} == {
        "archived-0",
        "archived-1",
        "archived-2",
    }
    events = boto3.client("events", region_name=cloud.region)
    assert events.describe_archive(ArchiveName=archive.name)["EventCount"] == len(carried)


def test_a_run_with_its_statuses_packed_reports_what_it_reports_with_them_parsed(
    cdk_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the same run twice, the second keeping its status documents packed (as a run of many does)
    def run() -> RunResult:
        flaky = build_profile("flaky", [])
        return run_simulation(plugin=PLUGIN, cdk_out=cdk_out, count=40, seed=5, progress=False, faults=flaky)

    parsed = run()
    monkeypatch.setattr(base, "PACK_STATUSES_FROM", 0)
    packed = run()
    # THEN it holds them packed, and every figure, verdict and document is the same
    assert isinstance(packed.statuses, PackedStatuses)
    assert not isinstance(parsed.statuses, PackedStatuses)
    timing = {"wall_seconds", "run_seconds", "startup_seconds", "workflows_per_second", "handler_seconds"}
    timing |= {"emulator_seconds", "overhead_ratio"}
    assert {k: v for k, v in packed.summary().items() if k not in timing} == {
        k: v for k, v in parsed.summary().items() if k not in timing
    }
    assert packed.violations == parsed.violations
    assert packed.mismatches() == parsed.mismatches()
    assert dict(packed.statuses) == parsed.statuses


def test_a_message_deleted_from_its_queue_is_kept_by_nothing(cloud: LocalCloud, orders: OrderDriver) -> None:
    # GIVEN orders run to their end: every message their queues carried was received and deleted
    for n in range(3):
        orders.submit("happy", f"kept-{n}")
    cloud.run_until_quiescent()
    queued = sum(len(queue._messages) for queue in cloud.backends("sqs").queues.values())
    # THEN the only messages alive are the ones still in a queue (moto's record of every instance it made,
    # workflowkit.retention, keeps none)
    gc.collect()
    alive = sum(1 for o in gc.get_objects() if isinstance(o, Message))
    assert alive == queued


def test_an_ended_execution_keeps_its_input_and_output_on_disk_and_describes_them_as_before(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN orders run to their end: their state machine executions have ended
    for n in range(2):
        orders.submit("happy", f"described-{n}")
    cloud.run_until_quiescent()
    backend = cloud.backends("stepfunctions")
    ended = [e for machine in backend.state_machines for e in machine.executions]
    assert len(ended) >= 2
    sfn = boto3.client("stepfunctions", region_name=cloud.region)
    for execution in ended:
        # THEN moto's record holds neither the input parsed nor its input and output texts: those are on
        # disk, read back when asked for
        assert not {"input_data", "execution_input", "output"} & set(vars(execution))
        # AND DescribeExecution answers with that input, its data included, as for a running one
        described = sfn.describe_execution(executionArn=execution.exec_arn)
        assert json.loads(described["input"]) == json.loads(execution.execution_input)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"])
        assert execution.input_data == json.loads(execution.execution_input)


def test_the_messages_a_topic_sent_are_kept_on_disk_and_counted(
    cloud: LocalCloud, orders: OrderDriver
) -> None:
    # GIVEN orders run to their end: the customer was notified of each through the notifications topic
    for n in range(3):
        orders.submit("happy", f"notified-{n}")
    cloud.run_until_quiescent()
    # THEN what moto keeps of each topic's messages (for tests: SNS keeps none) is on disk, and whole
    sent = {arn: topic.sent_notifications for arn, topic in cloud.backends("sns").topics.items()}
    used = {arn: kept for arn, kept in sent.items() if len(kept)}
    assert used
    for kept in used.values():
        assert isinstance(kept, Spool)
        assert all(len(record) == 5 and isinstance(record[1], str) for record in kept)
    messages = [json.loads(record[1]) for kept in used.values() for record in kept]
    assert len(messages) >= 3


def test_a_run_with_its_ledger_packed_reports_what_it_reports_with_it_kept_as_objects(
    cdk_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the same run twice, the second keeping all but its latest 50 ledger events on disk
    def run() -> RunResult:
        flaky = build_profile("flaky", [])
        return run_simulation(
            plugin=PLUGIN,
            cdk_out=cdk_out,
            count=40,
            seed=5,
            progress=False,
            faults=flaky,
            keep_timelines=None,
        )

    kept = run()
    monkeypatch.setattr(ledger, "HOT_EVENTS", 50)
    packed = run()
    # THEN every figure, verdict, timeline and the trace are the same
    timing = {"wall_seconds", "run_seconds", "startup_seconds", "workflows_per_second", "handler_seconds"}
    timing |= {"emulator_seconds", "overhead_ratio"}
    assert {k: v for k, v in packed.summary().items() if k not in timing} == {
        k: v for k, v in kept.summary().items() if k not in timing
    }
    assert packed.summary()["events_published"] > 200
    assert packed.violations == kept.violations
    assert packed.timelines == kept.timelines
    assert packed.trace_sha256 == kept.trace_sha256
