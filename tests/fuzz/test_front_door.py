"""The front door (HTTP API, payload v2, through API Gateway as the local cloud runs it), fed hostile
requests on every route.

A client may send anything: no JSON, JSON that is not an object, a subject with a member dropped,
added or of another kind, text with NUL, control characters or lone surrogates (a ``\\ud800`` escape
is valid JSON), numbers past any integer type, nesting past any parser, path parameters that are not
ids. THEN every answer is one the API documents (README: 2xx, or a typed JSON error ``{"error",
"message"}`` with its 4xx/503), never a 500; and every refused request changes nothing: no table, no
event, no execution, no schedule, no notification.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any
from urllib.parse import quote

from hypothesis import event, given, settings
from hypothesis import strategies as st

from simulations.onboarding.scenarios import SCENARIOS as ONBOARDING
from simulations.onboarding.scenarios import application_for
from simulations.order.scenarios import SCENARIOS as ORDERS
from simulations.order.scenarios import order_for
from tests.fuzz.strategies import broken_detail, deeply_nested, hostile_text, json_values, not_json, oversized
from tests.fuzz.support import (
    COMPLETED_ONBOARDING,
    COMPLETED_ORDER,
    SETTLE,
    WAITING_ONBOARDING,
    WAITING_ORDER,
    ContractValidator,
    FuzzApp,
)

# What each route answers (README "Querying a workflow", "Deciding a step"); anything else is a defect.
# No 503 from a start: the fuzz suite's bus never fails, so a 503 would be a subject the front door took
# and the bus refused, answered "retry" when no retry can succeed.
START = {202, 400, 404, 409}
STATUS = {200, 400, 404}
COMMANDS = {202, 400, 403, 404, 409}
DECISIONS = {202, 400, 403, 404, 409, 503}
SUBJECTS = {
    "order": order_for(ORDERS["happy"], "fz-new-order"),
    "onboarding": application_for(ONBOARDING["pass"], "fz-new-customer"),
}
START_EVENTS = {"order": "OrderSubmitted.v2", "onboarding": "CustomerRegistered.v1"}
WORKFLOW_IDS = (COMPLETED_ORDER, WAITING_ORDER, COMPLETED_ONBOARDING, WAITING_ONBOARDING)
CALLBACK_STEPS = {WAITING_ORDER: "shipping", WAITING_ONBOARDING: "review"}


@cache
def _subject_validator(workflow: str) -> ContractValidator:
    from workflow_core.registry import deployed  # noqa: PLC0415 - the cloud's own copy of the app's code

    event = deployed().catalog.json_schemas()[START_EVENTS[workflow]]
    return ContractValidator({**event["properties"]["data"], "$defs": event.get("$defs", {})})


def _encodable(text: str) -> bool:
    """What an HTTP body can carry: UTF-8 (a lone surrogate arrives only as a JSON escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


raw_bodies = st.one_of(
    not_json.filter(_encodable),
    deeply_nested,
    st.just(oversized(1024 * 1024)),
    json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
    st.integers(min_value=2**63, max_value=2**80).map(lambda n: json.dumps({"amountMinor": n})),
    st.just('{"amountMinor": 1e400}'),
)
# A path segment as a client sends it: percent-encoded UTF-8 (RFC 3986), so "/" and "?" stay inside it.
segments = st.one_of(st.sampled_from(WORKFLOW_IDS), hostile_text.filter(_encodable).filter(bool)).map(
    lambda text: quote(text, safe="")
)


@st.composite
def subject_with_hostile_text(draw: st.DrawFn, subject: dict[str, Any]) -> dict[str, Any]:
    """``subject`` with hostile text in one of its string members (it may still be a valid subject)."""
    changed = json.loads(json.dumps(subject))
    holder, key = draw(st.sampled_from(_string_members(changed)))
    holder[key] = draw(st.one_of(hostile_text, st.builds(lambda t: holder[key] + t, hostile_text)))
    return changed


@st.composite
def subject_with_big_number(draw: st.DrawFn, subject: dict[str, Any]) -> dict[str, Any]:
    """``subject`` with one of its integers past what a 64-bit integer holds (JSON has no limit)."""
    changed = json.loads(json.dumps(subject))
    # An integer member if the subject has one; any other scalar member otherwise (onboarding has none).
    holders = _members(changed, lambda v: isinstance(v, int) and not isinstance(v, bool)) or _members(
        changed, lambda v: not isinstance(v, dict | list)
    )
    holder, key = draw(st.sampled_from(holders))
    holder[key] = draw(
        st.one_of(st.integers(min_value=2**63, max_value=2**80), st.integers(max_value=-(2**63) - 1))
    )
    return changed


def _string_members(value: Any) -> list[tuple[Any, Any]]:
    return _members(value, lambda v: isinstance(v, str))


def _members(value: Any, wanted: Any) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    members = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    )
    for key, child in members:
        if wanted(child):
            found.append((value, key))
        else:
            found.extend(_members(child, wanted))
    return found


def _assert_typed(response: dict[str, Any], allowed: set[int]) -> None:
    status = response["statusCode"]
    assert status in allowed, f"undocumented answer {status}: {response.get('json') or response.get('body')}"
    if status >= 400 and status != 403:
        body = response.get("json")
        assert isinstance(body, dict), f"{status} without a JSON body: {response.get('body')!r}"
        assert isinstance(body.get("error"), str), f"{status} without an error code: {body}"
        assert isinstance(body.get("message"), str), f"{status} without a message: {body}"


