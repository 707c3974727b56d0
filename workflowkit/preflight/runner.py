"""Running the checks: one row each, in sequence, whatever a check's AWS calls answer."""

from __future__ import annotations

from collections.abc import Sequence

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult, Status
from workflowkit.preflight.credentials import CredentialsCheck
from workflowkit.preflight.errors import ACCESS_DENIED, error_code


def open_session(region: str | None, template: StackTemplate) -> boto3.Session:
    """The user's default credentials; the region from --region, else their profile, else ``cdk.out``."""
    session = boto3.Session(region_name=region) if region else boto3.Session()
    if not session.region_name and template.region:
        session = boto3.Session(region_name=template.region)
    return session


def run_checks(session: boto3.Session, template: StackTemplate, checks: Sequence[Check]) -> list[CheckResult]:
    """Every check's row. After a failed credentials check the others are not run: each would fail alike."""
    results: list[CheckResult] = []
    for check in checks:
        if _no_credentials(results) and not isinstance(check, CredentialsCheck):
            results.append(CheckResult(check.name, Status.WARNING, "not run: the credentials check failed"))
            continue
        results.append(_run_one(check, session, template))
    return results


def _no_credentials(results: Sequence[CheckResult]) -> bool:
    return any(r.check == CredentialsCheck.name and r.failed for r in results)


def _run_one(check: Check, session: boto3.Session, template: StackTemplate) -> CheckResult:
    try:
        return check.run(session, template)
    except ClientError as error:
        code, operation = error_code(error), error.operation_name
        if code in ACCESS_DENIED:
            return CheckResult(
                check.name,
                Status.WARNING,
                f"could not check: {operation} was denied ({code})",
                f"allow {operation} to these credentials, or check this by hand",
            )
        return CheckResult(
            check.name,
            Status.WARNING,
            f"could not check: {operation} answered {code} ({error.response['Error'].get('Message', '')})",
            "re-run later",
        )
    except BotoCoreError as error:
        return CheckResult(check.name, Status.WARNING, f"could not check: {error}", "re-run later")
    except Exception as error:  # a bug in a check must not hide the other rows
        return CheckResult(
            check.name, Status.FAILED, f"the check crashed: {type(error).__name__}: {error}", "report a bug"
        )
