"""The refund state machine: the compensation of the payment step, started by RefundRequested.

It gives back whatever the processor holds for the order, whatever the ledger says: the controller may
request it while a payment execution is still running or after it stopped it at any state.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from order_workflow.events import PaymentRefunded, RefundFailed
from payment import gateway as gateway_module
from payment.errors import PaymentGatewayUnavailableError
from payment.gateways import GatewayCall, SandboxGateway
from tests.factories import order
from tests.unit.payment.payment_cloud import PaymentCloud, payment_input, refund_input
from workflow_core.catalog import DomainEvent
from workflow_core.envelope import WorkflowContext
from workflow_core.registry import parse_event


def paid(cloud: PaymentCloud, order_id: str, *, token: str = "tok_visa", attempt: int = 1) -> None:
    name = f"{order_id}-payment-{attempt}"
    execution = cloud.run("payment", payment_input(order_id, token=token), name=name)
    assert execution["status"] == "SUCCEEDED"
    assert [e["detail-type"] for e in cloud.published()] == ["PaymentProcessed"]


def held(order_id: str, *, token: str = "tok_visa") -> None:
    """A payment execution stopped after Authorize: a hold at the processor, no capture, no ledger."""
    gateway_module.GATEWAY.authorize(order(order_id, token=token))


def captured(order_id: str, *, token: str = "tok_visa") -> None:
    """A payment execution stopped after Capture, before RecordLedger: money taken, no ledger entry."""
    held(order_id, token=token)
    gateway_module.GATEWAY.capture(order_id, call=GatewayCall(f"stopped-payment-{order_id}", order_id))


def published(cloud: PaymentCloud) -> list[DomainEvent]:
    """What the refund machine published; every event carries its request's workflow context unchanged."""
    events = [parse_event(e) for e in cloud.published()]
    for event in events:
        assert event.workflow == request_context(event.correlation_id), event.event_id
    return events


def request_context(order_id: str) -> WorkflowContext:
    """The workflow context of every RefundRequested of the order: the order and the payment's output."""
    context = WorkflowContext.model_validate(refund_input(order_id)["detail"]["workflow"])
    assert (context.name, context.subject["orderId"]) == ("order", order_id)
    assert context.outputs["payment"]["paymentId"] == f"pay_{order_id}"
    return context


def refunded(cloud: PaymentCloud) -> tuple[DomainEvent, PaymentRefunded]:
    [event] = published(cloud)
    assert event.detail_type == "PaymentRefunded"
    assert isinstance(event.data, PaymentRefunded)
    return event, event.data


def settle_calls(cloud: PaymentCloud) -> list[dict[str, Any]]:
    return [i["event"] for i in cloud.invocations if i["event"].get("operation") == "settle"]


def request(order_id: str, n: int) -> dict[str, Any]:
    """The controller's n-th RefundRequested for the order: a new event id, compensationAttempt n."""
    return refund_input(order_id, event_id=f"evt-{order_id}-comp-{n}:RefundRequested", compensation_attempt=n)


# --- what is settled: whatever the gateway holds ---------------------------------------------------------
def test_refund_returns_the_captured_payment_and_publishes_payment_refunded(cloud: PaymentCloud) -> None:
    # GIVEN a paid order
    paid(cloud, "o-1001")

    # WHEN the controller requests its refund
    requested = refund_input("o-1001")
    execution = cloud.run("refund", requested, name="refund-run-1")

    # THEN the captured amount goes back and PaymentRefunded satisfies the contract
    assert execution["status"] == "SUCCEEDED"
    event, data = refunded(cloud)
    # AND it carries the request's workflow context as it came: the order and the payment step's output
    assert event.workflow == WorkflowContext.model_validate(requested["detail"]["workflow"])
    assert (data.outcome, data.payment_id, data.refund_id, data.amount_minor) == (
        "REFUNDED",
        "pay_o-1001",
        "re_o-1001",
        3300,
    )
    assert data.compensation_attempt == 1
    # AND its id derives from the request, so a redrive republishes the same id
    assert event.event_id == "evt-inv-o-1001:RefundRequested:PaymentRefunded"
    assert event.metadata.causation_id == "evt-inv-o-1001:RefundRequested"
    assert event.correlation_id == "o-1001"
    # AND the claim is closed with what was done
    claim = cloud.items("o-1001")["REFUND"]
    assert (claim["status"], claim["amountMinor"], claim["executionName"]) == (
        "REFUNDED",
        "3300",
        "refund-run-1",
    )
    assert '"refundId":"re_o-1001"' in claim["settlement"].replace(" ", "")


