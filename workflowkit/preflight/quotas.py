"""A quota's value for this account: Service Quotas' applied value, else the documented default.

``GetServiceQuota`` answers with the applied value where Service Quotas has one ("If the applied quota
value is not available for a quota, the quota is not retrieved": ``NoSuchResourceException``), and the
credentials may not be allowed to ask. Then the documented default stands in, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workflowkit.preflight.errors import error_code


@dataclass(frozen=True)
class QuotaSpec:
    """A quota as AWS documents it: its Service Quotas code and its default, with the page that says so."""

    title: str
    service_code: str | None
    quota_code: str | None
    default: int
    documented_at: str
    regional_defaults: tuple[tuple[str, int], ...] = ()

    def default_in(self, region: str) -> int:
        return dict(self.regional_defaults).get(region, self.default)


@dataclass(frozen=True)
class Quota:
    value: int
    source: str


def quota_value(session: boto3.Session, spec: QuotaSpec) -> Quota:
    region = str(session.region_name)
    default = spec.default_in(region)
    if spec.service_code is None or spec.quota_code is None:
        return Quota(default, f"the documented default, {spec.documented_at}")
    try:
        answer = session.client("service-quotas").get_service_quota(
            ServiceCode=spec.service_code, QuotaCode=spec.quota_code
        )
    except ClientError as error:
        reason = error_code(error)
    except BotoCoreError as error:
        reason = type(error).__name__
    else:
        return Quota(int(answer["Quota"]["Value"]), f"Service Quotas {spec.quota_code}")
    return Quota(
        default, f"the documented default, {spec.documented_at} (Service Quotas {spec.quota_code}: {reason})"
    )


def usage(used: int, limit: int) -> str:
    return f"{used} of {limit} ({100 * used // max(limit, 1)}%)"


# Above this share of a quota a check warns: the next stack, or the next stage, will not fit.
WARN_AT = 0.9
