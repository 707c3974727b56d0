"""Preflight fixtures: moto's account, a session on it, and a cdk.out writer."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.unit.preflight.accounts import REGION


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name=REGION)
