"""Who the credentials are (``sts:GetCallerIdentity``): account, partition, principal."""

from __future__ import annotations

from dataclasses import dataclass

import boto3


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str
    region: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.startswith("arn:") else "aws"

    def environment(self) -> str:
        """The CDK environment, as ``cdk bootstrap`` takes it."""
        return f"aws://{self.account}/{self.region}"


def who_am_i(session: boto3.Session) -> Caller:
    identity = session.client("sts").get_caller_identity()
    return Caller(account=identity["Account"], arn=identity["Arn"], region=str(session.region_name))
