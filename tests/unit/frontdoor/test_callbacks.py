"""Decisions on callback steps through the front door: every answer, and what each changes.

The workflow is declared here, in no one's domain: ``approve`` is decided by people (a human step),
``confirm`` is a consumer's step that waits for a decision, ``sign`` a state machine's step paused on a
task token, ``work`` a plain consumer step that takes no callbacks. The workflows and callbacks tables
are moto's; the bus is an in-memory publisher, Step Functions a fake that records the token answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import Field

from frontdoor.api import FrontDoor
from frontdoor.callbacks import Callbacks
from frontdoor.claims import CallbackTable, Claimed, decision_sk, token_sk
from frontdoor.decisions import Decision
from frontdoor.delivery import DecisionDelivery
from frontdoor.routes import build_app
from workflow_core import clock
from workflow_core.catalog import EventType
from workflow_core.definition import Callback, Step, WorkflowDefinition, consumer, human, state_machine
from workflow_core.envelope import ContractModel
from workflow_core.errors import PublishError
from workflow_core.executions import execution_name
from workflow_core.publisher import EventPublisher, OutgoingEvent, RecordingPublisher
from workflow_core.registry import Registry
from workflow_core.workflow_state import StepState, StepStatus, WorkflowState, WorkflowStatus

MakeRequest = Callable[..., dict[str, Any]]
WF = "case-1"
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Opened(ContractModel):
    case_id: str


class Outcome(ContractModel):
    case_id: str


class Ticket(ContractModel):
    """What a partner may send with a confirmation (the confirm step's declared details)."""

    ticket: str | None = Field(default=None, pattern=r"^T-[0-9]{1,8}$")


SOURCE = "tests.cases"
EVENTS = (
    EventType("Opened", "tests.outside", {1: Opened}),
    *(EventType(name, SOURCE, {1: Outcome}) for name in ("Worked", "WorkFailed", "Confirmed", "Unconfirmed")),
    *(EventType(name, "tests.signing", {1: Outcome}) for name in ("Signed", "SignFailed")),
)
CASE = WorkflowDefinition(
    name="case",
    version=1,
    start_event="Opened",
    subject_id="case_id",
    steps=(
        Step(
            name="work",
            runner=consumer("desk"),
            started_by="WorkflowStarted",
            completed_by="Worked",
            failed_by="WorkFailed",
            deadline=timedelta(minutes=5),
        ),
        Step(
            name="approve",
            runner=human(),
            after=("work",),
            deadline=timedelta(hours=48),
            callback=Callback(approvers="officers", reminder=timedelta(hours=24)),
        ),
        Step(
            name="confirm",
            runner=consumer("desk"),
            after=("work",),
            completed_by="Confirmed",
            failed_by="Unconfirmed",
            deadline=timedelta(hours=24),
            callback=Callback(approvers="partners", details=Ticket),
        ),
        Step(
            name="sign",
            runner=state_machine("signing"),
            after=("work",),
            completed_by="Signed",
            failed_by="SignFailed",
            deadline=timedelta(hours=1),
            callback=Callback(approvers="officers"),
        ),
    ),
    events=EVENTS,
)


def state(
    *, status: WorkflowStatus = WorkflowStatus.RUNNING, **steps: tuple[StepStatus, int]
) -> WorkflowState:
    """An instance with ``work`` completed and each callback step RUNNING at attempt 1 unless given."""
    shape = {"work": (StepStatus.COMPLETED, 1)} | {
        name: steps.get(name, (StepStatus.RUNNING, 1)) for name in ("approve", "confirm", "sign")
    }
    return WorkflowState(
        workflow_id=WF,
        workflow_type="case",
        definition_version=1,
        status=status,
        created_at=NOW,
        updated_at=NOW,
        subject={"caseId": WF},
        steps={
            name: StepState(
                status=st,
                attempt=attempt,
                output={"caseId": WF} if st is StepStatus.COMPLETED else None,
            )
            for name, (st, attempt) in shape.items()
        },
    )


class FakeStates:
    """Step Functions' SendTaskSuccess: records each answer, or refuses with ``error``."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.error: str | None = None

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:  # noqa: N803 - boto3's
        if self.error is not None:
            raise ClientError({"Error": {"Code": self.error, "Message": "refused"}}, "SendTaskSuccess")
        self.answers.append({"taskToken": taskToken, "output": json.loads(output)})
        return {}


class SwitchablePublisher(EventPublisher):
    def __init__(self) -> None:
        self.recorded = RecordingPublisher()
        self.failing = False

    def publish(self, events: Any) -> None:
        if self.failing:
            raise PublishError("PutEvents rejected StepDecided: ThrottlingException")
        self.recorded.publish(events)

    @property
    def events(self) -> list[OutgoingEvent]:
        return self.recorded.events


class Door:
    """The callback routes over moto's callbacks table, an instance store, a publisher and Step Functions."""

    def __init__(self, table: Any, claims: CallbackTable | None = None) -> None:
        self.table = table
        self.states: dict[str, WorkflowState] = {WF: state()}
        self.publisher = SwitchablePublisher()
        self.sfn = FakeStates()
        self.claims = claims or CallbackTable(table)
        self.callbacks = Callbacks(
            state_reader=self.states.get,
            claims=self.claims,
            delivery=DecisionDelivery(publisher=self.publisher, states=self.sfn),
            registry=Registry([CASE]),
        )
        self.app = build_app(
            FrontDoor(publisher=self.publisher, status_reader=lambda _: None, registry=Registry([CASE])),
            logger=Logger(service="test"),
            callbacks=self.callbacks,
        )

    def decide(
        self, step: str, verdict: str, body: Any = None, *, who: str = ALICE, workflow_id: str = WF
    ) -> tuple[int, dict[str, Any]]:
        request = _request(f"/workflows/{workflow_id}/steps/{step}/{verdict}", body, who)
        response = self.app.resolve(request, None)  # type: ignore[arg-type]
        return response["statusCode"], json.loads(response["body"])

    def pause(self, step: str = "sign", attempt: int = 1, token: str = "token-1") -> None:
        """The state machine's ``putItem.waitForTaskToken`` task: its execution waits for the decision."""
        self.table.put_item(
            Item={
                "workflowId": WF,
                "sk": token_sk(step, execution_name(WF, step, attempt)),
                "execution": execution_name(WF, step, attempt),
                "taskToken": token,
            }
        )

    def claim_of(self, step: str, attempt: int = 1) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.table.get_item(
            Key={"workflowId": WF, "sk": decision_sk(step, attempt)}
        ).get("Item")
        return item


def _request(path: str, body: Any, who: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "authorizer": {"iam": {"userArn": who, "callerId": who.rsplit("/", 1)[-1]}},
            "domainName": "api.local",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Mar/2026:12:00:00 +0000",
            "timeEpoch": 1772366400000,
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


@pytest.fixture(autouse=True)
def frozen_clock() -> Any:
    previous = clock.install(lambda: NOW)
    yield
    clock.install(previous)


@pytest.fixture
def door(callbacks_table: Any) -> Door:
    return Door(callbacks_table)


# --- 202 ------------------------------------------------------------------------------------------------
def test_an_approval_of_a_human_step_publishes_step_decided_in_the_instances_context(door: Door) -> None:
    # WHEN an approver completes the waiting human step, with details
    code, body = door.decide("approve", "complete", {"details": {"ticket": "T-9", "score": 3}})
    # THEN 202 names who decided what, for which attempt, and where to follow the workflow
    assert code == 202
    assert body == {
        "workflowId": WF,
        "step": "approve",
        "attempt": 1,
        "decision": "complete",
        "decidedBy": ALICE,
        "statusPath": f"/workflows/{WF}",
    }
    # AND StepDecided goes on the bus from workflow.callback, with one id per step attempt, in the
    # instance's context (so the rules matching its workflow route it to the controller)
    (event,) = door.publisher.events
    assert (event.detail_type, event.source) == ("StepDecided", "workflow.callback")
    assert event.metadata.event_id == f"decision:{WF}:approve:1"
    assert event.metadata.correlation_id == WF
    detail = event.detail()
    assert detail["workflow"] == {
        "name": "case",
        "version": 1,
        "subject": {"caseId": WF},
        "outputs": {"work": {"caseId": WF}},
    }
    assert detail["data"] == {
        "workflowId": WF,
        "step": "approve",
        "attempt": 1,
        "decision": "complete",
        "decidedBy": ALICE,
        "decidedAt": "2026-03-01T12:00:00Z",
        "details": {"ticket": "T-9", "score": 3},
    }
    # AND the claim records the decision, and that it was delivered
    claim = door.claim_of("approve")
    assert claim is not None
    assert (claim["decision"], claim["decidedBy"]) == ("complete", ALICE)
    assert claim["eventId"] == event.metadata.event_id
    assert "deliveredAt" in claim


def test_a_rejection_carries_its_reason(door: Door) -> None:
    code, body = door.decide("approve", "reject", {"reason": "documents forged"})
    assert code == 202
    assert body["decision"] == "reject"
    (event,) = door.publisher.events
    assert event.detail()["data"]["reason"] == "documents forged"


def test_a_consumer_steps_decision_is_published_for_the_consumer(door: Door) -> None:
    code, _ = door.decide("confirm", "complete", {"reason": "booked by phone"})
    assert code == 202
    (event,) = door.publisher.events
    assert event.detail()["data"]["step"] == "confirm"


def test_a_paused_state_machine_gets_its_task_token_answered_with_the_decision(door: Door) -> None:
    # GIVEN the sign step's execution paused on a task token
    door.pause("sign", token="token-1")
    # WHEN an officer rejects it
    code, body = door.decide("sign", "reject", {"reason": "wrong signatory", "details": {"ref": "R1"}})
    # THEN 202, and the token is answered with success, carrying the decision for the machine's Choice
    assert code == 202
    assert body["decision"] == "reject"
    assert door.sfn.answers == [
        {
            "taskToken": "token-1",
            "output": {
                "decision": "reject",
                "decidedBy": ALICE,
                "reason": "wrong signatory",
                "decidedAt": "2026-03-01T12:00:00Z",
                "details": {"ref": "R1"},
            },
        }
    ]
    assert door.publisher.events == []  # the machine publishes the step's outcome itself


# --- 400 / 404 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("verdict", "body", "field"),
    [
        ("reject", None, "reason"),
        ("reject", {"details": {"a": 1}}, "reason"),
        ("complete", {"reason": "x" * 1001}, "reason"),
        ("complete", {"details": {f"k{i}": i for i in range(21)}}, "details"),
        ("complete", {"details": {"nested": {"a": 1}}}, "details"),
        ("complete", {"details": {"note": "x" * 501}}, "details"),
        ("complete", {"verdict": "yes"}, "verdict"),
        ("reject", {"reason": "   "}, "reason"),  # blanks are no reason
        ("complete", '{"details": {"x": 1e400}}', "details"),  # parses to infinity: no AWS API takes it
    ],
)
def test_an_invalid_decision_is_400_and_claims_nothing(
    door: Door, verdict: str, body: Any, field: str
) -> None:
    code, answer = door.decide("approve", verdict, body)
    assert code == 400
    assert answer["error"] == "InvalidRequest"
    assert any(f["field"].startswith(field) for f in answer["fields"]), answer
    assert door.claim_of("approve") is None
    assert door.publisher.events == []


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"tiket": "T-1"}, "details.tiket"),
        ({"ticket": "1234"}, "details.ticket"),
        ({"ticket": 7}, "details.ticket"),
    ],
)
def test_a_completion_whose_details_the_step_does_not_declare_is_400_and_claims_nothing(
    door: Door, details: dict[str, Any], field: str
) -> None:
    # The confirm step declares its details (Ticket): a typo is the caller's 400, not a decision the
    # consumer would have to refuse after it was claimed (and nobody could correct)
    code, answer = door.decide("confirm", "complete", {"details": details})
    assert code == 400
    assert [f["field"] for f in answer["fields"]] == [field]
    assert door.claim_of("confirm") is None
    assert door.publisher.events == []
    # declared details are accepted, and a rejection's details are the decider's record, not checked
    assert door.decide("confirm", "complete", {"details": {"ticket": "T-42"}})[0] == 202


