"""The standard task runner: Lambda, the optimised integrations and AWS SDK integrations.

``TaskIntegrations(invoke_lambda, client).run_task`` is a ``Runtime.run_task``:

- ``arn:aws:states:::lambda:invoke`` returns the Invoke response as Step Functions shapes it
  (``Payload`` parsed, ``StatusCode``, ``ExecutedVersion``, SDK metadata); a bare function ARN as the
  resource returns just the payload. A function error fails the task with the payload's ``errorType``
  (``Lambda.Unknown`` when there is none) and the payload text as the cause.
- Optimised integrations (``dynamodb:getItem|putItem|updateItem|deleteItem``, ``events:putEvents``,
  ``sqs:sendMessage``, ``sns:publish``) call the boto3 client with the Parameters as keyword arguments
  and return the response without ``ResponseMetadata``. As documented: putEvents adds the state machine
  and execution ARNs to each entry's ``Resources`` and fails with ``EventBridge.FailedEntry`` when
  ``FailedEntryCount`` > 0; a JSON object given as ``Detail``, ``MessageBody`` or ``Message`` is sent as
  JSON text. Service errors are ``DynamoDB.<Code>``, ``EventBridge.<Code>``, ``SQS.<Code>``,
  ``SNS.<Code>``.
- ``arn:aws:states:::aws-sdk:<service>:<action>`` calls the same way (action in camelCase); errors are
  ``<ServiceName>.<Code>`` with the service name in PascalCase (``DynamoDb``, ``Sqs``, ``S3``...).

Every error name ends in ``Exception`` (``DynamoDB.RequestLimitExceeded`` is reported as
``DynamoDB.RequestLimitExceededException``): the documentation says to add the suffix for AWS SDK
integrations "even if the suffix is not part of the error name the service provides", and the
optimised integrations name errors after the same SDK exception classes. Results are made JSON-safe:
binary values become Base64 text, timestamps ISO 8601 text.

Anything else (activities, other services) fails at run time with States.Runtime naming the resource.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

from botocore.exceptions import ClientError, ParamValidationError

from workflowkit.asl.errors import RUNTIME, TaskFailed
from workflowkit.asl.runtime import TaskContext
from workflowkit.asl.values import parse_json

InvokeLambda = Callable[[str, Any], tuple[str, bool]]  # (function name or ARN, payload) -> (text, errored)
ClientFactory = Callable[[str], Any]  # boto3 service name -> client

_LAMBDA_INVOKE: Final = ("lambda", "invoke")
# (service, action) -> (boto3 service, prefix of error names, name of the service in error causes)
_OPTIMISED: Final[dict[tuple[str, str], tuple[str, str, str]]] = {
    **{
        ("dynamodb", action): ("dynamodb", "DynamoDB", "AmazonDynamoDBv2")
        for action in ("getItem", "putItem")
    },
    **{
        ("dynamodb", action): ("dynamodb", "DynamoDB", "AmazonDynamoDBv2")
        for action in ("updateItem", "deleteItem")
    },
    ("events", "putEvents"): ("events", "EventBridge", "AmazonEventBridge"),
    ("sqs", "sendMessage"): ("sqs", "SQS", "AmazonSQS"),
    ("sns", "publish"): ("sns", "SNS", "AmazonSNS"),
}
# The base exception of each optimised integration's service in the SDK Step Functions runs on.
_SDK_SERVICE_EXCEPTIONS: Final = {
    "Lambda": "AWSLambdaException",
    "DynamoDB": "AmazonDynamoDBException",
    "SQS": "AmazonSQSException",
    "SNS": "AmazonSNSException",
    "EventBridge": "AmazonEventBridgeException",
}
# AWS SDK integration service names whose boto3 name differs.
_BOTO_NAMES: Final = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}
# The service part of AWS SDK integration error names (the SDK's client names, in PascalCase).
_ERROR_SERVICE_NAMES: Final = {
    "dynamodb": "DynamoDb",
    "eventbridge": "EventBridge",
    "cloudwatch": "CloudWatch",
    "cloudwatchlogs": "CloudWatchLogs",
    "secretsmanager": "SecretsManager",
    "apigateway": "ApiGateway",
    "sagemaker": "SageMaker",
    "acmpca": "AcmPca",
    "stepfunctions": "Sfn",
}
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class TaskIntegrations:
    def __init__(self, invoke_lambda: InvokeLambda, client: ClientFactory) -> None:
        self._invoke_lambda = invoke_lambda
        self._client = client

    def run_task(self, resource: str, parameters: Any, task: TaskContext) -> Any:
        parts = resource.split(":")
        if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
            return self._lambda_function(resource, parameters)
        if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "states":
            service, action = parts[5], ":".join(parts[6:])
            if (service, action) == _LAMBDA_INVOKE:
                return self._lambda_invoke(parameters, task)
            if (service, action) in _OPTIMISED:
                return self._optimised(service, action, parameters, task)
            if service == "aws-sdk" and len(parts) == 8:
                return self._aws_sdk(parts[6], parts[7], parameters)
        raise TaskFailed(
            RUNTIME,
            f"The resource {resource!r} is not supported by the local task integrations (supported: Lambda"
            " functions, lambda:invoke, dynamodb:getItem/putItem/updateItem/deleteItem, events:putEvents,"
            " sqs:sendMessage, sns:publish and aws-sdk:<service>:<action>)",
        )

    # --- Lambda -------------------------------------------------------------------------------------
    def _lambda_invoke(self, parameters: Any, task: TaskContext) -> Any:
        if not isinstance(parameters, dict) or not isinstance(parameters.get("FunctionName"), str):
            raise TaskFailed(RUNTIME, "lambda:invoke needs Parameters with a FunctionName")
        # Qualifier and InvocationType are not modelled: the function runs synchronously, as $LATEST.
        payload = self._invoke(parameters["FunctionName"], parameters.get("Payload", {}))
        request_id = str(uuid.UUID(int=task.random.getrandbits(128), version=4))
        return {
            "ExecutedVersion": "$LATEST",
            "Payload": payload,
            "SdkHttpMetadata": {
                "HttpHeaders": {
                    "Connection": "keep-alive",
                    "Content-Type": "application/json",
                    "X-Amz-Executed-Version": "$LATEST",
                    "x-amzn-RequestId": request_id,
                },
                "HttpStatusCode": 200,
            },
            "SdkResponseMetadata": {"RequestId": request_id},
            "StatusCode": 200,
        }

    def _lambda_function(self, resource: str, parameters: Any) -> Any:
        return self._invoke(resource, parameters)

    def _invoke(self, function: str, payload: Any) -> Any:
        try:
            text, errored = self._invoke_lambda(function, payload)
        except ClientError as error:
            raise _client_failure(error, "Lambda", "AWSLambda") from None
        try:
            parsed = parse_json(text)  # a payload with NaN or Infinity is not JSON: kept as text
        except ValueError:
            parsed = text
        if errored:
            error_type = parsed.get("errorType") if isinstance(parsed, dict) else None
            raise TaskFailed(
                error_type if isinstance(error_type, str) and error_type else "Lambda.Unknown", text
            )
        return parsed

    # --- services -----------------------------------------------------------------------------------
    def _optimised(self, service: str, action: str, parameters: Any, task: TaskContext) -> Any:
        boto_service, prefix, cause_service = _OPTIMISED[service, action]
        arguments = _arguments(parameters, f"{service}:{action}")
        if service == "dynamodb":
            arguments = _binary_values(arguments)
        elif action == "putEvents":
            arguments["Entries"] = [_event_entry(entry, task) for entry in arguments.get("Entries", [])]
        elif action == "sendMessage":
            arguments["MessageBody"] = _json_text(arguments.get("MessageBody"))
        elif action == "publish":
            arguments["Message"] = _json_text(arguments.get("Message"))
        response = self._call(boto_service, action, arguments, prefix, cause_service)
        if action == "putEvents" and response.get("FailedEntryCount", 0) > 0:
            raise TaskFailed("EventBridge.FailedEntry", json.dumps(response, separators=(",", ":")))
        return response

    def _aws_sdk(self, service: str, action: str, parameters: Any) -> Any:
        boto_service = _BOTO_NAMES.get(service, service)
        prefix = _ERROR_SERVICE_NAMES.get(service, service[:1].upper() + service[1:])
        return self._call(
            boto_service, action, _arguments(parameters, f"aws-sdk:{service}:{action}"), prefix, prefix
        )

    def _call(
        self, boto_service: str, action: str, arguments: dict[str, Any], prefix: str, cause_service: str
    ) -> Any:
        method = getattr(self._client(boto_service), _CAMEL.sub("_", action).lower(), None)
        if method is None:
            raise TaskFailed(RUNTIME, f"{boto_service} has no API action {action!r}")
        try:
            response = method(**arguments)
        except ClientError as error:
            raise _client_failure(error, prefix, cause_service) from None
        except ParamValidationError as error:
            raise TaskFailed(RUNTIME, f"Invalid parameters for {boto_service}:{action}: {error}") from None
        response.pop("ResponseMetadata", None)
        return _json_safe(response)


@functools.cache
def _snake_case(action: str) -> str:
    return _CAMEL.sub("_", action).lower()


def _arguments(parameters: Any, what: str) -> dict[str, Any]:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise TaskFailed(RUNTIME, f"The Parameters of {what} must be a JSON object")
    return dict(parameters)  # a shallow copy: the execution's data is shared, never changed here


# The DynamoDB parameters that hold attribute values (a name -> AttributeValue map each).
_ATTRIBUTE_MAPS: Final = ("Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey")


def _binary_values(arguments: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON in a definition carries B / BS values as Base64 text (the wire format); boto3
    wants the bytes (it encodes them itself), so those values are decoded. Only maps that hold one are
    rebuilt: most items have no binary attribute and pass untouched."""
    for field in _ATTRIBUTE_MAPS:
        values = arguments.get(field)
        if isinstance(values, dict) and _holds_binary(values.values()):
            arguments[field] = {name: _decoded(value) for name, value in values.items()}
    return arguments


