"""What an AWS API call asks of IAM: the actions, the resources and the request's condition keys.

One API call can need several permissions: a ``TransactWriteItems`` needs ``PutItem``/``UpdateItem``/
``DeleteItem``/``ConditionCheckItem`` on each table it writes, a ``PutEvents`` needs ``events:PutEvents``
on each bus it names, a ``CreateSchedule`` needs ``iam:PassRole`` on the schedule's role, and a call on an
encrypted table, queue or topic makes the service use the KMS key on the caller's behalf
(``kms:ViaService``). Calls this module does not know map to ``<prefix>:<Operation>`` on ``*``, which
identity policies that name resources do not match: an unknown call is refused, never waved through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflowkit.asl.tokens import state_machine_of


@dataclass(frozen=True)
class Permission:
    """One permission a call needs."""

    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    resource_policy: bool = True  # the resource's own policy takes part (queues, topics, buses, functions)
    per_entry: bool = False  # decided for one entry of a batch (PutEvents), not for the whole call


@dataclass(frozen=True)
class KeyUse:
    """The KMS key use a call on an encrypted resource makes on the caller's behalf."""

    resource: str  # the encrypted table, queue or topic
    actions: tuple[str, ...]
    via: str  # the service that calls KMS: "dynamodb", "sqs", "sns"


# botocore's service names whose IAM prefix differs.
_PREFIX = {"stepfunctions": "states"}

# DynamoDB data plane: the IAM action per operation (the batch and transaction ones per item/table).
_DYNAMODB_ITEM_ACTIONS = {
    "GetItem": "dynamodb:GetItem",
    "PutItem": "dynamodb:PutItem",
    "UpdateItem": "dynamodb:UpdateItem",
    "DeleteItem": "dynamodb:DeleteItem",
    "Query": "dynamodb:Query",
    "Scan": "dynamodb:Scan",
    "DescribeTable": "dynamodb:DescribeTable",
}
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
# SQS operations and their IAM actions (the batch forms authorise as the single ones).
_SQS_ACTIONS = {
    "SendMessage": "sqs:SendMessage",
    "SendMessageBatch": "sqs:SendMessage",
    "ReceiveMessage": "sqs:ReceiveMessage",
    "DeleteMessage": "sqs:DeleteMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibility": "sqs:ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
    "GetQueueUrl": "sqs:GetQueueUrl",
    "PurgeQueue": "sqs:PurgeQueue",
}
# What a producer and a consumer of an SSE-KMS queue or topic need of its key (SQS and SNS developer
# guides, "Key management": producers kms:GenerateDataKey + kms:Decrypt, consumers kms:Decrypt).
SEND_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
RECEIVE_KEY_ACTIONS = ("kms:Decrypt",)


@dataclass(frozen=True)
class CallNeeds:
    permissions: list[Permission]
    key_uses: list[KeyUse]


