"""Reading permissions from a template: what the model refuses to guess."""

from __future__ import annotations

from typing import Any

import pytest

from workflowkit.access import AccessModel, AccessModelError
from workflowkit.template import ResolvedTemplate


def _queue_policy(statement_sid: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": "Queue"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": statement_sid,
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                    }
                ],
            },
        },
    }


def _template(resources: dict[str, Any]) -> ResolvedTemplate:
    return ResolvedTemplate(
        stack_name="S", template={"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}, **resources}}
    )


def test_one_policy_per_queue_is_read() -> None:
    model = AccessModel.from_templates([_template({"Policy": _queue_policy("A")})])
    assert list(model.resource_policies) == [next(iter(model.resources))]


def test_two_policy_resources_on_one_queue_are_refused_since_aws_keeps_only_the_last_written() -> None:
    with pytest.raises(AccessModelError, match="only the last one"):
        AccessModel.from_templates([_template({"First": _queue_policy("A"), "Second": _queue_policy("B")})])


def test_an_aws_managed_policy_the_model_does_not_know_is_refused_rather_than_guessed() -> None:
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
        },
    }
    with pytest.raises(AccessModelError, match="AdministratorAccess"):
        AccessModel.from_templates([_template({"Role": role})])
