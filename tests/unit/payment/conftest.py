"""Fixtures of the payment tests: moto, the sandbox gateway, and the local cloud of ``payment_cloud``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

os.environ.setdefault("PAYMENTS_TABLE_NAME", "payments")  # read by payment.gateway at import
os.environ.setdefault("PAYMENT_GATEWAY", "sandbox")

from payment import gateway as gateway_module  # after the environment above: read at import
from payment.gateways import SandboxGateway
from tests.unit.payment.payment_cloud import REGION, TABLE, PaymentCloud, create_payments_table


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture
def sandbox(aws: None) -> SandboxGateway:
    """The sandbox gateway over a fresh moto payments table."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_payments_table(client)
    return SandboxGateway(table_name=TABLE, client=client)


@pytest.fixture
def cloud(aws: None, monkeypatch: pytest.MonkeyPatch) -> PaymentCloud:
    cloud = PaymentCloud()
    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", lambda fn, event=None: cloud.invoke(fn, event))
    # Retry waits are virtual: record the interval the interpreter computed instead of sleeping it.
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=cloud.retry_waits.append))
    # Wait states too: record the seconds, return at once (the test may act in between, see on_wait).
    monkeypatch.setattr(WaitFunction, "_wait_interval", lambda _, env, wait_seconds: cloud.wait(wait_seconds))
    monkeypatch.setattr(
        gateway_module,
        "GATEWAY",
        SandboxGateway(table_name=TABLE, client=boto3.client("dynamodb", region_name=REGION)),
    )
    return cloud