class RequestMapper:
    """Maps ``(service, operation, params)`` to what the call needs, for one account and region."""

    def __init__(self, *, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self._by_service: dict[str, Callable[[str, dict[str, Any]], CallNeeds | None]] = {
            "dynamodb": self._dynamodb,
            "sqs": self._sqs,
            "sns": self._sns,
            "events": self._events,
            "stepfunctions": self._states,
            "scheduler": self._scheduler,
            "lambda": self._lambda,
            "kms": self._kms,
        }

    def needs(self, service: str, operation: str, params: dict[str, Any]) -> CallNeeds:
        mapper = self._by_service.get(service)
        needs = mapper(operation, params) if mapper else None
        if needs is None:
            action = f"{_PREFIX.get(service, service)}:{operation}"
            return CallNeeds([Permission(action, "*", resource_policy=False)], [])
        return needs

    # --- ARNs ---------------------------------------------------------------------------------------
    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def table_arn(self, name: str) -> str:
        return name if name.startswith("arn:") else self.arn("dynamodb", f"table/{name}")

    def queue_arn(self, url_or_name: str) -> str:
        if url_or_name.startswith("arn:"):
            return url_or_name
        parts = url_or_name.rstrip("/").split("/")
        return (
            self.arn("sqs", parts[-1])
            if len(parts) < 2
            else f"arn:aws:sqs:{self.region}:{parts[-2]}:{parts[-1]}"
        )

    def bus_arn(self, name: str | None) -> str:
        if name and name.startswith("arn:"):
            return name
        return self.arn("events", f"event-bus/{name or 'default'}")

    def function_arn(self, name: str) -> str:
        if name.startswith("arn:"):
            return ":".join(name.split(":")[:7])  # without a qualifier
        return self.arn("lambda", f"function:{name}")

    # --- services -----------------------------------------------------------------------------------
    def _dynamodb(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        permissions: list[Permission] = []
        if operation in _DYNAMODB_ITEM_ACTIONS:
            table = self.table_arn(str(params.get("TableName", "")))
            index = params.get("IndexName")
            resource = f"{table}/index/{index}" if index and operation in ("Query", "Scan") else table
            permissions.append(Permission(_DYNAMODB_ITEM_ACTIONS[operation], resource, resource_policy=False))
            tables = [table]
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            tables = [self.table_arn(name) for name in params.get("RequestItems", {})]
            permissions += [Permission(f"dynamodb:{operation}", t, resource_policy=False) for t in tables]
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            tables = []
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    table = self.table_arn(str(body.get("TableName", "")))
                    tables.append(table)
                    permissions.append(Permission(_TRANSACT_ACTIONS[kind], table, resource_policy=False))
        else:
            return None
        # DynamoDB decrypts the table key with the caller's permissions for every data-plane request.
        uses = [KeyUse(t, ("kms:Decrypt",), "dynamodb") for t in dict.fromkeys(tables)]
        return CallNeeds(_unique(permissions), uses)

    def _sqs(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        action = _SQS_ACTIONS.get(operation)
        if action is None:
            return None
        queue = self.queue_arn(str(params.get("QueueUrl") or params.get("QueueName") or ""))
        uses = []
        if action == "sqs:SendMessage":
            uses.append(KeyUse(queue, SEND_KEY_ACTIONS, "sqs"))
        elif action == "sqs:ReceiveMessage":
            uses.append(KeyUse(queue, RECEIVE_KEY_ACTIONS, "sqs"))
        return CallNeeds([Permission(action, queue)], uses)

    def _sns(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        if operation not in ("Publish", "PublishBatch"):
            return None
        topic = str(params.get("TopicArn") or params.get("TargetArn") or "")
        return CallNeeds([Permission("sns:Publish", topic)], [KeyUse(topic, SEND_KEY_ACTIONS, "sns")])

    def _events(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        if operation != "PutEvents":
            return None
        # EventBridge authorises each entry on its own (a refused one comes back in Entries with an
        # ErrorCode, the others are put): one permission per entry, with that entry's source and type.
        permissions = [
            Permission(
                "events:PutEvents",
                self.bus_arn(entry.get("EventBusName")),
                {
                    "events:source": [str(entry.get("Source"))],
                    "events:detail-type": [str(entry.get("DetailType"))],
                },
                per_entry=True,
            )
            for entry in params.get("Entries", [])
        ]
        return CallNeeds(permissions, [])

    def _states(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        if operation in ("StartExecution", "StartSyncExecution", "DescribeStateMachine"):
            resource = str(params.get("stateMachineArn", ""))
        elif operation in ("StopExecution", "DescribeExecution", "GetExecutionHistory"):
            resource = str(params.get("executionArn", ""))
        elif operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            # Step Functions reads from the token which state machine's execution issued it, and
            # authorises against that state machine (CDK's grantTaskResponse grants on its ARN). Text
            # that is no token names nothing: "*", which a grant naming state machines does not match.
            resource = state_machine_of(str(params.get("taskToken", ""))) or "*"
        else:
            return None
        return CallNeeds([Permission(f"states:{operation}", resource, resource_policy=False)], [])

    def _scheduler(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        if operation not in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
            return None
        group = params.get("GroupName") or "default"
        schedule = self.arn("scheduler", f"schedule/{group}/{params.get('Name', '')}")
        permissions = [Permission(f"scheduler:{operation}", schedule, resource_policy=False)]
        role = (params.get("Target") or {}).get("RoleArn")
        if role and operation in ("CreateSchedule", "UpdateSchedule"):
            permissions.append(
                Permission(
                    "iam:PassRole",
                    str(role),
                    {"iam:PassedToService": "scheduler.amazonaws.com"},
                    resource_policy=False,
                )
            )
        return CallNeeds(permissions, [])

    def _lambda(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        if operation != "Invoke":
            return None
        function = self.function_arn(str(params.get("FunctionName", "")))
        return CallNeeds([Permission("lambda:InvokeFunction", function)], [])

    def _kms(self, operation: str, params: dict[str, Any]) -> CallNeeds | None:
        key = params.get("KeyId")
        if not key:
            return None
        key_arn = str(key) if str(key).startswith("arn:") else self.arn("kms", f"key/{key}")
        return CallNeeds([Permission(f"kms:{operation}", key_arn)], [])


def _unique(permissions: list[Permission]) -> list[Permission]:
    seen: dict[tuple[str, str], Permission] = {}
    for permission in permissions:
        seen.setdefault((permission.action, permission.resource), permission)
    return list(seen.values())
