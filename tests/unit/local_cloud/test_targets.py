"""What a rule target receives: the event, a constant Input, an InputPath, or an input transformation."""

from __future__ import annotations

import json

import pytest

from workflowkit.eventbridge import rate_period
from workflowkit.targets import target_input

EVENT = {
    "id": "e-1",
    "detail-type": "OrderSubmitted",
    "source": "commerce.orders",
    "time": "2026-01-05T09:00:00Z",
    "detail": {"data": {"orderId": "o-1", "amountMinor": 2500, "tags": ["gift"]}},
}


def test_no_input_settings_deliver_the_whole_event() -> None:
    assert json.loads(target_input({"Arn": "a"}, EVENT, rule_name="r")) == EVENT


def test_input_replaces_the_event_with_constant_json() -> None:
    assert target_input({"Arn": "a", "Input": '{"fixed": true}'}, EVENT, rule_name="r") == '{"fixed": true}'


def test_input_path_selects_part_of_the_event() -> None:
    assert json.loads(target_input({"Arn": "a", "InputPath": "$.detail.data"}, EVENT, rule_name="r")) == {
        "orderId": "o-1",
        "amountMinor": 2500,
        "tags": ["gift"],
    }


def test_input_transformer_fills_quoted_and_unquoted_placeholders() -> None:
    # GIVEN the template CDK's RuleTargetInput.from_object emits: strings quoted, other values bare
    transformer = {
        "InputPathsMap": {
            "order": "$.detail.data.orderId",
            "amount": "$.detail.data.amountMinor",
            "tags": "$.detail.data.tags",
        },
        "InputTemplate": (
            '{"order": "<order>", "amount": <amount>, "tags": <tags>, "rule": "<aws.events.rule-name>"}'
        ),
    }
    delivered = json.loads(
        target_input({"Arn": "a", "InputTransformer": transformer}, EVENT, rule_name="to-queue")
    )
    assert delivered == {"order": "o-1", "amount": 2500, "tags": ["gift"], "rule": "to-queue"}


def test_input_transformer_escapes_strings_inside_json() -> None:
    event = {**EVENT, "detail": {"data": {"orderId": 'o-"1"'}}}
    transformer = {
        "InputPathsMap": {"order": "$.detail.data.orderId"},
        "InputTemplate": '{"order": "<order>"}',
    }
    assert json.loads(target_input({"Arn": "a", "InputTransformer": transformer}, event, rule_name="r")) == {
        "order": 'o-"1"'
    }


def test_a_plain_text_template_gets_the_raw_values() -> None:
    transformer = {
        "InputPathsMap": {"order": "$.detail.data.orderId"},
        "InputTemplate": "order <order> arrived",
    }
    assert (
        target_input({"Arn": "a", "InputTransformer": transformer}, EVENT, rule_name="r")
        == "order o-1 arrived"
    )


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200), ("rate(1 day)", 86400)],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert rate_period(expression).total_seconds() == seconds


@pytest.mark.parametrize(
    "expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(0 12 * * ? *)"]
)
def test_rate_expressions_eventbridge_rejects_or_the_local_cloud_cannot_fire(expression: str) -> None:
    with pytest.raises(ValueError, match=r"rate|schedule"):
        rate_period(expression)
