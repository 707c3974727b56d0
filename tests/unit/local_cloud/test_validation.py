"""The compiled validator accepts what botocore accepts and fails what it fails, with botocore's report."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from workflowkit.validation import CompiledValidator

_CLIENTS = {
    name: boto3.client(name, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    for name in ("dynamodb", "events", "scheduler", "sns", "stepfunctions")
}

_NESTED_ITEM = {
    "pk": {"S": "a"},
    "n": {"N": "1.5"},
    "b": {"B": b"\x00\x01"},
    "m": {"M": {"l": {"L": [{"S": "x"}, {"M": {"deep": {"BOOL": True}}}, {"NULL": True}]}}},
    "ss": {"SS": ["a", "b"]},
}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    # valid
    ("dynamodb", "PutItem", {"TableName": "orders", "Item": _NESTED_ITEM}),
    ("dynamodb", "GetItem", {"TableName": "orders", "Key": {"pk": {"S": "a"}}, "ConsistentRead": True}),
    ("dynamodb", "Query", {"TableName": "orders", "KeyConditionExpression": "pk = :p", "Limit": 5}),
    (
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "orders", "Item": {"pk": {"S": "a"}}}}]},
    ),
    ("events", "PutEvents", {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]}),
    ("events", "PutEvents", {"Entries": [{"Source": "s", "Time": datetime(2030, 1, 1, tzinfo=UTC)}]}),
    (
        "scheduler",
        "CreateSchedule",
        {
            "Name": "n",
            "ScheduleExpression": "at(2030-01-01T00:00:00)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:sqs:us-east-1:1:q", "RoleArn": "arn:aws:iam::1:role/r"},
            "StartDate": "2030-01-01T00:00:00Z",  # a timestamp string: botocore parses it
        },
    ),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "m"}),
    # invalid: each must fail with botocore's own report
    ("dynamodb", "PutItem", {"TableName": "orders"}),  # missing required
    ("dynamodb", "PutItem", {"TableName": "orders", "Item": {}, "Bogus": 1}),  # unknown field
    ("dynamodb", "PutItem", {"TableName": "", "Item": {}}),  # below min length
    ("dynamodb", "PutItem", {"TableName": "orders", "Item": {"pk": {"N": 5}}}),  # wrong scalar type
    ("dynamodb", "PutItem", {"TableName": "orders", "Item": {"pk": {"L": "not a list"}}}),
    ("dynamodb", "Query", {"TableName": "orders", "Limit": 0}),  # below min value
    ("dynamodb", "GetItem", {"TableName": "orders", "Key": {"pk": {"S": "a"}}, "ConsistentRead": "yes"}),
    ("dynamodb", "TransactWriteItems", {"TransactItems": []}),  # list below min length
    ("events", "PutEvents", {"Entries": [{"Source": "s", "DetailType": 42}]}),
    ("events", "PutEvents", {"Entries": [{"Source": "s", "Time": "not a time"}]}),
    ("sns", "Publish", {"TopicArn": "arn", "Message": "m", "MessageAttributes": {"a": {"DataType": 1}}}),
    ("stepfunctions", "StartExecution", {"stateMachineArn": "arn", "input": Decimal(1)}),
]


def _botocore_report(params: dict[str, Any], shape: Any) -> str | None:
    try:
        validate_parameters(params, shape)
    except ParamValidationError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("service", "operation", "params"), CASES)
def test_the_compiled_validator_agrees_with_botocore(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    shape = _CLIENTS[service].meta.service_model.operation_model(operation).input_shape
    expected = _botocore_report(params, shape)
    validator = CompiledValidator()

    for _ in range(2):  # compiled on the first call, reused on the second
        if expected is None:
            validator.validate(params, shape, model=service)
        else:
            with pytest.raises(ParamValidationError) as raised:
                validator.validate(params, shape, model=service)
            assert str(raised.value) == expected


def test_recursive_shapes_compile_once_and_accept_deep_nesting() -> None:
    shape = _CLIENTS["dynamodb"].meta.service_model.operation_model("PutItem").input_shape
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(30):
        value = {"L": [value]}
    CompiledValidator().validate({"TableName": "orders", "Item": {"pk": value}}, shape, model="dynamodb")


# Valid calls the compiled checker must accept on its own (botocore's validator is not run for them).
FAST = [
    case
    for case in CASES
    if _botocore_report(case[2], _CLIENTS[case[0]].meta.service_model.operation_model(case[1]).input_shape)
    is None
    and "StartDate" not in case[2]
]


@pytest.mark.parametrize(("service", "operation", "params"), FAST)
def test_valid_calls_are_accepted_without_botocore(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    shape = _CLIENTS[service].meta.service_model.operation_model(operation).input_shape
    assert CompiledValidator().accepts(params, shape, model=service)


def test_a_timestamp_string_is_left_to_botocore_to_parse() -> None:
    case = next(c for c in CASES if "StartDate" in c[2])
    shape = _CLIENTS[case[0]].meta.service_model.operation_model(case[1]).input_shape
    assert not CompiledValidator().accepts(case[2], shape, model=case[0])


def test_wire_form_accepts_only_what_json_carries_unchanged() -> None:
    shape = _CLIENTS["dynamodb"].meta.service_model.operation_model("PutItem").input_shape
    wire = CompiledValidator(wire_form=True)
    assert wire.accepts({"TableName": "t", "Item": {"b": {"B": b"\x00"}}}, shape, model="dynamodb")
    assert wire.accepts({"TableName": "t", "Item": {"l": {"L": [{"S": "x"}]}}}, shape, model="dynamodb")
    # botocore accepts these and changes them on the way: a tuple becomes a list, a str blob base64.
    assert not wire.accepts({"TableName": "t", "Item": {"l": {"L": ({"S": "x"},)}}}, shape, model="dynamodb")
    assert not wire.accepts({"TableName": "t", "Item": {"b": {"B": "text"}}}, shape, model="dynamodb")