def test_a_rejection_is_not_held_to_the_completion_details(door: Door) -> None:
    assert door.decide("confirm", "reject", {"reason": "no slot", "details": {"tiket": "x"}})[0] == 202


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_with_a_number_json_does_not_have_is_400_and_claims_nothing(door: Door, constant: str) -> None:
    # Python's json reads these; EventBridge and Step Functions refuse them: a claimed decision carrying
    # one could never be delivered, and would block every later decision on the step
    code, answer = door.decide("approve", "complete", f'{{"details": {{"x": {constant}}}}}')
    assert code == 400
    assert constant in answer["message"]
    assert door.claim_of("approve") is None


@pytest.mark.parametrize("number", [str(2**64), str(-(2**63) - 1)])
def test_a_detail_the_event_bus_refuses_is_400_and_claims_nothing(door: Door, number: str) -> None:
    # EventBridge refuses integers past 64 bits (MalformedDetail): a claimed decision carrying one could
    # never be delivered, and would block every later decision on the step
    code, answer = door.decide("approve", "complete", f'{{"details": {{"x": {number}}}}}')
    assert (code, answer["error"]) == (400, "InvalidRequest")
    assert door.claim_of("approve") is None
    assert door.publisher.events == []


def test_a_body_that_is_not_json_is_400(door: Door) -> None:
    code, answer = door.decide("approve", "complete", "{nope")
    assert (code, answer["error"]) == (400, "InvalidRequest")


