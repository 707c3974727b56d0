"""Preflight on the real synthesized template (the session's cdk.out), against moto's account.

What the stack needs is read from the template, so these tests follow the stack as it changes: the
Powertools parameter must match the functions' runtime and the pinned Powertools version, and a
prepared account passes every check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION
from botocore.stub import Stubber
from moto import mock_aws

from tests.unit.preflight.accounts import ACCOUNT, REGION, StubbedSession, bootstrap, publish_public_parameter
from workflowkit.preflight import (
    NameCollisionCheck,
    StackTemplate,
    Status,
    default_checks,
    load_stack_template,
    run_checks,
)
from workflowkit.preflight.parameters import referenced_parameters

_POWERTOOLS = re.compile(
    r"/aws/service/powertools/python/(?P<arch>[^/]+)/(?P<runtime>[^/]+)/(?P<version>[^/]+)"
)


@pytest.fixture
def stack(cdk_out: Path) -> StackTemplate:
    template = load_stack_template(cdk_out, "dev")
    if template.account not in (None, ACCOUNT) or template.region not in (None, REGION):
        pytest.skip(f"cdk.out was synthesized for {template.account}/{template.region}, not moto's account")
    return template


@pytest.fixture
def account(stack: StackTemplate) -> Iterator[StubbedSession]:
    """moto's account, bootstrapped, with the layer parameters published; Lambda's limits stubbed."""
    with mock_aws():
        client = boto3.client("lambda", region_name=REGION)
        stubber = Stubber(client)
        stubber.add_response(
            "get_account_settings",
            {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}},
        )
        session = StubbedSession({"lambda": client})
        bootstrap(session)
        for name in referenced_parameters(stack):
            publish_public_parameter(name, f"arn:aws:lambda:{REGION}:017000801446:layer:Powertools:1")
        with stubber:
            yield session


def test_the_layer_parameter_matches_the_functions_runtime_and_the_pinned_powertools(
    stack: StackTemplate,
) -> None:
    runtimes = {props["Runtime"] for _, props in stack.of_type("AWS::Lambda::Function") if "Runtime" in props}
    architectures = {
        arch
        for _, props in stack.of_type("AWS::Lambda::Function")
        for arch in props.get("Architectures", ["x86_64"])
    }

    layers = [m for name in referenced_parameters(stack) if (m := _POWERTOOLS.fullmatch(name))]

    assert layers, "the template resolves no Powertools layer parameter"
    assert {m["runtime"] for m in layers} == runtimes
    assert {m["arch"] for m in layers} == architectures
    assert {m["version"] for m in layers} == {POWERTOOLS_VERSION}


def test_the_stack_requires_a_bootstrap_version(stack: StackTemplate) -> None:
    assert stack.stack_name == "WorkflowKit-dev"
    assert stack.bootstrap_parameter == "/cdk-bootstrap/hnb659fds/version"
    assert stack.required_bootstrap_version is not None
    assert stack.required_bootstrap_version >= 6


def test_a_prepared_account_passes_every_check(account: StubbedSession, stack: StackTemplate) -> None:
    results = run_checks(account, stack, default_checks())

    not_ok = [(r.check, r.status.value, r.detail) for r in results if r.status is not Status.OK]
    assert not_ok == []
    rules = next(r for r in results if r.check == "eventbridge-rules-per-bus")
    assert re.search(r"workflowkit-dev: \d+ \+ 0 others", rules.detail)


def test_the_stacks_bus_left_in_the_account_collides(account: StubbedSession, stack: StackTemplate) -> None:
    bus = next(props["Name"] for _, props in stack.of_type("AWS::Events::EventBus"))
    account.client("events").create_event_bus(Name=bus)

    result = NameCollisionCheck().run(account, stack)

    assert result.status is Status.FAILED
    assert f"event bus {bus!r}" in result.detail
