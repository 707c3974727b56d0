"""The fast path's answers for the app's hot operations, straight from the backends.

Each answer takes the API parameters as the caller passed them (botocore has validated them) and
returns the response's fields, as botocore would have parsed them from moto's HTTP response. Errors
raised by moto's backends become error answers in :mod:`workflowkit.fastpath`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.sns.responses import SNSResponse

from workflowkit.ddb import DynamoEngine
from workflowkit.fastpath import FastPath, ServiceError, wire_values

if TYPE_CHECKING:
    from workflowkit.cloud import LocalCloud


def register_answers(fast_path: FastPath, cloud: LocalCloud) -> None:
    backend = cloud.backend

    def put_events(params: dict[str, Any]) -> dict[str, Any]:
        entries = cloud.eventbridge.put_events(backend("events"), wire_values(params["Entries"]))
        failed = sum(1 for entry in entries if "ErrorCode" in entry)
        return {"FailedEntryCount": failed, "Entries": entries}

    def create_schedule(params: dict[str, Any]) -> dict[str, Any]:
        schedule = backend("scheduler").create_schedule(
            description=params.get("Description"),
            end_date=_epoch(params.get("EndDate")),
            flexible_time_window=params.get("FlexibleTimeWindow"),
            group_name=params.get("GroupName"),
            kms_key_arn=params.get("KmsKeyArn"),
            name=params["Name"],
            schedule_expression=params.get("ScheduleExpression"),
            schedule_expression_timezone=params.get("ScheduleExpressionTimezone"),
            start_date=_epoch(params.get("StartDate")),
            state=params.get("State"),
            target=params.get("Target"),
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
            params.get("MessageAttributes", {}),
        )
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
            params["stateMachineArn"], params.get("name"), params.get("input") or "{}"
        )
        return {"executionArn": execution.execution_arn, "startDate": execution.start_date}

    def stop_execution(params: dict[str, Any]) -> dict[str, Any]:
        execution = backend("stepfunctions").stop_execution(params["executionArn"])
        if str(execution.status).endswith("ABORTED"):  # moto drops the caller's error and cause
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
            # The caller's params as botocore validated them: the same as the wire form but for binary
            # values (bytes, not base64 text), which the engine takes either way. The engine converts
            # every value it keeps, so the caller's dicts are never stored or changed.
            return engine.handle(operation, params)

        return answer

    for operation in sorted(engine.OPERATIONS):
        fast_path.register_complete("dynamodb", operation, answer_with(operation))


def _epoch(value: Any) -> Any:
    return wire_values(value)