@given(data=st.data())
def test_start_answers_every_subject_it_refuses_with_a_typed_error_and_publishes_nothing(
    app: FuzzApp, data: st.DataObject
) -> None:
    workflow = data.draw(st.sampled_from([*SUBJECTS, "no-such-workflow"]), label="workflow")
    subject = SUBJECTS.get(workflow, SUBJECTS["order"])
    kind = data.draw(st.sampled_from(["raw", "broken", "big number", "hostile text"]), label="kind")
    if kind == "raw":
        body: Any = data.draw(raw_bodies, label="body")
    elif kind == "broken":
        body = data.draw(broken_detail(subject), label="body")
    elif kind == "big number":
        body = data.draw(subject_with_big_number(subject), label="body")
    else:
        body = data.draw(subject_with_hostile_text(subject), label="body")
    before = app.state()

    response = app.cloud.http("POST", f"/start/{workflow}", body)

    _assert_typed(response, START)
    after = app.state()
    if response["statusCode"] == 202:
        assert after["published"] == before["published"] + 1, "an accepted start publishes its event, once"
        assert {**after, "published": 0} == {**before, "published": 0}
    else:
        assert after == before
    if workflow in SUBJECTS and isinstance(body, dict) and not _subject_validator(workflow).is_valid(body):
        assert response["statusCode"] == 400, (
            f"a subject its schema rules out was answered {response['statusCode']}"
        )


@given(workflow_id=segments)
def test_status_of_any_id_is_a_document_or_a_typed_error(app: FuzzApp, workflow_id: str) -> None:
    before = app.state()

    response = app.cloud.http("GET", f"/workflows/{workflow_id}")

    _assert_typed(response, STATUS)
    assert app.state() == before


@given(data=st.data())
def test_a_refused_operator_command_changes_nothing(app: FuzzApp, data: st.DataObject) -> None:
    workflow_id = data.draw(segments, label="workflow id")
    valid = {"command": "retry-step", "step": "payment", "reason": "fuzz"}
    body = data.draw(st.one_of(raw_bodies, broken_detail(valid), json_values), label="body")
    before = app.state()

    response = app.cloud.http("POST", f"/workflows/{workflow_id}/commands", body)

    _assert_typed(response, COMMANDS)
    after = app.state()
    if response["statusCode"] == 202:
        assert after["published"] == before["published"] + 1, "an accepted command publishes one event"
        assert {**after, "published": 0} == {**before, "published": 0}
    else:
        assert after == before


@given(data=st.data())
def test_a_refused_decision_changes_nothing(app: FuzzApp, data: st.DataObject) -> None:
    workflow_id = data.draw(segments, label="workflow id")
    step = data.draw(st.one_of(st.sampled_from(["shipping", "review", "payment"]), segments), label="step")
    verdict = data.draw(st.sampled_from(["complete", "reject"]), label="verdict")
    body = data.draw(
        st.one_of(
            raw_bodies,
            broken_detail({"reason": "checked", "details": {"ticket": "T-1", "count": 1}}),
            st.fixed_dictionaries(
                {"reason": hostile_text, "details": st.dictionaries(hostile_text, json_values)}
            ),
        ),
        label="body",
    )
    # Never a valid decision on the steps that wait: the reference workflows keep waiting for other examples.
    if CALLBACK_STEPS.get(workflow_id) == step and response_could_be_valid(body):
        return
    before = app.state()

    response = app.cloud.http("POST", f"/workflows/{workflow_id}/steps/{step}/{verdict}", body)

    _assert_typed(response, DECISIONS)
    assert response["statusCode"] != 202, f"accepted: {response.get('json')}"
    assert app.state() == before


def response_could_be_valid(body: Any) -> bool:
    """Whether a decision body might be accepted (then the waiting step would be decided for good)."""
    if isinstance(body, str):
        if not body:
            return True  # no body: a completion needs none
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            return False
    return body is None or (isinstance(body, dict) and set(body) <= {"reason", "details"})


@settings(max_examples=8)
@given(data=st.data())
def test_a_subject_the_front_door_accepts_runs_to_an_end_without_a_dead_letter(
    app: FuzzApp, data: st.DataObject
) -> None:
    """Whatever text a subject holds, if the front door took it every service downstream can carry it:
    the workflow ends (no step stuck on a record that fails on every delivery) and nothing dead-letters."""
    workflow = data.draw(st.sampled_from(sorted(SUBJECTS)), label="workflow")
    subject = data.draw(subject_with_hostile_text(SUBJECTS[workflow]), label="subject")
    id_field = "orderId" if workflow == "order" else "customerId"
    # One workflow per subject: the same draw replayed is the same workflow (its start deduplicated)
    subject[id_field] = "fz-h-" + hashlib.sha256(json.dumps(subject).encode()).hexdigest()[:16]
    app.settle()

    response = app.cloud.http("POST", f"/start/{workflow}", subject)
    event(f"answered {response['statusCode']}")
    if response["statusCode"] != 202:
        _assert_typed(response, START)
        return
    app.cloud.run_for(SETTLE)

    driver = app.orders if workflow == "order" else app.onboarding
    status = driver.status(subject[id_field])
    assert status is not None, "accepted, never recorded"
    assert status["status"] in ("COMPLETED", "FAILED", "COMPENSATED"), status["status"]
    events = app.cloud.ledger.for_correlation(subject[id_field])
    stuck = [
        (e.detail_type, d.target, d.outcome.value, d.detail)
        for e in events
        for d in e.deliveries.values()
        if d.outcome.value != "processed"
    ]
    assert not stuck, stuck