def test_a_capture_without_a_ledger_entry_is_refunded(cloud: PaymentCloud) -> None:
    # GIVEN a payment stopped after Capture, before RecordLedger: money taken, nothing booked
    captured("o-1101")
    assert "LEDGER" not in cloud.items("o-1101")

    # WHEN its refund is requested
    execution = cloud.run("refund", refund_input("o-1101"), name="refund-run-1")

    # THEN the capture is refunded in full: "no ledger entry" does not mean "nothing captured"
    assert execution["status"] == "SUCCEEDED"
    _, data = refunded(cloud)
    assert (data.outcome, data.refund_id, data.amount_minor) == ("REFUNDED", "re_o-1101", 3300)
    assert cloud.items("o-1101")["GATEWAY#refund"]["status"] == "REFUNDED"


def test_a_hold_without_a_capture_is_voided(cloud: PaymentCloud) -> None:
    # GIVEN a payment stopped after Authorize: a hold, no capture
    held("o-1201")

    # WHEN its refund is requested
    execution = cloud.run("refund", refund_input("o-1201"), name="refund-run-1")

    # THEN the hold is released (no money was taken, so 0 went back) and reported as VOIDED
    assert execution["status"] == "SUCCEEDED"
    _, data = refunded(cloud)
    assert (data.outcome, data.payment_id, data.refund_id, data.amount_minor) == (
        "VOIDED",
        "pay_o-1201",
        None,
        0,
    )
    items = cloud.items("o-1201")
    assert items["GATEWAY#authorize"]["status"] == "VOIDED"
    assert "GATEWAY#refund" not in items
    assert items["REFUND"]["status"] == "VOIDED"


def test_a_hold_is_voided_even_when_the_card_refuses_refunds(cloud: PaymentCloud) -> None:
    # GIVEN a hold on a card whose issuer refuses refunds WHEN its refund is requested
    held("o-1301", token="tok_refundFails")
    cloud.run("refund", refund_input("o-1301"), name="refund-run-1")

    # THEN the void still succeeds: it is a release of the customer's own money, not a refund
    _, data = refunded(cloud)
    assert data.outcome == "VOIDED"


def test_nothing_held_is_a_successful_compensation(cloud: PaymentCloud) -> None:
    # GIVEN an order the processor never saw (the payment was stopped before Authorize)
    # WHEN its refund is requested
    execution = cloud.run("refund", refund_input("o-1401"), name="refund-run-1")

    # THEN PaymentRefunded says nothing was held, so nothing was taken
    assert execution["status"] == "SUCCEEDED"
    _, data = refunded(cloud)
    assert (data.outcome, data.payment_id, data.refund_id, data.amount_minor) == (
        "NOTHING_HELD",
        None,
        None,
        0,
    )
    assert cloud.items("o-1401")["REFUND"]["status"] == "NOTHING_HELD"


def test_a_declined_authorization_holds_nothing(cloud: PaymentCloud) -> None:
    # GIVEN an order whose payment was declined
    execution = cloud.run("payment", payment_input("o-1501", token="tok_chargeDeclined"), name="o-1501-p-1")
    assert execution["status"] == "SUCCEEDED"
    cloud.published()

    # WHEN its refund is requested THEN nothing was held
    cloud.run("refund", refund_input("o-1501"), name="refund-run-1")
    _, data = refunded(cloud)
    assert (data.outcome, data.amount_minor) == ("NOTHING_HELD", 0)


