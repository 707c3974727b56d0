"""The local cloud's PutEvents, through boto3 as the app calls it, against what EventBridge documents.

The oracle is the API reference and the User Guide, written out here on its own: a request of more
than 10 entries, or whose entries together exceed 256 KiB (sized as "Calculating PutEvents event
entry size" sizes them), is refused whole with ``ValidationException`` and puts nothing; otherwise
every entry gets a result in request order, ``FailedEntryCount`` counts the failed ones, an entry
without ``Source``, ``DetailType`` or ``Detail`` is ``InvalidArgument``, a ``Detail`` that is not a
JSON object (RFC 8259; 64-bit integers; at most 1,100 levels deep) is ``MalformedDetail``, and every
other entry is put: on the bus it names, or, for a bus that does not exist, answered with an event id
and dropped. The local cloud never raises anything else, whatever the text holds.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import hostile_text, json_values, nested, not_json
from tests.fuzz.support import FuzzApp

LIMIT = 256 * 1024
MAX_DEPTH = 1100
NO_SUCH_BUS = "no-such-bus"


def _java_bytes(text: str) -> int:
    """``text.getBytes(StandardCharsets.UTF_8).length`` in Java: an unpaired surrogate becomes "?"."""
    return sum(1 if 0xD800 <= ord(c) <= 0xDFFF else len(c.encode("utf-8")) for c in text)


def documented_size(entry: dict[str, Any]) -> int:
    size = 14 if "Time" in entry else 0
    size += sum(_java_bytes(entry[field]) for field in ("Source", "DetailType", "Detail") if field in entry)
    return size + sum(_java_bytes(resource) for resource in entry.get("Resources", []))


def documented_result(entry: dict[str, Any]) -> str:
    """The ErrorCode EventBridge answers the entry with, or "EventId"."""
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            return "InvalidArgument"
    return "EventId" if _is_detail(entry["Detail"]) else "MalformedDetail"


def _is_detail(text: str) -> bool:
    def constant(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=constant)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and _within_limits(value)


def _within_limits(document: Any) -> bool:
    """Integers of 64 bits, finite numbers, at most MAX_DEPTH levels (walked without recursion: the
    documents reach past Python's recursion limit)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return False
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return True


def _object_text(value: dict[str, Any], ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


details = st.one_of(
    st.builds(_object_text, st.dictionaries(hostile_text, json_values, max_size=5), st.booleans()),
    not_json,
    json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
    st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 5_000, 100_000]).map(
        lambda d: '{"a":' + nested(d - 1) + "}"
    ),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1]).map(lambda n: json.dumps({"n": n})),
    st.sampled_from([60_000, LIMIT // 2, LIMIT - 60]).map(lambda n: json.dumps({"padding": "x" * n})),
)


@st.composite
def entries(draw: st.DrawFn, bus: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for field, value in (
        ("Source", st.one_of(st.just("fuzz.source"), hostile_text, st.just(""))),
        ("DetailType", st.one_of(st.just("FuzzProbe"), hostile_text, st.just(""))),
        ("Detail", details),
        ("Resources", st.lists(hostile_text, max_size=3)),
        ("EventBusName", st.sampled_from([bus, "default", NO_SUCH_BUS])),
        ("Time", st.just(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))),
    ):
        if draw(st.booleans()) or (field in ("Source", "DetailType", "Detail") and draw(st.booleans())):
            entry[field] = draw(value)
    return entry


@given(data=st.data())
def test_put_events_answers_as_eventbridge_documents(app: FuzzApp, data: st.DataObject) -> None:
    bus = app.cloud.outputs["EventBusName"]
    request = data.draw(st.lists(entries(bus), min_size=1, max_size=12), label="entries")
    client = boto3.client("events", region_name=app.cloud.region)
    before = dict(app.cloud.ledger.events)

    try:
        response = client.put_events(Entries=request)
    except ClientError as error:
        refused = error.response["Error"]["Code"]
    else:
        refused = None

    too_many = len(request) > 10
    too_large = sum(documented_size(entry) for entry in request) > LIMIT
    if too_many or too_large:
        assert refused == "ValidationException", "the request is refused whole"
        assert app.cloud.ledger.events == before, "a refused request puts nothing"
        return
    assert refused is None, f"refused: {refused}"
    results = response["Entries"]
    assert len(results) == len(request)
    expected = [documented_result(entry) for entry in request]
    assert [r.get("ErrorCode", "EventId") for r in results] == expected
    assert response["FailedEntryCount"] == sum(code != "EventId" for code in expected)
    put = [
        (entry, result["EventId"])
        for entry, result in zip(request, results, strict=True)
        if "EventId" in result and entry.get("EventBusName") != NO_SUCH_BUS
    ]
    added = {key: event for key, event in app.cloud.ledger.events.items() if key not in before}
    assert sorted(added) == sorted(event_id for _, event_id in put), "each put entry is one event on its bus"
    for entry, event_id in put:
        assert (added[event_id].source, added[event_id].detail_type) == (entry["Source"], entry["DetailType"])


@pytest.mark.parametrize(
    ("request_entries", "answer"),
    [
        # Found by the fuzz suite: each of these raised out of the local cloud's PutEvents before.
        ([{"Source": "fuzz.source", "DetailType": "Probe", "Detail": '{"a": "\ud800"}'}], ["EventId"]),
        ([{"Source": "fuzz.source", "DetailType": "Probe", "Detail": nested(20_000)}], ["MalformedDetail"]),
        (
            [{"Source": "fuzz.source", "DetailType": "Probe", "Detail": "{}", "EventBusName": NO_SUCH_BUS}],
            ["EventId"],
        ),
        # Accepted before, refused by EventBridge.
        ([{"Source": "fuzz.source", "DetailType": "Probe", "Detail": '{"a": NaN}'}], ["MalformedDetail"]),
        (
            [{"Source": "fuzz.source", "DetailType": "Probe", "Detail": json.dumps({"n": 2**63})}],
            ["MalformedDetail"],
        ),
        ([{"Source": "fuzz.source", "DetailType": "Probe", "Detail": "{}"}] * 11, "ValidationException"),
        (
            [
                {
                    "Source": "fuzz.source",
                    "DetailType": "Probe",
                    "Detail": json.dumps({"p": "x" * (LIMIT // 2)}),
                }
            ]
            * 2,
            "ValidationException",
        ),
        (
            [{"Source": "fuzz.source", "DetailType": "Probe", "Detail": "{}", "Resources": ["r" * LIMIT]}],
            "ValidationException",
        ),
    ],
)
def test_put_events_regressions(app: FuzzApp, request_entries: list[dict[str, Any]], answer: Any) -> None:
    client = boto3.client("events", region_name=app.cloud.region)
    before = len(app.cloud.ledger.events)
    if answer == "ValidationException":
        with pytest.raises(ClientError) as raised:
            client.put_events(Entries=request_entries)
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert len(app.cloud.ledger.events) == before
        return
    response = client.put_events(Entries=request_entries)
    assert [r.get("ErrorCode", "EventId") for r in response["Entries"]] == answer
