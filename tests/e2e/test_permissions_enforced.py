"""The template's permissions, enforced locally: a missing grant fails here the way it fails in AWS.

Each test takes the shipped template, removes (or adds) one grant of one kind — an identity statement,
a queue policy, the bus policy, a topic policy, a key policy statement, a trust policy, a function's
resource policy — and runs real orders on the local cloud: the call or the hop is refused, the failure
goes where AWS sends it (the handler's error and the queue's DLQ, the rule target's DLQ, a refused alarm
notification), and the refusal is recorded. The shipped template runs with no refusal at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulations.order.driver import START_PATH, OrderDriver
from simulations.order.scenarios import SCENARIOS, initial_stock, order_for
from tests.e2e.grants import admit_rule_to_queue
from tests.e2e.mutations import (
    Template,
    actions,
    allows_service,
    drop_statements,
    mutated,
    resources,
    statements,
    without_action,
)
from workflowkit import LocalCloud
from workflowkit.access import Denial
from workflowkit.cli import main
from workflowkit.simulator.report import ledger_figures


@dataclass
class Run:
    statuses: dict[str, str]
    denials: list[Denial]
    figures: dict[str, int]
    dead_letters: list[str]  # "<dead-letter queue>: <reason>"
    alarm_notifications: list[str]  # alarm names whose notification was delivered
    alarm_failures: list[str]  # alarm names whose notification was refused
    scheduler: tuple[int, int, int]  # fired, dead-lettered, dropped
    dropped: list[str]  # why deliveries were dropped


def run(app: Path, *scenarios: str, before: Callable[[LocalCloud], None] | None = None) -> Run:
    with LocalCloud(cdk_out=app, seed=7) as cloud:
        driver = OrderDriver(cloud)
        driver.stock(initial_stock())
        if before is not None:
            before(cloud)
        for name in scenarios:
            driver.submit(name, f"o-{name}")
        cloud.run_until_quiescent()
        statuses = {name: (driver.status(f"o-{name}") or {}).get("status", "MISSING") for name in scenarios}
        return Run(
            statuses=statuses,
            denials=list(cloud.access.denials),
            figures=ledger_figures(cloud),
            dead_letters=[d.detail for _, d in cloud.ledger.dead_letters()],
            alarm_notifications=[a.alarm for a in cloud.alarms.notifications],
            alarm_failures=[a.alarm for a in cloud.alarms.failed_actions],
            scheduler=(cloud.scheduler.fired, cloud.scheduler.dead_lettered, cloud.scheduler.dropped),
            dropped=[
                d.detail
                for event in cloud.ledger.events.values()
                for d in event.deliveries.values()
                if d.outcome.value == "dropped"
            ],
        )


def app_without(cdk_out: Path, tmp_path: Path, change: Callable[[Template], None]) -> Path:
    return mutated(cdk_out, tmp_path / "app", change)


def _one(template: Template, cfn_type: str, prefix: str) -> dict[str, Any]:
    found = [r for _, r in resources(template, cfn_type, prefix)]
    assert len(found) == 1, f"expected one {cfn_type} {prefix}*, found {len(found)}"
    return found[0]


def _refused(result: Run, action: str) -> list[Denial]:
    return [d for d in result.denials if d.action == action]


def _dead_letter_one_event(cloud: LocalCloud) -> None:
    """Put an event no consumer can parse on the bus: the controller rejects it into its DLQ."""
    cloud.put_events_raw(
        [
            {
                "Source": "commerce.orders",
                "DetailType": "OrderSubmitted",
                "Detail": "{}",
                "EventBusName": _bus(cloud),
            }
        ]
    )


def _bus(cloud: LocalCloud) -> str:
    return cloud.outputs["EventBusName"]


# --- the template as shipped ---------------------------------------------------------------------------
def test_the_shipped_template_runs_every_scenario_with_no_refusal(cdk_out: Path) -> None:
    result = run(cdk_out, *SCENARIOS, before=_dead_letter_one_event)
    assert result.statuses == {name: s.expected_status for name, s in SCENARIOS.items()}
    assert result.denials == []
    # The DLQ alarm fired on the rejected event, and CloudWatch was allowed to tell the alarm topic.
    assert result.alarm_failures == []
    assert any("ControllerDlq" in alarm for alarm in result.alarm_notifications)


def test_calls_made_outside_any_role_are_the_local_clouds_own_and_unchecked(cdk_out: Path) -> None:
    with LocalCloud(cdk_out=cdk_out, seed=7) as cloud:
        assert cloud.access.current is None
        table = cloud.outputs["WorkflowsTableName"]
        cloud.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "x"}, "sk": {"S": "y"}})
        assert cloud.access.denials == []
        assert cloud.access.checks == 0


# --- identity policies ----------------------------------------------------------------------------------
def test_an_identity_statement_removed_makes_the_call_fail_and_the_event_dead_letter(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        policy = _one(template, "AWS::IAM::Policy", "ControllerHandlerRoleDefaultPolicy")
        assert drop_statements(policy, without_action("states:StartExecution")) == 1

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = _refused(result, "states:StartExecution")
    assert refused
    assert all("ControllerHandlerRole" in d.principal for d in refused)
    assert result.statuses["happy"] != "COMPLETED"
    # The controller's record failed on every receive and went to its queue's DLQ.
    assert any("Controller" in dlq for dlq in result.dead_letters)


def test_a_state_machine_role_without_invoke_fails_the_task_as_lambda_access_denied(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        removed = sum(
            drop_statements(policy, without_action("lambda:InvokeFunction"))
            for _, policy in resources(template, "AWS::IAM::Policy", "OrderPaymentFlowRole")
        )
        assert removed >= 1

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = _refused(result, "lambda:InvokeFunction")
    assert refused
    assert all("OrderPaymentFlowRole" in d.principal for d in refused)
    assert result.statuses["happy"] in ("FAILED", "COMPENSATED")


def test_a_consumer_role_that_cannot_receive_leaves_its_messages_in_the_queue(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        policy = _one(template, "AWS::IAM::Policy", "InventoryConsumerHandlerRoleDefaultPolicy")
        for statement in statements(policy):
            if "sqs:ReceiveMessage" in actions(statement):
                statement["Action"] = [a for a in actions(statement) if a != "sqs:ReceiveMessage"]
                return
        raise AssertionError("no sqs:ReceiveMessage statement")

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = _refused(result, "sqs:ReceiveMessage")
    assert refused
    assert all("InventoryConsumer" in d.hop for d in refused)
    assert result.statuses["happy"] != "COMPLETED"


# --- resource policies ------------------------------------------------------------------------------------
def test_a_queue_policy_without_the_rules_grant_refuses_delivery_to_the_target_dlq(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        policy = _one(template, "AWS::SQS::QueuePolicy", "InventoryConsumerQueuePolicy")
        assert drop_statements(policy, allows_service("events.amazonaws.com")) >= 1

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = _refused(result, "sqs:SendMessage")
    assert refused
    assert all(d.principal == "events.amazonaws.com" for d in refused)
    # EventBridge retried, then put the event in the rule target's DLQ (which still admits it).
    assert any("InventoryConsumerTargetDeadLetterQueue" in dlq for dlq in result.dead_letters)
    assert result.statuses["happy"] != "COMPLETED"


def test_removing_the_bus_policy_changes_nothing_within_the_account(cdk_out: Path, tmp_path: Path) -> None:
    """Same account: "an identity-based policy or a resource-based policy" allowing suffices (IAM policy
    evaluation logic), so the bus policy's account grant is redundant for the app's own roles."""

    def change(template: Template) -> None:
        for logical_id, _ in list(resources(template, "AWS::Events::EventBusPolicy")):
            del template["Resources"][logical_id]

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    assert result.statuses["happy"] == "COMPLETED"
    assert result.denials == []


def test_a_bus_policy_deny_refuses_the_publishers_it_names(cdk_out: Path, tmp_path: Path) -> None:
    def change(template: Template) -> None:
        _, bus = next(resources(template, "AWS::Events::EventBus"))
        _, policy = next(resources(template, "AWS::Events::EventBusPolicy"))
        policy["Properties"]["Statement"] = {
            "Sid": "DenyControllerEvents",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": {"Fn::GetAtt": [next(iter(_ids(template, bus))), "Arn"]},
            "Condition": {"StringEquals": {"events:source": "workflow.controller"}},
        }
        policy["Properties"]["StatementId"] = "DenyControllerEvents"

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = _refused(result, "events:PutEvents")
    assert refused
    assert all("Controller" in d.principal for d in refused)
    assert "explicit" in refused[0].reason.lower()
    assert result.statuses["happy"] != "COMPLETED"


def _ids(template: Template, resource: dict[str, Any]) -> list[str]:
    return [lid for lid, r in template["Resources"].items() if r is resource]


def test_an_alarm_topic_policy_without_cloudwatch_leaves_the_alarm_silent(
    cdk_out: Path, tmp_path: Path
) -> None:
    """The defect the deploy-proof review found: a topic policy replaces SNS's default one, so without a
    statement for ``cloudwatch.amazonaws.com`` no alarm can notify anyone."""

    def change(template: Template) -> None:
        policy = _one(template, "AWS::SNS::TopicPolicy", "TopicsAlarmsPolicy")
        assert drop_statements(policy, allows_service("cloudwatch.amazonaws.com")) >= 1

    result = run(app_without(cdk_out, tmp_path, change), before=_dead_letter_one_event)
    assert any("ControllerDlq" in alarm for alarm in result.alarm_failures)
    assert result.alarm_notifications == []
    refused = _refused(result, "sns:Publish")
    assert refused
    assert all(d.principal == "cloudwatch.amazonaws.com" for d in refused)


def test_an_integration_without_its_lambda_permission_answers_500(cdk_out: Path, tmp_path: Path) -> None:
    def change(template: Template) -> None:
        for logical_id, _ in list(
            resources(template, "AWS::Lambda::Permission", "StatusApiPOSTstartworkflowType")
        ):
            del template["Resources"][logical_id]

    with LocalCloud(cdk_out=app_without(cdk_out, tmp_path, change), seed=7) as cloud:
        response = cloud.http("POST", START_PATH, order_for(SCENARIOS["happy"], "o-1"))
        assert response["statusCode"] == 500
        assert cloud.http("GET", "/workflows/o-1")["statusCode"] == 404  # its own permission still holds
        assert [d.action for d in cloud.access.denials] == ["lambda:InvokeFunction"]


def test_api_callers_get_only_what_their_policy_allows(cdk_out: Path) -> None:
    with LocalCloud(cdk_out=cdk_out, seed=7) as cloud:
        client, operator = cloud.outputs["ClientPolicyArn"], cloud.outputs["WorkflowOperatorPolicyArn"]
        command = {"command": "cancel", "reason": "test"}
        as_client = cloud.http("POST", "/workflows/o-1/commands", command, caller_policies=(client,))
        assert as_client["statusCode"] == 403
        as_operator = cloud.http("POST", "/workflows/o-1/commands", command, caller_policies=(operator,))
        assert as_operator["statusCode"] != 403
        order = order_for(SCENARIOS["happy"], "o-2")
        assert cloud.http("POST", START_PATH, order, caller_policies=(client,))["statusCode"] in (200, 202)
        assert cloud.http("POST", START_PATH, order, caller_policies=())["statusCode"] == 403
        # The client policy names each deployed workflow's start route: no wildcard for the type.
        other = cloud.http("POST", "/start/not-deployed", order, caller_policies=(client,))
        assert other["statusCode"] == 403


# --- key policy and trust policies ------------------------------------------------------------------------
def test_a_key_policy_without_eventbridge_refuses_delivery_and_the_dlq_alike(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        key = _one(template, "AWS::KMS::Key", "Encryption")
        for statement in statements(key):
            principals = statement.get("Principal", {}).get("Service")
            if isinstance(principals, list) and "events.amazonaws.com" in principals:
                principals.remove("events.amazonaws.com")
                return
        assert drop_statements(key, allows_service("events.amazonaws.com")) >= 1

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    assert {d.action for d in result.denials if d.principal == "events.amazonaws.com"} & {
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
    # The target DLQs are encrypted with the same key: the event could not be dead-lettered either.
    assert result.dropped
    assert all("not sent to the DLQ" in reason for reason in result.dropped)
    assert result.figures["dropped"] >= 1
    assert result.statuses["happy"] != "COMPLETED"


def test_a_rule_target_role_that_does_not_trust_eventbridge_cannot_start_the_flow(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        role = _one(template, "AWS::IAM::Role", "OrderRefundFlowStateMachineEventsRole")
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {
            "Service": "lambda.amazonaws.com"
        }

    result = run(app_without(cdk_out, tmp_path, change), "out_of_stock")
    refused = _refused(result, "sts:AssumeRole")
    assert refused
    assert all(d.principal == "events.amazonaws.com" for d in refused)
    assert any("OrderRefundFlow" in dlq for dlq in result.dead_letters)
    assert result.statuses["out_of_stock"] != "COMPENSATED"


def _scheduler_policy_without(template: Template, action: str) -> int:
    removed = 0
    for logical_id, policy in list(resources(template, "AWS::IAM::Policy", "ControllerSchedulerRole")):
        removed += drop_statements(policy, without_action(action))
        if not statements(policy):  # IAM refuses a policy with no statement: the resource goes
            del template["Resources"][logical_id]
    return removed


def test_a_deadline_the_scheduler_role_may_not_deliver_goes_to_the_schedule_dlq(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        assert _scheduler_policy_without(template, "events:PutEvents") >= 1

    result = run(app_without(cdk_out, tmp_path, change), "timeout")
    refused = _refused(result, "events:PutEvents")
    assert refused
    assert all("SchedulerRole" in d.principal for d in refused)
    fired, dead_lettered, dropped = result.scheduler
    # Every refused firing was kept in the schedule's DLQ (Scheduler does not retry a refusal).
    assert fired >= 1
    assert (dead_lettered, dropped) == (len(refused), 0)
    # The carrier never confirms and the deadline never arrives: the workflow cannot end on its own.
    assert result.statuses["timeout"] == "RUNNING"


def test_a_deadline_neither_delivered_nor_dead_lettered_is_counted_as_dropped(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        assert _scheduler_policy_without(template, "events:PutEvents") >= 1
        assert _scheduler_policy_without(template, "sqs:SendMessage") >= 1

    result = run(app_without(cdk_out, tmp_path, change), "timeout")
    fired, dead_lettered, dropped = result.scheduler
    assert fired >= 1
    assert (dead_lettered, dropped) == (0, len(_refused(result, "events:PutEvents")))
    assert _refused(result, "sqs:SendMessage")


def test_a_trust_policy_conditioned_on_the_schedule_group_admits_the_scheduler(
    cdk_out: Path, tmp_path: Path
) -> None:
    """Scheduler assumes the execution role for the schedule group (aws:SourceArn = the group's ARN)."""

    def change(template: Template) -> None:
        role = _one(template, "AWS::IAM::Role", "ControllerSchedulerRole")
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        statement["Condition"] = {
            "ArnLike": {
                "aws:SourceArn": {
                    "Fn::Sub": "arn:aws:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/*"
                }
            }
        }

    result = run(app_without(cdk_out, tmp_path, change), "timeout")
    assert result.denials == []
    assert result.statuses["timeout"] == "COMPENSATED"


def test_refused_entries_fail_alone_and_the_rest_of_the_batch_is_put(cdk_out: Path) -> None:
    with LocalCloud(cdk_out=cdk_out, seed=7) as cloud:
        front_door = next(n for n in cloud.lambdas.functions if "FrontDoor" in n)
        events = cloud.client("events")
        bus = _bus(cloud)
        with cloud.access.acting_as(cloud.access.function_role(front_door)):
            answer = events.put_events(
                Entries=[
                    {
                        "EventBusName": bus,
                        "Source": "commerce.orders",
                        "DetailType": "OrderSubmitted",
                        "Detail": "{}",
                    },
                    {
                        "EventBusName": bus,
                        "Source": "commerce.payments",
                        "DetailType": "PaymentProcessed",
                        "Detail": "{}",
                    },
                ]
            )
        assert answer["FailedEntryCount"] == 1
        assert "EventId" in answer["Entries"][0]
        assert answer["Entries"][1]["ErrorCode"] == "AccessDeniedException"
        assert [d.action for d in cloud.access.denials] == ["events:PutEvents"]


# --- the CLI --------------------------------------------------------------------------------------------
def test_simulate_reports_refusals_and_fails(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def change(template: Template) -> None:
        policy = _one(template, "AWS::IAM::Policy", "ShippingConsumerHandlerRoleDefaultPolicy")
        removed = drop_statements(policy, lambda s: any(a.startswith("dynamodb:") for a in actions(s)))
        assert removed >= 1

    app = app_without(cdk_out, tmp_path, change)
    assert main(["simulate", "--cdk-out", str(app), "--count", "12", "--seed", "3", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["access_denials"] > 0
    assert main(["simulate", "--cdk-out", str(app), "--count", "12", "--seed", "3", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "refused:" in out
    assert "dynamodb:" in out
    assert "ShippingConsumerHandlerRole" in out


def test_a_queue_created_at_run_time_admits_a_rule_only_through_its_own_policy(cloud: LocalCloud) -> None:
    sqs, events = cloud.client("sqs"), cloud.client("events")
    url = sqs.create_queue(QueueName="mine")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = events.put_rule(Name="mine", EventPattern=json.dumps({"source": ["mine"]}))
    events.put_targets(Rule="mine", Targets=[{"Id": "q", "Arn": arn}])

    events.put_events(Entries=[{"Source": "mine", "DetailType": "Probe", "Detail": "{}"}])
    cloud.run_until_quiescent()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # no policy: EventBridge was refused
    assert {d.resource for d in cloud.access.denials} == {arn}  # (each of EventBridge's retries)

    admit_rule_to_queue(sqs, url, arn, rule["RuleArn"])
    events.put_events(Entries=[{"Source": "mine", "DetailType": "Probe", "Detail": "{}"}])
    cloud.run_until_quiescent()
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1


def test_a_key_policy_that_conditions_eventbridge_on_its_source_refuses_delivery(
    cdk_out: Path, tmp_path: Path
) -> None:
    """The review's finding: KMS requests made for EventBridge are not documented to carry
    aws:SourceAccount, so a key statement conditioned on it may refuse every rule -> queue delivery
    (decision 0016). The local cloud takes the documented side and refuses it."""

    def change(template: Template) -> None:
        key = _one(template, "AWS::KMS::Key", "Encryption")
        conditioned = [s for s in statements(key) if allows_service("events.amazonaws.com")(s)]
        assert conditioned
        for statement in conditioned:
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = [d for d in result.denials if d.principal == "events.amazonaws.com"]
    assert {d.action for d in refused} & {"kms:GenerateDataKey", "kms:Decrypt"}
    assert result.statuses["happy"] != "COMPLETED"


def test_passing_the_scheduler_role_needs_iam_pass_role_for_the_scheduler(
    cdk_out: Path, tmp_path: Path
) -> None:
    def change(template: Template) -> None:
        policy = _one(template, "AWS::IAM::Policy", "ControllerHandlerRoleDefaultPolicy")
        for statement in statements(policy):
            if "iam:PassRole" in actions(statement):
                # The grant is kept, but for another service: iam:PassedToService no longer matches.
                statement["Condition"] = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
                return
        raise AssertionError("no iam:PassRole statement")

    result = run(app_without(cdk_out, tmp_path, change), "happy")
    refused = _refused(result, "iam:PassRole")
    assert refused
    assert all("ControllerHandlerRole" in d.principal for d in refused)
    assert result.statuses["happy"] != "COMPLETED"


def test_without_the_key_policys_delegation_to_iam_no_role_can_read_an_encrypted_table(
    cdk_out: Path, tmp_path: Path
) -> None:
    """KMS: "Without this permission, IAM policies that allow access to the key are ineffective"."""

    def change(template: Template) -> None:
        key = _one(template, "AWS::KMS::Key", "Encryption")

        def via_services(statement: dict[str, Any]) -> bool:
            return "kms:ViaService" in json.dumps(statement.get("Condition", {}))

        assert drop_statements(key, via_services) >= 1

    with LocalCloud(cdk_out=app_without(cdk_out, tmp_path, change), seed=7) as cloud:
        # The status route reads the encrypted workflows table with the front door's role.
        assert cloud.http("GET", "/workflows/o-1")["statusCode"] >= 500
        # Starting through the front door reads the table first: refused the same way.
        assert cloud.http("POST", START_PATH, order_for(SCENARIOS["happy"], "o-1"))["statusCode"] >= 500
        # Lambda's poller cannot decrypt the controller's encrypted queue with the controller's role
        # (the order put on the bus directly, as another system would).
        OrderDriver(cloud).submit_event(order_for(SCENARIOS["happy"], "o-1"), event_id="o-1:direct")
        cloud.run_until_quiescent()
        refused = {(d.action, d.hop.split(" ")[0]) for d in cloud.access.denials}
    assert ("kms:Decrypt", "dynamodb.GetItem") in refused or ("kms:Decrypt", "dynamodb.Query") in refused
    assert ("kms:Decrypt", "event") in refused  # the event source mapping