def test_an_unknown_workflow_is_404(door: Door) -> None:
    code, answer = door.decide("approve", "complete", workflow_id="case-404")
    assert (code, answer["error"]) == (404, "WorkflowNotFound")


@pytest.mark.parametrize(
    ("step", "says"),
    [("teleport", "has no step 'teleport'"), ("work", "step 'work' of a case workflow takes no callbacks")],
)
def test_a_step_without_callbacks_is_404(door: Door, step: str, says: str) -> None:
    code, answer = door.decide(step, "complete")
    assert (code, answer["error"]) == (404, "StepNotFound")
    assert says in answer["message"]


# --- 409 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status", [WorkflowStatus.COMPENSATED, WorkflowStatus.FAILED, WorkflowStatus.COMPENSATING]
)
def test_a_decision_after_the_workflow_stopped_running_is_409_and_changes_nothing(
    door: Door, status: WorkflowStatus
) -> None:
    door.states[WF] = state(status=status)
    code, answer = door.decide("approve", "complete")
    assert (code, answer["error"]) == (409, "WorkflowNotRunning")
    assert answer["message"] == f"workflow '{WF}' is {status.value}; the decision changes nothing"
    assert door.claim_of("approve") is None
    assert door.publisher.events == []


@pytest.mark.parametrize(
    "status",
    [StepStatus.PENDING, StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.CANCELLED, StepStatus.FAILED],
)
def test_a_step_that_is_not_waiting_is_409(door: Door, status: StepStatus) -> None:
    door.states[WF] = state(approve=(status, 0 if status is StepStatus.PENDING else 1))
    code, answer = door.decide("approve", "complete")
    assert (code, answer["error"]) == (409, "StepNotWaiting")
    assert answer["message"] == f"step 'approve' is {status.value}: it is not waiting for a decision"
    assert door.publisher.events == []