def test_rejected_refund_is_recorded_and_reported_as_refund_failed(cloud: PaymentCloud) -> None:
    # GIVEN an order paid with a card whose issuer refuses refunds
    paid(cloud, "o-3001", token="tok_refundFails")

    # WHEN its refund is requested (the controller's second compensation attempt)
    requested = refund_input("o-3001", compensation_attempt=2)
    execution = cloud.run("refund", requested, name="refund-run-1")

    # THEN RefundFailed tells the controller (which escalates) why, for this attempt; no retry was spent
    assert execution["status"] == "SUCCEEDED"
    [event] = published(cloud)
    assert event.detail_type == "RefundFailed"
    assert event.workflow == WorkflowContext.model_validate(requested["detail"]["workflow"])
    assert event.event_id == "evt-inv-o-3001:RefundRequested:RefundFailed"
    assert isinstance(event.data, RefundFailed)
    assert (event.data.reason, event.data.compensation_attempt) == ("REFUND_REJECTED", 2)
    assert "refused" in event.data.message
    assert cloud.retry_waits == []
    claim = cloud.items("o-3001")["REFUND"]
    assert (claim["status"], claim["failureReason"]) == ("FAILED", "REFUND_REJECTED")


# --- compensationAttempt is echoed ------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "echoed"), [(None, 1), (1, 1), (3, 3)])
def test_payment_refunded_echoes_the_compensation_attempt(
    cloud: PaymentCloud, given: int | None, echoed: int
) -> None:
    # GIVEN a request with that compensationAttempt (None: an event older than the field)
    paid(cloud, "o-5001")

    # WHEN it runs THEN the outcome echoes it, defaulting to 1
    cloud.run("refund", refund_input("o-5001", compensation_attempt=given), name="refund-run-1")
    _, data = refunded(cloud)
    assert data.compensation_attempt == echoed
    assert cloud.items("o-5001")["REFUND"]["compensationAttempt"] == str(echoed)


def test_refund_failed_of_an_old_request_echoes_attempt_one(cloud: PaymentCloud) -> None:
    paid(cloud, "o-5101", token="tok_refundFails")
    cloud.run("refund", refund_input("o-5101", compensation_attempt=None), name="refund-run-1")
    [event] = published(cloud)
    assert isinstance(event.data, RefundFailed)
    assert event.data.compensation_attempt == 1


# --- the claim: which request settles, which one only reports ----------------------------------------------
@pytest.mark.parametrize("first", ["REFUNDED", "VOIDED", "NOTHING_HELD", "FAILED"])
def test_a_redelivered_request_stops_at_the_claim(cloud: PaymentCloud, first: str) -> None:
    # GIVEN an order whose refund already ran to `first`
    if first == "REFUNDED":
        captured("o-2001")
    elif first == "VOIDED":
        held("o-2001")
    elif first == "FAILED":
        captured("o-2001", token="tok_refundFails")
    cloud.run("refund", refund_input("o-2001"), name="refund-run-1")
    assert cloud.items("o-2001")["REFUND"]["status"] == first
    cloud.published()

    # WHEN EventBridge delivers the same RefundRequested again (a new, unnamed execution)
    duplicate = cloud.run("refund", refund_input("o-2001"), name="refund-run-2")

    # THEN the duplicate stops at the claim: nothing settled again, nothing published again
    assert duplicate["status"] == "SUCCEEDED"
    assert cloud.states_entered(duplicate) == [
        "HasCompensationAttempt",
        "ClaimRefund",
        "ReadClaim",
        "ClaimedHow",
        "AlreadyClaimed",
    ]
    assert published(cloud) == []
    assert len(settle_calls(cloud)) == 1


