"""The compliance option of a stage: which cdk-nag packs its synth must pass, and what the strict one asks.

``-c compliance=strict`` adds cdk-nag's NIST 800-53 rev 5, PCI DSS 3.2.1 and HIPAA Security packs to the
AwsSolutions and Serverless packs every synth runs, and builds what they ask for: AWS Backup plans for the
tables, reserved concurrency for every function, customer-managed policies instead of inline ones
(docs/decisions/0033-compliance-stage.md). Without it (``default``) the stack is what it always was.

The reserved figures are the stage's to choose (``-c reservedConcurrency=default=5,controller=20``): each
is carved out of the account's regional pool, which Lambda keeps at least 100 above everything reserved,
so they are small and stated here; ``workflowkit preflight`` checks them against the account's limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from aws_cdk import IPolicyValidationPlugin
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)
from constructs import IConstruct


class Compliance(StrEnum):
    """``default``: AwsSolutions and Serverless. ``strict``: NIST 800-53 R5, PCI DSS 3.2.1, HIPAA too."""

    DEFAULT = "default"
    STRICT = "strict"


def parse_compliance(value: object) -> Compliance:
    """The ``compliance`` context value; unset is ``default``, anything unknown is refused."""
    if value is None or value == "":
        return Compliance.DEFAULT
    try:
        return Compliance(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(c.value for c in Compliance)
        raise ValueError(f"compliance {value!r} is not one of {choices}") from None


# Reserved concurrent executions per function under ``strict`` (POWERTOOLS_SERVICE_NAME -> figure).
# - controller: every workflow's events go through it, at most this many batches of 10 at a time (its SQS
#   mapping's MaximumConcurrency is set to the same figure, so the poller never outruns the reservation);
# - frontdoor: the HTTP API admits 50 requests/s (burst 100); at up to 200 ms a request that is 10 in
#   flight, reserved twice over. A burst past it is throttled and the caller retries.
# - any other function: a consumer (its mapping capped alike) or a Step Functions task function (the ASLs
#   retry Lambda.TooManyRequestsException with backoff).
DEFAULT_RESERVED = 5
RESERVED_BY_SERVICE: Mapping[str, int] = {"controller": 10, "frontdoor": 20}
DEFAULT_KEY = "default"


@dataclass(frozen=True)
class ReservedConcurrency:
    """Each function's reservation: ``by_service`` for the functions it names, ``default`` for the rest."""

    default: int = DEFAULT_RESERVED
    by_service: Mapping[str, int] = field(default_factory=lambda: dict(RESERVED_BY_SERVICE))

    def __post_init__(self) -> None:
        for name, figure in {DEFAULT_KEY: self.default, **self.by_service}.items():
            if isinstance(figure, bool) or not isinstance(figure, int) or figure < 1:
                raise ValueError(f"reserved concurrency {name}={figure!r}: a whole number of at least 1")

    def of(self, service: str) -> int:
        return self.by_service.get(service, self.default)

    def unknown(self, services: Sequence[str]) -> list[str]:
        """The names this configuration gives a figure that no function of ``services`` has."""
        return sorted(set(self.by_service) - set(services))


def parse_reserved_concurrency(value: object) -> ReservedConcurrency:
    """The stated figures, overridden by the context value: ``default=5,controller=20,<service>-<module>=2``
    on the command line, or the same as an object in cdk.json. Unset keeps the stated figures."""
    if value is None or value == "":
        return ReservedConcurrency()
    if isinstance(value, Mapping):
        pairs = [(str(name), str(figure)) for name, figure in value.items()]
    elif isinstance(value, str):
        pairs = [_pair(item.strip()) for item in value.split(",") if item.strip()]
    else:
        raise ValueError(f"reserved concurrency {value!r}: expected <function service>=<figure>,...")
    default = DEFAULT_RESERVED
    by_service = dict(RESERVED_BY_SERVICE)
    for name, figure in pairs:
        if not figure.strip().isdigit():
            raise ValueError(f"reserved concurrency {name}={figure!r}: a whole number of at least 1")
        if name == DEFAULT_KEY:
            default = int(figure)
        else:
            by_service[name] = int(figure)
    return ReservedConcurrency(default=default, by_service=by_service)


def _pair(item: str) -> tuple[str, str]:
    name, separator, figure = item.partition("=")
    if not separator or not name.strip():
        raise ValueError(f"reserved concurrency {item!r}: expected <function service>=<figure>")
    return name.strip(), figure.strip()


def nag_packs(scope: IConstruct, compliance: Compliance) -> list[IPolicyValidationPlugin]:
    """The cdk-nag packs a synth of ``compliance`` must pass: an unacknowledged finding fails it."""
    packs: list[IPolicyValidationPlugin] = [AwsSolutionsChecks(scope), ServerlessChecks(scope)]
    if compliance is Compliance.STRICT:
        packs += [NIST80053R5Checks(scope), PCIDSS321Checks(scope), HIPAASecurityChecks(scope)]
    return packs