def test_a_decision_taken_by_someone_else_is_409_with_who_decided_and_when(door: Door) -> None:
    assert door.decide("approve", "complete", who=ALICE)[0] == 202
    code, answer = door.decide("approve", "reject", {"reason": "no"}, who=BOB)
    assert (code, answer["error"]) == (409, "AlreadyDecided")
    assert answer["message"] == f"already decided: complete by {ALICE} at 2026-03-01T12:00:00+00:00"
    # AND the same caller changing their mind is refused the same way: a decision is taken once
    assert door.decide("approve", "reject", {"reason": "oops"}, who=ALICE)[0] == 409
    assert len(door.publisher.events) == 1


def test_two_approvers_racing_one_wins_the_claim(callbacks_table: Any) -> None:
    """Bob's request read no claim, then Alice's conditional write landed before his: his write fails."""

    class AliceFirst(CallbackTable):
        def claim(self, decision: Decision) -> Claimed | None:
            if decision.decided_by == BOB:
                assert super().claim(decision.model_copy(update={"decided_by": ALICE})) is None
            return super().claim(decision)

    door = Door(callbacks_table, claims=AliceFirst(callbacks_table))
    code, answer = door.decide("approve", "complete", who=BOB)
    assert (code, answer["error"]) == (409, "AlreadyDecided")
    assert f"by {ALICE}" in answer["message"]
    assert door.publisher.events == []  # the loser delivers nothing (Alice's own request delivers hers)


def test_the_same_callers_retry_is_answered_202_again_without_a_second_delivery(door: Door) -> None:
    first = door.decide("approve", "complete", {"reason": "fine"})
    # the controller has not processed it yet, or it has: either way the retry gets the same answer
    again = door.decide("approve", "complete", {"reason": "fine"})
    assert first == again
    assert first[0] == 202
    assert len(door.publisher.events) == 1
    door.states[WF] = state(status=WorkflowStatus.COMPLETED, approve=(StepStatus.COMPLETED, 1))
    assert door.decide("approve", "complete")[0] == 202  # even once the decision completed the workflow


