"""The notice ledger both listeners keep: one item per announcement, sent at most once per success."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from workflow_core.notice_ledger import FAILED, PENDING, SENT, NoticeLedger, notice_pk


@pytest.fixture
def ledger() -> Iterator[NoticeLedger]:
    with mock_aws():
        table: Any = boto3.resource("dynamodb", region_name="eu-west-1").create_table(
            TableName="notices",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield NoticeLedger(table)


def status(ledger: NoticeLedger, event_id: str) -> str:
    return str(ledger.table.get_item(Key={"pk": notice_pk(event_id)})["Item"]["status"])


def test_the_first_delivery_records_pending_and_a_redelivery_reads_what_it_left(ledger: NoticeLedger) -> None:
    assert ledger.record("e1", {"template": "t"}) == PENDING
    assert ledger.record("e1", {"template": "t"}) == PENDING  # died before sending: send again
    ledger.mark_sent("e1", "m-1")
    assert ledger.record("e1", {"template": "t"}) == SENT  # sent: send nothing


def test_a_notice_refused_then_sent_by_a_redelivery_ends_sent(ledger: NoticeLedger) -> None:
    ledger.record("e1", {})
    ledger.mark_failed("e1", "KMS.DisabledException")
    assert status(ledger, "e1") == FAILED
    ledger.mark_sent("e1", "m-2")  # the cause was fixed; the redelivery got it out
    assert status(ledger, "e1") == SENT
    ledger.mark_failed("e1", "late")  # a slower delivery's refusal does not undo the success
    assert status(ledger, "e1") == SENT
