"""What each AWS call asks of IAM: the actions, resources and condition keys the local cloud checks."""

from __future__ import annotations

import random

from workflowkit.access.requests import Permission, RequestMapper
from workflowkit.asl.tokens import new_token

MAPPER = RequestMapper(account="123456789012", region="eu-west-1")
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"


def test_a_transaction_needs_each_items_own_action_on_each_table() -> None:
    needs = MAPPER.needs(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "orders", "Item": {}}},
                {"Update": {"TableName": "orders", "Key": {}}},
                {"ConditionCheck": {"TableName": "stock", "Key": {}}},
            ]
        },
    )
    assert [(p.action, p.resource) for p in needs.permissions] == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/stock"),
    ]
    # DynamoDB uses each table's key on the caller's behalf, once per table.
    assert [(u.resource, u.actions, u.via) for u in needs.key_uses] == [
        (TABLE, ("kms:Decrypt",), "dynamodb"),
        ("arn:aws:dynamodb:eu-west-1:123456789012:table/stock", ("kms:Decrypt",), "dynamodb"),
    ]


def test_a_query_on_an_index_is_authorised_on_the_index_arn() -> None:
    needs = MAPPER.needs("dynamodb", "Query", {"TableName": "orders", "IndexName": "by-status"})
    assert needs.permissions == [
        Permission("dynamodb:Query", f"{TABLE}/index/by-status", resource_policy=False)
    ]


def test_put_events_needs_each_entry_on_its_bus_with_that_entrys_source_and_detail_type() -> None:
    needs = MAPPER.needs(
        "events",
        "PutEvents",
        {
            "Entries": [
                {"EventBusName": "bus", "Source": "a", "DetailType": "X"},
                {"Source": "b", "DetailType": "Y"},
            ]
        },
    )
    assert [(p.resource, p.context, p.per_entry) for p in needs.permissions] == [
        (
            "arn:aws:events:eu-west-1:123456789012:event-bus/bus",
            {"events:source": ["a"], "events:detail-type": ["X"]},
            True,
        ),
        (
            "arn:aws:events:eu-west-1:123456789012:event-bus/default",
            {"events:source": ["b"], "events:detail-type": ["Y"]},
            True,
        ),
    ]


def test_creating_a_schedule_passes_its_role_to_the_scheduler() -> None:
    role = "arn:aws:iam::123456789012:role/deadlines"
    needs = MAPPER.needs(
        "scheduler", "CreateSchedule", {"Name": "d-1", "GroupName": "g", "Target": {"RoleArn": role}}
    )
    assert [(p.action, p.resource, p.context) for p in needs.permissions] == [
        ("scheduler:CreateSchedule", "arn:aws:scheduler:eu-west-1:123456789012:schedule/g/d-1", {}),
        ("iam:PassRole", role, {"iam:PassedToService": "scheduler.amazonaws.com"}),
    ]


def test_sending_to_and_receiving_from_a_queue_use_its_key_as_producer_and_consumer() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/work"
    send = MAPPER.needs("sqs", "SendMessageBatch", {"QueueUrl": url})
    receive = MAPPER.needs("sqs", "ReceiveMessage", {"QueueUrl": url})
    arn = "arn:aws:sqs:eu-west-1:123456789012:work"
    assert [(p.action, p.resource) for p in send.permissions] == [("sqs:SendMessage", arn)]
    assert send.key_uses[0].actions == ("kms:GenerateDataKey", "kms:Decrypt")
    assert receive.key_uses[0].actions == ("kms:Decrypt",)


def test_an_unknown_call_is_asked_for_on_any_resource_so_resource_scoped_grants_do_not_cover_it() -> None:
    needs = MAPPER.needs("stepfunctions", "ListStateMachines", {})
    assert needs.permissions == [Permission("states:ListStateMachines", "*", resource_policy=False)]
    assert needs.key_uses == []


def test_a_task_response_is_authorised_on_the_state_machine_whose_execution_issued_the_token() -> None:
    # Step Functions reads the issuer from the token; CDK's grantTaskResponse grants on the machine's ARN.
    execution = "arn:aws:states:eu-west-1:123456789012:execution:approvals:e-1"
    token = new_token(execution, random.Random(0))
    machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:approvals"
    for operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        needs = MAPPER.needs("stepfunctions", operation, {"taskToken": token, "output": "{}"})
        assert needs.permissions == [Permission(f"states:{operation}", machine, resource_policy=False)]
    # Text that is no token names no state machine: "*", which only a grant on every resource matches.
    needs = MAPPER.needs("stepfunctions", "SendTaskSuccess", {"taskToken": "garbage", "output": "{}"})
    assert needs.permissions == [Permission("states:SendTaskSuccess", "*", resource_policy=False)]
