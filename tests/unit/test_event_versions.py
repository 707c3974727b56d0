"""An event is held to the schema version it declares, then upcast to the current one.

The fuzz suite found a ``PaymentProcessed`` declaring version 1 but lacking version 1's ``order``
accepted as a valid version 2 event: the upcaster only drops ``order``, and nothing checked the data
against version 1 first.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from workflow_core.errors import MalformedEventError, UnsupportedSchemaVersionError
from workflow_core.registry import parse_event

EVENTS = Path(__file__).resolve().parents[1] / "events" / "consumers"


def _event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def test_a_version_1_event_is_upcast_to_the_current_model() -> None:
    event = parse_event(_event("payment_processed_v1"))
    assert event.metadata.schema_version == 1
    assert "order" not in event.data.to_wire()  # version 2 dropped it: the context carries the order


def test_an_old_version_lacking_what_that_version_requires_is_malformed() -> None:
    # GIVEN a PaymentProcessed that says version 1 but carries version 2's data (no "order")
    event = copy.deepcopy(_event("payment_processed_v1"))
    del event["detail"]["data"]["order"]
    # THEN it breaks its own version's contract: rejected, not passed on as a version 2 event
    with pytest.raises(MalformedEventError, match=r"PaymentProcessed v1: invalid data: order: Field"):
        parse_event(event)


def test_an_old_version_with_a_member_of_the_wrong_kind_is_malformed() -> None:
    event = copy.deepcopy(_event("payment_processed_v1"))
    event["detail"]["data"]["order"] = ["not", "an", "order"]
    with pytest.raises(MalformedEventError, match=r"v1: invalid data: order"):
        parse_event(event)


def test_an_unknown_version_is_unsupported() -> None:
    event = copy.deepcopy(_event("payment_processed_v1"))
    event["detail"]["metadata"]["schemaVersion"] = 9
    with pytest.raises(UnsupportedSchemaVersionError, match="known: \\[1, 2\\]"):
        parse_event(event)
