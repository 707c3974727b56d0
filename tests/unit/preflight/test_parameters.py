"""SSM parameters the template resolves: the Powertools layer and any other dynamic reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from tests.unit.preflight.accounts import (
    POWERTOOLS_LAYER,
    POWERTOOLS_PARAMETER,
    cdk_template,
    publish_public_parameter,
    write_cdk_out,
)
from workflowkit.preflight import SsmParametersCheck, StackTemplate, Status, load_stack_template
from workflowkit.preflight.parameters import referenced_parameters


def _function(layer: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "Layers": [f"{{{{resolve:ssm:{layer}}}}}"]},
    }


def _stack(tmp_path: Path, resources: dict[str, Any]) -> StackTemplate:
    return load_stack_template(write_cdk_out(tmp_path, cdk_template(resources)), "dev")


def test_references_are_found_anywhere_and_the_bootstrap_parameter_is_left_out(tmp_path: Path) -> None:
    stack = _stack(
        tmp_path,
        {
            "Fn": _function(POWERTOOLS_PARAMETER),
            "Other": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Fn::Join": ["", ["{{resolve:ssm:/team/name:3}}", "-x"]]}},
            },
        },
    )

    assert referenced_parameters(stack) == [POWERTOOLS_PARAMETER, "/team/name:3"]


def test_the_published_powertools_layer_passes(session: boto3.Session, tmp_path: Path) -> None:
    publish_public_parameter(POWERTOOLS_PARAMETER, POWERTOOLS_LAYER)

    result = SsmParametersCheck().run(session, _stack(tmp_path, {"Fn": _function(POWERTOOLS_PARAMETER)}))

    assert result.status is Status.OK
    assert POWERTOOLS_LAYER in result.detail


def test_a_missing_powertools_layer_fails_with_how_to_find_one(
    session: boto3.Session, tmp_path: Path
) -> None:
    result = SsmParametersCheck().run(session, _stack(tmp_path, {"Fn": _function(POWERTOOLS_PARAMETER)}))

    assert result.status is Status.FAILED
    assert POWERTOOLS_PARAMETER in result.detail
    assert "get-parameters-by-path --path /aws/service/powertools/python/x86_64/python3.13" in result.fix
    assert "powertoolsLayerArn" in result.fix


def test_a_missing_own_parameter_fails_with_put_parameter(session: boto3.Session, tmp_path: Path) -> None:
    session.client("ssm").put_parameter(Name="/team/present", Value="x", Type="String")
    resources = {"A": _function("/team/present"), "B": _function("/team/absent")}

    result = SsmParametersCheck().run(session, _stack(tmp_path, resources))

    assert result.status is Status.FAILED
    assert "1 of 2 not found" in result.detail
    assert "/team/absent: create it" in result.fix


def test_ssm_typed_template_parameters_are_checked(session: boto3.Session, tmp_path: Path) -> None:
    template = cdk_template({})
    template["Parameters"]["Ami"] = {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/team/ami"}
    stack = load_stack_template(write_cdk_out(tmp_path, template), "dev")

    result = SsmParametersCheck().run(session, stack)

    assert result.status is Status.FAILED
    assert "/team/ami" in result.detail
