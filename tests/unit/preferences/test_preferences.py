"""Preferences: the customer's profile, recorded once whatever the deliveries, closed on request."""

from __future__ import annotations

from typing import Any

import pytest

from preferences.profiles import PreferencesService
from tests.unit.onboarding.onboarding_support import application, create_table, step_requested, undo_request
from workflow_core.publisher import RecordingPublisher


@pytest.fixture
def table(aws: None) -> Any:
    return create_table("profiles-test")


@pytest.fixture
def service(table: Any, publisher: RecordingPublisher, fixed_clock: Any) -> PreferencesService:
    return PreferencesService(table=table, publisher=publisher)


def test_records_the_profile_with_the_chosen_preferences(service: PreferencesService, table: Any) -> None:
    outcome = service.handle(step_requested("preferences"))

    assert outcome is not None
    assert outcome.detail_type == "PreferencesRecorded"
    assert outcome.data.to_wire() == {
        "customerId": "cus-1",
        "profileId": "prf_cus-1",
        "channels": ["EMAIL", "SMS"],
        "language": "de",
        "marketingOptIn": False,
    }
    item = table.get_item(Key={"pk": "PROFILE#cus-1"})["Item"]
    assert (item["status"], item["legalHold"]) == ("ACTIVE", False)


def test_a_repeated_trigger_announces_the_same_profile(
    service: PreferencesService, table: Any, publisher: RecordingPublisher
) -> None:
    first = service.handle(step_requested("preferences"))
    again = service.handle(step_requested("preferences", event_id="evt-again"))

    assert first is not None
    assert again is not None
    assert again.data == first.data
    assert len(table.scan()["Items"]) == 1


def test_sms_without_a_phone_number_is_rejected_and_records_nothing(
    service: PreferencesService, table: Any
) -> None:
    outcome = service.handle(step_requested("preferences", subject=application(phone=None)))

    assert outcome is not None
    assert outcome.detail_type == "PreferencesRejected"
    assert outcome.data.to_wire()["reason"] == "NO_PHONE_FOR_SMS"
    assert table.scan()["Items"] == []


def test_closing_the_profile_undoes_it(service: PreferencesService, table: Any) -> None:
    service.handle(step_requested("preferences"))
    outcome = service.handle(undo_request("ProfileClosureRequested", compensation_attempt=1))

    assert outcome is not None
    assert outcome.data.to_wire() == {
        "customerId": "cus-1",
        "profileId": "prf_cus-1",
        "closed": True,
        "compensationAttempt": 1,
    }
    assert table.get_item(Key={"pk": "PROFILE#cus-1"})["Item"]["status"] == "CLOSED"


def test_a_closure_before_the_profile_leaves_a_tombstone_that_refuses_the_late_trigger(
    service: PreferencesService, publisher: RecordingPublisher
) -> None:
    service.handle(undo_request("ProfileClosureRequested"))
    assert service.handle(step_requested("preferences")) is None
    assert publisher.detail_types() == ["ProfileClosed"]


def test_a_profile_under_legal_hold_is_not_closed(service: PreferencesService, table: Any) -> None:
    subject = application(email="ada@legal-hold.example")
    service.handle(step_requested("preferences", subject=subject))
    outcome = service.handle(undo_request("ProfileClosureRequested"))

    assert outcome is not None
    assert outcome.detail_type == "ProfileClosureFailed"
    assert outcome.data.to_wire()["reason"].startswith("LEGAL_HOLD")
    assert table.get_item(Key={"pk": "PROFILE#cus-1"})["Item"]["status"] == "ACTIVE"
