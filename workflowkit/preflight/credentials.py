"""Whose credentials these are, and whether they point where ``cdk.out`` will deploy."""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult
from workflowkit.preflight.errors import error_code
from workflowkit.preflight.identity import who_am_i

_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_INVALID = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"})


class CredentialsCheck(Check):
    name = "credentials"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        if not session.region_name:
            return self.failed(
                "no region: neither --region, AWS_REGION/the profile nor cdk.out names one",
                "pass --region, or set AWS_REGION (or region in your AWS profile)",
            )
        try:
            caller = who_am_i(session)
        except (NoCredentialsError, PartialCredentialsError):
            return self.failed(
                "no AWS credentials found (environment, profile, SSO, instance role)",
                "log in first: 'aws sso login --profile P' and AWS_PROFILE=P, or 'aws configure'",
            )
        except ClientError as error:
            code = error_code(error)
            if code in _EXPIRED:
                return self.failed(f"the credentials have expired ({code})", "log in again, then re-run")
            if code in _INVALID:
                return self.failed(
                    f"the credentials are not valid ({code})", "check the access key / profile"
                )
            raise
        detail = f"{caller.arn} in account {caller.account}, region {caller.region}"
        if template.account and template.account != caller.account:
            return self.failed(
                f"{detail}; but {template.stack_name} was synthesized for account {template.account}",
                f"use credentials for {template.account}, or synthesize again with these "
                "(CDK_DEFAULT_ACCOUNT comes from them)",
            )
        if template.region and template.region != caller.region:
            return self.failed(
                f"{detail}; but {template.stack_name} was synthesized for region {template.region}, "
                "where cdk deploy will put it",
                f"run preflight with --region {template.region}, or synthesize again with "
                f"AWS_REGION={caller.region} (CDK_DEFAULT_REGION comes from it)",
            )
        return self.ok(detail)
