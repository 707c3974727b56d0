"""The committed event catalog (docs/events) is what the code generates: documentation that cannot rot."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from order_workflow import events as ev

from tests.factories import domain_event, eventbridge_event, order, order_context
from workflowkit.catalog_docs import CATALOG_DIR, render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_catalog_matches_the_code() -> None:
    expected = render(ROOT / "functions")
    committed = {
        str(path.relative_to(ROOT / CATALOG_DIR)): path.read_text()
        for path in (ROOT / CATALOG_DIR).rglob("*")
        if path.is_file()
    }
    stale = sorted(
        name for name in expected.keys() | committed.keys() if expected.get(name) != committed.get(name)
    )
    assert stale == [], f"run 'python -m workflowkit catalog' to regenerate: {stale}"


def test_every_event_version_has_a_schema_with_the_envelope() -> None:
    files = render(ROOT / "functions")
    schemas = [name for name in files if name.startswith("schemas/")]
    assert "schemas/OrderSubmitted.v1.json" in schemas
    assert "schemas/OrderSubmitted.v2.json" in schemas
    assert "schemas/PaymentProcessed.v1.json" in schemas
    assert "schemas/PaymentProcessed.v2.json" in schemas
    assert "schemas/WorkflowStarted.v2.json" in schemas
    assert all(
        '"metadata"' in files[name] and '"workflow"' in files[name] and '"data"' in files[name]
        for name in schemas
    )


def schema_of(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render(ROOT / "functions")[f"schemas/{name}.json"])
    return loaded


def test_a_real_event_validates_against_its_exported_schema_and_a_broken_one_does_not() -> None:
    schema = schema_of("PaymentProcessed.v2")
    data = ev.PaymentProcessed(order_id="o-1", payment_id="pay_1", amount_minor=3300, currency="EUR")
    event = domain_event("PaymentProcessed", data, event_id="e-1", correlation_id="o-1")
    detail = eventbridge_event(event)["detail"]
    assert detail["workflow"] == order_context("o-1").to_wire()
    jsonschema.validate(detail, schema)
    broken_data = copy.deepcopy(detail)
    broken_data["data"]["amountMinor"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken_data, schema)
    # the order is the context's subject now, no longer in the data: version 2 refuses it there
    with_order = copy.deepcopy(detail)
    with_order["data"]["order"] = order("o-1").to_wire()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(with_order, schema)
    broken_context = copy.deepcopy(detail)
    broken_context["workflow"]["version"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken_context, schema)


def test_a_version_1_event_validates_against_its_own_schema_and_a_broken_one_does_not() -> None:
    schema = schema_of("PaymentProcessed.v1")
    data = ev.PaymentProcessedV1(
        order_id="o-1", payment_id="pay_1", amount_minor=3300, currency="EUR", order=order("o-1")
    )
    detail = eventbridge_event(domain_event("PaymentProcessed", data, event_id="e-1"))["detail"]
    detail["metadata"]["schemaVersion"] = 1
    jsonschema.validate(detail, schema)
    detail["data"]["order"]["items"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(detail, schema)