def _holds_binary(values: Iterable[Any]) -> bool:
    for value in values:
        if not isinstance(value, dict):
            continue
        if "B" in value or "BS" in value:
            return True
        nested = value.get("M")
        if isinstance(nested, dict) and _holds_binary(nested.values()):
            return True
        items = value.get("L")
        if isinstance(items, list) and _holds_binary(items):
            return True
    return False


def _decoded(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("B"), str):
        return {**value, "B": _base64_bytes(value["B"])}
    if isinstance(value.get("BS"), list):
        return {**value, "BS": [_base64_bytes(v) if isinstance(v, str) else v for v in value["BS"]]}
    if isinstance(value.get("M"), dict):
        return {**value, "M": {name: _decoded(item) for name, item in value["M"].items()}}
    if isinstance(value.get("L"), list):
        return {**value, "L": [_decoded(item) for item in value["L"]]}
    return value


def _base64_bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise TaskFailed(RUNTIME, f"A DynamoDB binary value must be Base64 text, got {text[:50]!r}") from None


def _event_entry(entry: Any, task: TaskContext) -> Any:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    if "Detail" in entry and not isinstance(entry["Detail"], str):
        entry["Detail"] = json.dumps(entry["Detail"], separators=(",", ":"), ensure_ascii=False)
    entry["Resources"] = [*entry.get("Resources", []), task.state_machine_arn, task.execution_arn]
    return entry


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _error_name(prefix: str, code: str) -> str:
    return f"{prefix}.{code if code.endswith('Exception') else code + 'Exception'}"