def test_a_new_request_after_nothing_held_refunds_a_late_capture(cloud: PaymentCloud) -> None:
    # GIVEN a refund that found nothing held (the payment execution had not authorized yet)
    cloud.run("refund", request("o-2101", 1), name="refund-run-1")
    _, first = refunded(cloud)
    assert first.outcome == "NOTHING_HELD"

    # AND the payment execution went on to capture after all (a late PaymentProcessed)
    paid(cloud, "o-2101")

    # WHEN the controller requests the refund again
    execution = cloud.run("refund", request("o-2101", 2), name="refund-run-2")

    # THEN the capture is refunded and the outcome answers the new request
    assert execution["status"] == "SUCCEEDED"
    event, data = refunded(cloud)
    assert (data.outcome, data.amount_minor, data.compensation_attempt) == ("REFUNDED", 3300, 2)
    assert event.event_id == "evt-o-2101-comp-2:RefundRequested:PaymentRefunded"
    claim = cloud.items("o-2101")["REFUND"]
    assert (claim["status"], claim["requestEventId"]) == ("REFUNDED", "evt-o-2101-comp-2:RefundRequested")


def test_a_new_request_after_a_void_refunds_a_capture_of_a_later_attempt(cloud: PaymentCloud) -> None:
    # GIVEN a refund that voided a hold
    held("o-2201")
    cloud.run("refund", request("o-2201", 1), name="refund-run-1")
    assert refunded(cloud)[1].outcome == "VOIDED"

    # AND a later payment attempt authorized and captured again
    paid(cloud, "o-2201", attempt=2)

    # WHEN the controller requests the refund again THEN that capture is refunded
    cloud.run("refund", request("o-2201", 2), name="refund-run-2")
    _, data = refunded(cloud)
    assert (data.outcome, data.amount_minor, data.compensation_attempt) == ("REFUNDED", 3300, 2)


