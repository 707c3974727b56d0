"""Every queue-fed function (the controller and each consumer), fed hostile SQS batches.

GIVEN the events each consumer really received in a reference run, WHEN a batch mixes broken copies of
them (no JSON, not an object, a member dropped, added or of another kind, an unknown detail-type,
schema version or source, nesting past any parser's depth) with redeliveries of the real ones, THEN
the function answers with a partial batch response that names exactly the broken records (SQS
redelivers those until the queue's redrive policy dead-letters them), logs each as a rejected
contract (an ``InvalidEventError``), and changes nothing a user can see.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import broken_detail, deeply_nested, json_values, not_json, oversized
from tests.fuzz.support import QUEUE_HANDLERS, ContractValidator, FuzzApp, error_family, failed_ids, sqs_batch

REJECTIONS = ("rejected event", "terminal failure", "record failed; SQS redelivers it")


@cache
def _schemas() -> dict[str, Any]:
    from workflow_core.registry import deployed  # noqa: PLC0415 - the cloud's own copy of the app's code

    return deployed().catalog.json_schemas()


@cache
def _validator(key: str) -> ContractValidator:
    return ContractValidator(_schemas()[key])


def violates_contract(event: dict[str, Any]) -> bool:
    """Whether the documented contract (the catalog's JSON Schemas) rules the event out."""
    detail = event.get("detail")
    if not isinstance(detail, dict) or not isinstance(event.get("detail-type"), str):
        return True
    metadata = detail.get("metadata")
    version = metadata.get("schemaVersion") if isinstance(metadata, dict) else None
    key = f"{event['detail-type']}.v{version}"
    if key not in _schemas():
        return True
    return event.get("source") != _source_of(event["detail-type"]) or not _validator(key).is_valid(detail)


def _source_of(detail_type: str) -> str:
    from workflow_core.registry import source_of  # noqa: PLC0415

    return source_of(detail_type)


@st.composite
def hostile_record(draw: st.DrawFn, received: list[dict[str, Any]]) -> tuple[str, bool]:
    """(an SQS body, whether the contract rules it out for certain)."""
    real = draw(st.sampled_from(received))
    kind = draw(
        st.sampled_from(
            ["not json", "not an object", "broken", "detail-type", "source", "version", "nested", "huge"]
        )
    )
    if kind == "not json":
        return draw(not_json), True
    if kind == "not an object":
        return json.dumps(draw(json_values.filter(lambda v: not isinstance(v, dict)))), True
    if kind == "nested":
        return draw(deeply_nested), True
    if kind == "huge":
        return oversized(300 * 1024), True
    event = json.loads(json.dumps(real))
    if kind == "broken":
        event["detail"] = draw(broken_detail(event["detail"]))
    elif kind == "detail-type":
        event["detail-type"] = draw(st.text(max_size=30).filter(lambda t: t not in _schemas_types()))
    elif kind == "source":
        event["source"] = draw(st.text(max_size=30).filter(lambda s: s != real["source"]))
    else:
        # Another version: one nobody knows, or an older one the data was not written in.
        current = event["detail"]["metadata"]["schemaVersion"]
        known = {
            int(key.rsplit(".v", 1)[1]) for key in _schemas() if key.startswith(f"{real['detail-type']}.v")
        }
        unknown = st.integers(min_value=-5, max_value=2**40).filter(lambda v: v not in known)
        older = sorted(known - {current})
        event["detail"]["metadata"]["schemaVersion"] = draw(
            st.one_of(unknown, st.sampled_from(older)) if older else unknown
        )
    return json.dumps(event), violates_contract(event)


def _schemas_types() -> set[str]:
    return {key.rsplit(".v", 1)[0] for key in _schemas()}


@pytest.mark.parametrize("handler", QUEUE_HANDLERS)
@given(data=st.data())
def test_a_hostile_batch_fails_only_its_broken_records_and_changes_nothing(
    app: FuzzApp, handler: str, data: st.DataObject
) -> None:
    received = app.received(handler)
    assert received, f"{handler} received nothing in the reference run"
    hostile = data.draw(st.lists(hostile_record(received), min_size=1, max_size=4), label="hostile")
    redelivered = data.draw(st.lists(st.sampled_from(received), max_size=2), label="redelivered")
    records = [body for body, _ in hostile] + [json.dumps(event) for event in redelivered]
    order = data.draw(st.permutations(range(len(records))), label="order")
    bodies = [records[i] for i in order]
    broken = {f"fuzz-{position}" for position, i in enumerate(order) if i < len(hostile) and hostile[i][1]}
    redeliveries = {f"fuzz-{position}" for position, i in enumerate(order) if i >= len(hostile)}
    before = app.state()

    answer = app.invoke(handler, sqs_batch(app, handler, bodies))

    assert answer.error_type is None, f"the whole batch failed: {answer.error_type}"
    failed = failed_ids(answer.result)
    assert broken <= failed, f"broken records were not reported: {sorted(broken - failed)}"
    assert not failed & redeliveries, (
        f"redeliveries of handled events failed: {sorted(failed & redeliveries)}"
    )
    invalid = error_family("workflow_core.errors", "InvalidEventError")
    refusals = [line for line in answer.log if line.get("message") in REJECTIONS]
    untyped = [
        (line["message"], line.get("error_type"), line.get("error"))
        for line in refusals
        if line.get("error_type") not in invalid
    ]
    assert not untyped, f"records failed without a typed contract error: {untyped}"
    assert app.state() == before


@given(data=st.data())
def test_redelivered_events_in_any_order_and_any_number_change_nothing(
    app: FuzzApp, data: st.DataObject
) -> None:
    """SQS delivers at least once and in no particular order: every consumer, handed again what it
    already handled (duplicated, shuffled, in batches of any size), answers success and changes nothing."""
    handler = data.draw(st.sampled_from(QUEUE_HANDLERS), label="handler")
    received = app.received(handler)
    replay = data.draw(st.lists(st.sampled_from(received), min_size=1, max_size=10), label="replay")
    before = app.state()

    answer = app.invoke(handler, sqs_batch(app, handler, [json.dumps(event) for event in replay]))

    assert answer.error_type is None, f"the whole batch failed: {answer.error_type}"
    assert failed_ids(answer.result) == set()
    assert app.state() == before