def _client_failure(error: ClientError, prefix: str, cause_service: str) -> TaskFailed:
    details = error.response.get("Error", {})
    metadata = error.response.get("ResponseMetadata", {})
    code = str(details.get("Code") or "Unknown")
    message = details.get("Message") or str(error)
    cause = (
        f"{message} (Service: {cause_service}; Status Code: {metadata.get('HTTPStatusCode', 400)}; "
        f"Error Code: {code}; Request ID: {metadata.get('RequestId', '')}; Proxy: null)"
    )
    # botocore raises a modeled error as a subclass named after the API's exception shape
    # (QueueDoesNotExist for the wire code AWS.SimpleQueueService.NonExistentQueue), the name the SDKs use.
    modeled = type(error).__name__
    if code == "AccessDeniedException" and prefix in _SDK_SERVICE_EXCEPTIONS:
        # A refused call comes back from the SDK Step Functions runs on as the service's base exception,
        # with the code in the cause: Lambda.AWSLambdaException ("... Error Code: AccessDeniedException").
        return TaskFailed(f"{prefix}.{_SDK_SERVICE_EXCEPTIONS[prefix]}", cause)
    return TaskFailed(_error_name(prefix, code if modeled == "ClientError" else modeled), cause)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "read"):  # a streaming body
        return _json_safe(value.read())
    return value
