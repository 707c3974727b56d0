"""What the local cloud keeps, it keeps whole: the bus's archive holds every event the bus carried, in
sequence, however it is stored (on disk, workflowkit.spool), and DescribeArchive counts them."""

from __future__ import annotations

import boto3

from simulations.order.driver import OrderDriver
from workflowkit import LocalCloud


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