def test_a_delivery_that_fails_answers_503_and_the_same_callers_retry_delivers_it(door: Door) -> None:
    # GIVEN the bus refuses the first delivery
    door.publisher.failing = True
    code, answer = door.decide("approve", "complete")
    # THEN 503: the claim stays (nobody else can decide this attempt), nothing was delivered
    assert (code, answer["error"]) == (503, "DeliveryFailed")
    claim = door.claim_of("approve")
    assert claim is not None
    assert "deliveredAt" not in claim
    assert door.decide("approve", "complete", who=BOB)[0] == 409
    # WHEN the same caller retries once the bus is back THEN the decision is delivered, once
    door.publisher.failing = False
    assert door.decide("approve", "complete")[0] == 202
    assert [e.metadata.event_id for e in door.publisher.events] == [f"decision:{WF}:approve:1"]
    assert "deliveredAt" in (door.claim_of("approve") or {})


def test_an_undelivered_claim_is_not_delivered_after_the_workflow_ended(door: Door) -> None:
    door.publisher.failing = True
    assert door.decide("approve", "complete")[0] == 503
    door.publisher.failing = False
    door.states[WF] = state(status=WorkflowStatus.COMPENSATED, approve=(StepStatus.CANCELLED, 1))
    code, answer = door.decide("approve", "complete")
    assert (code, answer["error"]) == (409, "WorkflowNotRunning")
    assert door.publisher.events == []


def test_a_new_attempt_of_the_step_takes_a_new_decision(door: Door) -> None:
    assert door.decide("approve", "reject", {"reason": "incomplete"})[0] == 202
    door.states[WF] = state(approve=(StepStatus.RUNNING, 2))  # an operator retried the step
    code, body = door.decide("approve", "complete", who=BOB)
    assert (code, body["attempt"]) == (202, 2)
    assert door.publisher.events[-1].metadata.event_id == f"decision:{WF}:approve:2"


# --- task tokens --------------------------------------------------------------------------------------
def test_a_machine_that_has_not_paused_yet_is_409_and_nothing_is_claimed(door: Door) -> None:
    code, answer = door.decide("sign", "complete")
    assert (code, answer["error"]) == (409, "ExecutionNotWaiting")
    assert "not waiting for a decision yet" in answer["message"]
    assert door.claim_of("sign") is None  # another approver may decide once it pauses
    door.pause("sign")
    assert door.decide("sign", "complete", who=BOB)[0] == 202


def test_a_token_of_an_earlier_attempts_execution_is_stale(door: Door) -> None:
    door.states[WF] = state(sign=(StepStatus.RUNNING, 2))
    door.pause("sign", attempt=1)  # attempt 2's execution has not paused yet
    code, answer = door.decide("sign", "complete")
    assert (code, answer["error"]) == (409, "ExecutionNotWaiting")
    assert door.sfn.answers == []


def test_a_stopped_attempts_late_token_write_does_not_hide_the_current_attempts_token(door: Door) -> None:
    # GIVEN attempt 2 paused, then attempt 1's token write (in flight when it was stopped) lands after it
    door.states[WF] = state(sign=(StepStatus.RUNNING, 2))
    door.pause("sign", attempt=2, token="token-2")
    door.pause("sign", attempt=1, token="token-1")
    # WHEN an officer decides THEN the current attempt's token is answered, not refused as stale
    code, _ = door.decide("sign", "complete")
    assert code == 202
    assert [answer["taskToken"] for answer in door.sfn.answers] == ["token-2"]


@pytest.mark.parametrize("error", ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"])
def test_a_token_nobody_waits_on_is_409(door: Door, error: str) -> None:
    door.pause("sign")
    door.sfn.error = error
    code, answer = door.decide("sign", "complete")
    assert (code, answer["error"]) == (409, "ExecutionNotWaiting")
    assert answer["message"] == f"the step's execution is no longer waiting for a decision ({error})"


def test_a_throttled_token_answer_is_503_and_the_retry_answers_it(door: Door) -> None:
    door.pause("sign")
    door.sfn.error = "ThrottlingException"
    code, answer = door.decide("sign", "complete")
    assert (code, answer["error"]) == (503, "DeliveryFailed")
    door.sfn.error = None
    assert door.decide("sign", "complete")[0] == 202
    assert len(door.sfn.answers) == 1
    # a retry after delivery does not answer the token again (Step Functions would refuse it)
    assert door.decide("sign", "complete")[0] == 202
    assert len(door.sfn.answers) == 1


def test_a_caller_without_an_iam_identity_is_403(door: Door) -> None:
    request = _request(f"/workflows/{WF}/steps/approve/complete", None, ALICE)
    request["requestContext"]["authorizer"]["iam"] = {"userArn": None, "callerId": None}
    response = door.app.resolve(request, None)  # type: ignore[arg-type]
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"] == "CallerUnknown"