def test_an_operator_retry_after_a_failure_settles_again(
    cloud: PaymentCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a captured order whose refund failed because the processor stayed down
    captured("o-2301")
    original = SandboxGateway.settle

    def down(self: SandboxGateway, order_id: str, *, call: GatewayCall) -> None:
        raise PaymentGatewayUnavailableError("refund endpoint down")

    monkeypatch.setattr(SandboxGateway, "settle", down)
    cloud.run("refund", request("o-2301", 1), name="refund-run-1")
    [failed] = published(cloud)
    assert isinstance(failed.data, RefundFailed)
    assert (failed.data.reason, failed.data.compensation_attempt) == ("GATEWAY_ERROR", 1)

    # WHEN the processor is back and an operator retries (a new request)
    monkeypatch.setattr(SandboxGateway, "settle", original)
    cloud.run("refund", request("o-2301", 2), name="refund-run-2")

    # THEN the capture is refunded, once
    _, data = refunded(cloud)
    assert (data.outcome, data.amount_minor, data.compensation_attempt) == ("REFUNDED", 3300, 2)
    assert cloud.items("o-2301")["REFUND"]["status"] == "REFUNDED"


def test_a_new_request_after_a_refund_re_announces_it_without_refunding_again(cloud: PaymentCloud) -> None:
    # GIVEN an order already refunded for compensation attempt 1
    paid(cloud, "o-2401")
    cloud.run("refund", request("o-2401", 1), name="refund-run-1")
    _, first = refunded(cloud)

    # WHEN the controller sends another RefundRequested (attempt 2: it did not see the first outcome)
    execution = cloud.run("refund", request("o-2401", 2), name="refund-run-2")

    # THEN the recorded refund is announced again for attempt 2, with an id derived from the new request
    assert execution["status"] == "SUCCEEDED"
    event, data = refunded(cloud)
    assert (data.outcome, data.payment_id, data.refund_id, data.amount_minor) == (
        first.outcome,
        first.payment_id,
        first.refund_id,
        first.amount_minor,
    )
    assert data.compensation_attempt == 2
    assert event.event_id == "evt-o-2401-comp-2:RefundRequested:PaymentRefunded"
    assert event.metadata.causation_id == "evt-o-2401-comp-2:RefundRequested"
    # AND nothing was settled again
    assert len(settle_calls(cloud)) == 1
    assert "SettlePayment" not in cloud.states_entered(execution)


def test_a_legacy_refund_claim_is_re_announced_from_its_attributes(cloud: PaymentCloud) -> None:
    # GIVEN a refund recorded by the previous version of the machine (no settlement JSON)
    cloud.dynamodb.put_item(
        TableName="payments",
        Item={
            "pk": {"S": "ORDER#o-2501"},
            "sk": {"S": "REFUND"},
            "status": {"S": "REFUNDED"},
            "requestEventId": {"S": "evt-old:RefundRequested"},
            "paymentId": {"S": "pay_o-2501"},
            "refundId": {"S": "re_o-2501"},
            "amountMinor": {"N": "3300"},
        },
    )

    # WHEN a new request arrives THEN the recorded refund is announced for it
    cloud.run("refund", request("o-2501", 2), name="refund-run-1")
    _, data = refunded(cloud)
    assert (data.outcome, data.refund_id, data.amount_minor, data.compensation_attempt) == (
        "REFUNDED",
        "re_o-2501",
        3300,
        2,
    )
    assert settle_calls(cloud) == []


def claim_held_by(order_id: str, n: int, cloud: PaymentCloud) -> None:
    """The claim as request n's execution left it after ClaimRefund: REQUESTED, not settled yet."""
    cloud.dynamodb.put_item(
        TableName="payments",
        Item={
            "pk": {"S": f"ORDER#{order_id}"},
            "sk": {"S": "REFUND"},
            "status": {"S": "REQUESTED"},
            "requestEventId": {"S": f"evt-{order_id}-comp-{n}:RefundRequested"},
            "compensationAttempt": {"N": str(n)},
        },
    )


CLAIM_WAITS = 90  # ClaimWaitExhausted's bound
CLAIM_WAIT_SECONDS = 10  # WaitForClaim


def test_a_new_request_waits_for_the_settling_execution_and_answers_with_its_own_attempt(
    cloud: PaymentCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN request 1's execution, claimed and settling (its settle call blocks until released)
    captured("o-2601")
    original = SandboxGateway.settle
    release = threading.Event()

    def slow(self: SandboxGateway, order_id: str, *, call: GatewayCall) -> Any:
        assert release.wait(10)
        return original(self, order_id, call=call)

    monkeypatch.setattr(SandboxGateway, "settle", slow)
    first = cloud.start("refund", request("o-2601", 1), name="refund-run-1")
    for _ in range(1000):
        if settle_calls(cloud):
            break
        time.sleep(0.01)
    assert cloud.items("o-2601")["REFUND"]["status"] == "REQUESTED"

    # AND request 1's execution finishes while request 2's waits
    def finish_first(waits: int) -> None:
        release.set()
        assert cloud.finished(first)["status"] == "SUCCEEDED"

    cloud.on_wait = finish_first

    # WHEN request 2 (compensation attempt 2) arrives
    execution = cloud.run("refund", request("o-2601", 2), name="refund-run-2")

    # THEN it waited once, found the refund recorded and announced it for attempt 2, without settling
    assert execution["status"] == "SUCCEEDED"
    assert cloud.waits == [CLAIM_WAIT_SECONDS]
    states = cloud.states_entered(execution)
    assert states[states.index("StartClaimWait") :] == [
        "StartClaimWait",
        "WaitForClaim",
        "ReadClaim",
        "ClaimedHow",
        "HasRecordedSettlement",
        "RecallSettlement",
        "UseRecordedSettlement",
        "PublishPaymentRefunded",
    ]
    events = published(cloud)
    outcomes = [e.data for e in events]
    assert all(isinstance(o, PaymentRefunded) for o in outcomes)
    assert [(e.data.compensation_attempt, e.event_id) for e in events] == [  # type: ignore[attr-defined]
        (1, "evt-o-2601-comp-1:RefundRequested:PaymentRefunded"),
        (2, "evt-o-2601-comp-2:RefundRequested:PaymentRefunded"),
    ]
    assert outcomes[0] == outcomes[1].model_copy(update={"compensation_attempt": 1})
    assert len(settle_calls(cloud)) == 1
    assert cloud.items("o-2601")["REFUND"]["requestEventId"] == "evt-o-2601-comp-1:RefundRequested"


def test_a_new_request_settles_again_when_the_awaited_claim_gave_nothing_back(cloud: PaymentCloud) -> None:
    # GIVEN request 1's claim, REQUESTED; while request 2 waits it closes as NOTHING_HELD ...
    claim_held_by("o-2651", 1, cloud)

    def nothing_held_then_captured(waits: int) -> None:
        cloud.dynamodb.update_item(
            TableName="payments",
            Key={"pk": {"S": "ORDER#o-2651"}, "sk": {"S": "REFUND"}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "NOTHING_HELD"}},
        )
        captured("o-2651")  # ... and a late capture took money after that settlement

    cloud.on_wait = nothing_held_then_captured

    # WHEN request 2 runs THEN it claims again, refunds the capture and answers attempt 2
    cloud.run("refund", request("o-2651", 2), name="refund-run-2")
    _, data = refunded(cloud)
    assert (data.outcome, data.amount_minor, data.compensation_attempt) == ("REFUNDED", 3300, 2)
    assert cloud.items("o-2651")["REFUND"]["requestEventId"] == "evt-o-2651-comp-2:RefundRequested"


def test_a_claim_stuck_in_requested_is_taken_over_after_the_bound_and_settled_once(
    cloud: PaymentCloud,
) -> None:
    # GIVEN a claim whose execution died after claiming (no Catch around RecordSettlement, a timeout, a stop)
    captured("o-2701")
    claim_held_by("o-2701", 1, cloud)

    # WHEN request 2 arrives
    execution = cloud.run("refund", request("o-2701", 2), name="refund-run-2")

    # THEN it waits the whole bound (15 min, longer than any live refund execution), takes over, settles
    assert execution["status"] == "SUCCEEDED"
    assert cloud.waits == [CLAIM_WAIT_SECONDS] * CLAIM_WAITS
    states = cloud.states_entered(execution)
    assert states.count("StartClaimWait") == 1
    assert states.count("CountClaimWait") == CLAIM_WAITS - 1
    assert states[-4:] == ["TakeOverClaim", "SettlePayment", "RecordSettlement", "PublishPaymentRefunded"]
    # AND the outcome is announced once, for attempt 2
    event, data = refunded(cloud)
    assert (data.outcome, data.refund_id, data.amount_minor, data.compensation_attempt) == (
        "REFUNDED",
        "re_o-2701",
        3300,
        2,
    )
    assert event.event_id == "evt-o-2701-comp-2:RefundRequested:PaymentRefunded"
    claim = cloud.items("o-2701")["REFUND"]
    assert (claim["status"], claim["requestEventId"], claim["compensationAttempt"]) == (
        "REFUNDED",
        "evt-o-2701-comp-2:RefundRequested",
        "2",
    )
    assert claim["takenOverFrom"] == "evt-o-2701-comp-1:RefundRequested"
    # AND a late finish of the old execution replays the same refund: settle is idempotent per order
    late = gateway_module.GATEWAY.settle("o-2701", call=GatewayCall("old-refund-execution", "o-2701:settle"))
    assert (late.refund_id, late.amount_minor) == ("re_o-2701", 3300)
    assert len(settle_calls(cloud)) == 1


def test_the_wait_restarts_when_another_request_takes_the_claim_over(cloud: PaymentCloud) -> None:
    # GIVEN request 1's claim, stuck; while request 3 waits, request 2 takes it over (and then dies too)
    captured("o-2751")
    claim_held_by("o-2751", 1, cloud)
    cloud.on_wait = lambda waits: claim_held_by("o-2751", 2, cloud) if waits == 5 else None

    # WHEN request 3 runs THEN it waits the full bound for the new holder before taking over from it
    execution = cloud.run("refund", request("o-2751", 3), name="refund-run-3")
    assert execution["status"] == "SUCCEEDED"
    assert len(cloud.waits) == 5 + CLAIM_WAITS  # 5 for request 1, then the full bound for request 2
    _, data = refunded(cloud)
    assert data.compensation_attempt == 3
    assert cloud.items("o-2751")["REFUND"]["takenOverFrom"] == "evt-o-2751-comp-2:RefundRequested"


def test_a_request_that_loses_the_take_over_race_waits_for_the_winner(
    cloud: PaymentCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN request 1's stuck claim, awaited by request 2, and request 3 taking it over between request 2's
    # last read and its own take-over (so request 2's conditional write, naming request 1, fails)
    captured("o-2801")
    claim_held_by("o-2801", 1, cloud)
    put_item = DynamoDBBackend.put_item

    def request_3_first(self: DynamoDBBackend, table: str, item_attrs: dict[str, Any], *args: Any) -> Any:
        if "takenOverFrom" in item_attrs:
            claim_held_by("o-2801", 3, cloud)
        return put_item(self, table, item_attrs, *args)

    monkeypatch.setattr(DynamoDBBackend, "put_item", request_3_first)

    def request_3_settles(waits: int) -> None:
        if waits == CLAIM_WAITS + 1:  # request 2 waits again, for request 3, which settles meanwhile
            settlement = gateway_module.GATEWAY.settle(
                "o-2801", call=GatewayCall("request-3", "o-2801:settle")
            )
            recorded = {
                "outcome": settlement.outcome.value,
                "paymentId": settlement.payment_id,
                "refundId": settlement.refund_id,
                "amountMinor": settlement.amount_minor,
            }
            cloud.dynamodb.update_item(
                TableName="payments",
                Key={"pk": {"S": "ORDER#o-2801"}, "sk": {"S": "REFUND"}},
                UpdateExpression="SET #s = :s, settlement = :j",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "REFUNDED"}, ":j": {"S": json.dumps(recorded)}},
            )

    cloud.on_wait = request_3_settles

    # WHEN request 2's bound runs out
    execution = cloud.run("refund", request("o-2801", 2), name="refund-run-2")

    # THEN its take-over fails, it waits for request 3 and re-announces request 3's refund for attempt 2
    assert execution["status"] == "SUCCEEDED"
    states = cloud.states_entered(execution)
    i = states.index("TakeOverClaim")
    assert states[i : i + 6] == [
        "TakeOverClaim",
        "ReadClaim",
        "ClaimedHow",
        "ClaimWaitStarted",
        "SameClaimHolder",
        "StartClaimWait",
    ]
    assert "SettlePayment" not in states
    assert settle_calls(cloud) == []
    _, data = refunded(cloud)
    assert (data.refund_id, data.amount_minor, data.compensation_attempt) == ("re_o-2801", 3300, 2)
    assert cloud.items("o-2801")["REFUND"]["requestEventId"] == "evt-o-2801-comp-3:RefundRequested"


def test_a_redelivered_request_stops_silently_while_its_claim_is_requested(cloud: PaymentCloud) -> None:
    # GIVEN request 1's claim, REQUESTED: its execution is settling
    captured("o-2901")
    claim_held_by("o-2901", 1, cloud)

    # WHEN EventBridge delivers request 1 again
    execution = cloud.run("refund", request("o-2901", 1), name="refund-run-2")

    # THEN the duplicate stops at the claim: no wait, no settle, nothing published
    assert execution["status"] == "SUCCEEDED"
    assert cloud.states_entered(execution)[-1] == "AlreadyClaimed"
    assert cloud.waits == []
    assert published(cloud) == []
    assert settle_calls(cloud) == []
    assert cloud.items("o-2901")["REFUND"]["status"] == "REQUESTED"
