"""Reading what the stack needs from cdk.out: stack per stage, environment, bootstrap requirements."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.preflight.accounts import VERSION_PARAMETER, cdk_template, write_cdk_out
from workflowkit.preflight import load_stack_template
from workflowkit.template import TemplateError


def test_the_stage_selects_its_stack_and_the_manifest_its_requirements(tmp_path: Path) -> None:
    # GIVEN a cloud assembly synthesized for the dev stage, region-bound, unknown account
    out = write_cdk_out(tmp_path, cdk_template({}), required_version=21)

    # WHEN it is read for the dev stage
    stack = load_stack_template(out, "dev")

    # THEN the stack, its environment and its bootstrap needs come from the manifest
    assert stack.stack_name == "WorkflowKit-dev"
    assert (stack.account, stack.region) == (None, "us-east-1")
    assert stack.bootstrap_parameter == VERSION_PARAMETER
    assert stack.required_bootstrap_version == 21  # the manifest asks more than the template's rule (6)
    assert stack.qualifier == "hnb659fds"
    assert stack.toolkit_stack_name == "CDKToolkit"
    assert stack.asset_buckets == ("cdk-hnb659fds-assets-${AWS::AccountId}-us-east-1",)


def test_the_template_rule_alone_gives_the_required_version(tmp_path: Path) -> None:
    out = write_cdk_out(tmp_path, cdk_template({}, required_version=6), required_version=1)

    assert load_stack_template(out, "dev").required_bootstrap_version == 6


def test_cdk_json_names_the_qualifier_and_toolkit_stack(tmp_path: Path) -> None:
    # GIVEN a template without bootstrap parameter and a cdk.json with a custom qualifier
    out = write_cdk_out(
        tmp_path,
        {"Resources": {}},
        cdk_json={"context": {"@aws-cdk/core:bootstrapQualifier": "wfk"}, "toolkitStackName": "Boot"},
    )
    manifest = (out / "manifest.json").read_text().replace(VERSION_PARAMETER, "")
    (out / "manifest.json").write_text(manifest.replace('"bootstrapStackVersionSsmParameter": ""', '"x": 1'))

    stack = load_stack_template(out, "dev")

    assert stack.qualifier == "wfk"
    assert stack.bootstrap_parameter == "/cdk-bootstrap/wfk/version"
    assert stack.toolkit_stack_name == "Boot"


def test_a_stage_that_was_not_synthesized_is_an_error_naming_the_stacks(tmp_path: Path) -> None:
    out = write_cdk_out(tmp_path, cdk_template({}))

    with pytest.raises(TemplateError, match=r"stage 'prod'.*WorkflowKit-dev.*-c stage=prod"):
        load_stack_template(out, "prod")


def test_a_missing_cdk_out_says_to_synthesize(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="npx cdk synth"):
        load_stack_template(tmp_path / "cdk.out", "dev")


def test_a_concrete_environment_is_kept(tmp_path: Path) -> None:
    out = write_cdk_out(tmp_path, cdk_template({}), environment="aws://111122223333/eu-west-1")

    stack = load_stack_template(out, "dev")

    assert (stack.account, stack.region) == ("111122223333", "eu-west-1")
