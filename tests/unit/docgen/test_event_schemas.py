"""The event catalog (docs/events): the committed copy is what the code generates, and each schema holds
real events of its version and refuses broken ones. Needs no template: unlike the workflow pages, the
catalog is the declarations' alone."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from order_workflow import events as ev
from tests.factories import domain_event, eventbridge_event, order, order_context
from workflowkit.docgen import DOCS_DIR, load_registry
from workflowkit.docgen.indexes import EVENTS, event_files

ROOT = Path(__file__).resolve().parents[3]


@cache
def files() -> dict[str, str]:
    return event_files(load_registry(ROOT / "functions"))


def test_committed_catalog_matches_the_code() -> None:
    committed = {
        path.relative_to(ROOT / DOCS_DIR).as_posix(): path.read_text()
        for path in (ROOT / DOCS_DIR / EVENTS).rglob("*")
        if path.is_file()
    }
    stale = sorted(
        name for name in files().keys() | committed.keys() if files().get(name) != committed.get(name)
    )
    assert stale == [], f"run 'python -m workflowkit.docgen' (workflowkit docs) to regenerate: {stale}"


def test_every_event_version_has_a_schema_with_the_envelope() -> None:
    schemas = [name for name in files() if name.startswith(f"{EVENTS}/schemas/")]
    for name in ("OrderSubmitted.v1", "OrderSubmitted.v2", "PaymentProcessed.v1", "PaymentProcessed.v2"):
        assert f"{EVENTS}/schemas/{name}.json" in schemas
    assert f"{EVENTS}/schemas/WorkflowStarted.v2.json" in schemas
    assert all(
        '"metadata"' in files()[name] and '"workflow"' in files()[name] and '"data"' in files()[name]
        for name in schemas
    )


def schema_of(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files()[f"{EVENTS}/schemas/{name}.json"])
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


def test_the_index_links_each_event_to_the_workflows_that_use_it() -> None:
    index = files()[f"{EVENTS}/README.md"]
    assert (
        "| `PaymentProcessed` | `commerce.payments` | [v1](schemas/PaymentProcessed.v1.json), "
        "[v2](schemas/PaymentProcessed.v2.json) | [order](../workflows/order.md) |"
    ) in index
