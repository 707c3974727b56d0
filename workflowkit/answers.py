"""The fast path's answers for the app's hot operations, straight from the backends.

Each answer takes the API parameters as the caller passed them (botocore has validated them) and
returns the response's fields, as botocore would have parsed them from moto's HTTP response. Errors
raised by moto's backends become error answers in :mod:`workflowkit.fastpath`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from botocore.utils import parse_to_aware_datetime
from moto.sns.responses import SNSResponse

from workflowkit.context import PutEvents
from workflowkit.ddb import DynamoEngine
from workflowkit.fastpath import FastPath, ServiceError
from workflowkit.spool import Spool


def register_answers(fast_path: FastPath, backend: Callable[[str], Any], publish_events: PutEvents) -> None:
    """``backend``: moto's backend of a service; ``publish_events``: the local cloud's PutEvents."""

    def put_events(params: dict[str, Any]) -> dict[str, Any]:
        entries = publish_events([_entry(e) for e in params["Entries"]])
        failed = sum(1 for entry in entries if "ErrorCode" in entry)
        return {"FailedEntryCount": failed, "Entries": entries}

    def create_schedule(params: dict[str, Any]) -> dict[str, Any]:
        schedule = backend("scheduler").create_schedule(
            description=params.get("Description"),
            end_date=_epoch(params.get("EndDate")),
            flexible_time_window=copy.deepcopy(params.get("FlexibleTimeWindow")),
            group_name=params.get("GroupName"),
            kms_key_arn=params.get("KmsKeyArn"),
            name=params["Name"],
            schedule_expression=params.get("ScheduleExpression"),
            schedule_expression_timezone=params.get("ScheduleExpressionTimezone"),
            start_date=_epoch(params.get("StartDate")),
            state=params.get("State"),
            target=copy.deepcopy(params.get("Target")),  # moto keeps it: not the caller's dict
            action_after_completion=params.get("ActionAfterCompletion"),
        )
        return {"ScheduleArn": schedule.arn}

    def delete_schedule(params: dict[str, Any]) -> dict[str, Any]:
        backend("scheduler").delete_schedule(params.get("GroupName"), params["Name"])
        return {}

    def publish(params: dict[str, Any]) -> dict[str, Any]:
        if "PhoneNumber" in params:
            raise ServiceError("InvalidParameter", "the local cloud does not send SMS")
        # moto's own validation and renaming of message attributes (it does not use its instance).
        attributes = SNSResponse._transform_message_attributes(
            None,  # type: ignore[arg-type]
            {name: _binary_as_bytes(value) for name, value in params.get("MessageAttributes", {}).items()},
        )
        topic = backend("sns").topics.get(params.get("TargetArn") or params.get("TopicArn"))
        if topic is not None and type(topic.sent_notifications) is not Spool:
            # moto keeps every message a topic sent, for tests to inspect; SNS keeps none, and a long
            # run publishes one or more a workflow: kept on disk (workflowkit.spool), counted the same.
            topic.sent_notifications = Spool(topic.sent_notifications)
        try:
            message_id = backend("sns").publish(
                params["Message"],
                arn=params.get("TargetArn") or params.get("TopicArn"),
                phone_number=None,
                subject=params.get("Subject"),
                message_attributes=attributes,
                group_id=params.get("MessageGroupId"),
                deduplication_id=params.get("MessageDeduplicationId"),
                message_structure=params.get("MessageStructure"),
            )
        except ValueError as error:
            raise ServiceError("InvalidParameter", str(error)) from error
        return {"MessageId": message_id}

    def start_execution(params: dict[str, Any]) -> dict[str, Any]:
        execution = backend("stepfunctions").start_execution(
            params["stateMachineArn"], params.get("name"), params.get("input", "{}")
        )
        return {"executionArn": execution.execution_arn, "startDate": execution.start_date}

    def stop_execution(params: dict[str, Any]) -> dict[str, Any]:
        stepfunctions = backend("stepfunctions")
        was = str(stepfunctions.describe_execution(params["executionArn"]).status)
        # The local cloud's backend takes the reason along (moto's own drops it), for the history's event.
        execution = stepfunctions.stop_execution(
            params["executionArn"], error=params.get("error"), cause=params.get("cause")
        )
        if not was.endswith("ABORTED") and str(execution.status).endswith("ABORTED"):
            # This call aborted it: moto drops the caller's error and cause, Step Functions keeps them.
            execution.error, execution.cause = params.get("error"), params.get("cause")
        return {"stopDate": execution.stop_date}

    fast_path.register("events", "PutEvents", put_events)
    fast_path.register("scheduler", "CreateSchedule", create_schedule)
    fast_path.register("scheduler", "DeleteSchedule", delete_schedule)
    fast_path.register("sns", "Publish", publish)
    fast_path.register("stepfunctions", "StartExecution", start_execution)
    fast_path.register("stepfunctions", "StopExecution", stop_execution)


def register_dynamodb(fast_path: FastPath, engine: DynamoEngine) -> None:
    """Every DynamoDB data-plane call goes to the engine, with the request as it would travel."""

    def answer_with(operation: str) -> Any:
        def answer(params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            # The params in wire form (the caller's own when they already are, binary values as bytes;
            # botocore's serialisation otherwise, binary as base64 text): the engine takes both, and
            # converts every value it keeps, so the caller's dicts are never stored or changed.
            return engine.handle(operation, params)

        return answer

    for operation in sorted(engine.OPERATIONS):
        fast_path.register_complete("dynamodb", operation, answer_with(operation), wire_json=True)


def _epoch(value: Any) -> float | None:
    """A timestamp parameter as JSON protocols carry it (epoch seconds), read as botocore reads it:
    a datetime (naive means UTC), an ISO 8601 string, or epoch seconds."""
    return None if value is None else parse_to_aware_datetime(value).timestamp()


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A PutEvents entry of the local cloud's own (the ledger keeps it), its Time in epoch seconds."""
    copied = {**entry, "Resources": list(entry.get("Resources", []))}
    if "Time" in entry:
        copied["Time"] = _epoch(entry["Time"])
    return copied


def _binary_as_bytes(attribute: dict[str, Any]) -> dict[str, Any]:
    # botocore sends a str BinaryValue as its UTF-8 bytes; moto's transformation expects bytes.
    value = attribute.get("BinaryValue")
    return {**attribute, "BinaryValue": value.encode("utf-8")} if isinstance(value, str) else attribute
