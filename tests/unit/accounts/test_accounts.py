"""Accounts: one account per verified customer, opened once whatever the deliveries, closed on request."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.provisioning import AccountsService
from tests.unit.onboarding.onboarding_support import application, create_table, step_requested, undo_request
from workflow_core.publisher import RecordingPublisher, derived_event_id


@pytest.fixture
def table(aws: None) -> Any:
    return create_table("accounts-test")


@pytest.fixture
def service(table: Any, publisher: RecordingPublisher, fixed_clock: Any) -> AccountsService:
    return AccountsService(table=table, publisher=publisher)


def test_opens_the_account_on_the_verification_it_was_verified_with(
    service: AccountsService, table: Any, publisher: RecordingPublisher
) -> None:
    outcome = service.handle(step_requested("account"))

    assert outcome is not None
    assert outcome.detail_type == "AccountProvisioned"
    assert outcome.data.to_wire() == {"customerId": "cus-1", "accountId": "acc_cus-1", "product": "CURRENT"}
    item = table.get_item(Key={"pk": "CUSTOMER#cus-1"})["Item"]
    assert (item["status"], item["verificationId"], item["attempt"]) == ("OPEN", "idv_cus-1", 1)
    # The outcome is derived from its cause: a redelivered trigger republishes the same event id.
    assert outcome.metadata.event_id == derived_event_id("evt-cus-1-StepRequested", "AccountProvisioned")
    assert outcome.workflow is not None
    assert outcome.workflow.name == "onboarding"


def test_a_repeated_trigger_announces_the_same_account_without_opening_another(
    service: AccountsService, table: Any, publisher: RecordingPublisher
) -> None:
    service.handle(step_requested("account"))
    service.handle(step_requested("account", event_id="evt-other-delivery"))

    assert publisher.detail_types() == ["AccountProvisioned", "AccountProvisioned"]
    assert len(table.scan()["Items"]) == 1


def test_a_retired_product_fails_the_step_and_opens_nothing(service: AccountsService, table: Any) -> None:
    outcome = service.handle(step_requested("account", subject=application(product="GOLD-LEGACY")))

    assert outcome is not None
    assert outcome.detail_type == "AccountProvisioningFailed"
    assert outcome.data.to_wire()["reason"] == "PRODUCT_RETIRED"
    assert table.scan()["Items"] == []


def test_deprovisioning_closes_the_open_account_and_echoes_the_undo_attempt(
    service: AccountsService, table: Any
) -> None:
    service.handle(step_requested("account"))
    outcome = service.handle(undo_request("AccountDeprovisionRequested", compensation_attempt=2))

    assert outcome is not None
    assert outcome.detail_type == "AccountDeprovisioned"
    assert outcome.data.to_wire() == {
        "customerId": "cus-1",
        "accountId": "acc_cus-1",
        "deprovisioned": True,
        "compensationAttempt": 2,
    }
    item = table.get_item(Key={"pk": "CUSTOMER#cus-1"})["Item"]
    assert (item["status"], item["undoneThrough"]) == ("CLOSED", 1)


def test_a_deprovisioning_before_the_account_leaves_a_tombstone_that_refuses_the_late_trigger(
    service: AccountsService, table: Any, publisher: RecordingPublisher
) -> None:
    first = service.handle(undo_request("AccountDeprovisionRequested"))
    late = service.handle(step_requested("account"))

    assert first is not None
    assert first.data.to_wire()["deprovisioned"] is False
    assert late is None  # nothing opened, nothing announced
    assert publisher.detail_types() == ["AccountDeprovisioned"]
    assert table.get_item(Key={"pk": "CUSTOMER#cus-1"})["Item"]["status"] == "CLOSED"


def test_a_retry_after_the_undo_of_an_earlier_attempt_opens_the_account_again(
    service: AccountsService, table: Any
) -> None:
    service.handle(step_requested("account"))
    service.handle(undo_request("AccountDeprovisionRequested", step_attempt=1))
    outcome = service.handle(step_requested("account", attempt=2))

    assert outcome is not None
    assert outcome.detail_type == "AccountProvisioned"
    item = table.get_item(Key={"pk": "CUSTOMER#cus-1"})["Item"]
    assert (item["status"], item["attempt"]) == ("OPEN", 2)


def test_a_second_deprovisioning_reports_nothing_left_to_close(service: AccountsService) -> None:
    service.handle(step_requested("account"))
    service.handle(undo_request("AccountDeprovisionRequested"))
    again = service.handle(undo_request("AccountDeprovisionRequested", event_id="evt-again"))

    assert again is not None
    assert again.data.to_wire()["deprovisioned"] is False


def test_a_frozen_account_is_not_closed_by_the_workflow(service: AccountsService, table: Any) -> None:
    service.handle(step_requested("account"))
    table.update_item(
        Key={"pk": "CUSTOMER#cus-1"},
        UpdateExpression="SET #s = :frozen",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":frozen": "FROZEN"},
    )
    outcome = service.handle(undo_request("AccountDeprovisionRequested"))

    assert outcome is not None
    assert outcome.detail_type == "AccountDeprovisioningFailed"
    assert outcome.data.to_wire()["reason"].startswith("ACCOUNT_FROZEN")
    assert table.get_item(Key={"pk": "CUSTOMER#cus-1"})["Item"]["status"] == "FROZEN"
