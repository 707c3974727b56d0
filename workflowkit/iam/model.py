"""What a request is and what the evaluator answers: principals, requests, decisions, verdicts."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

ContextValue = str | bool | int | float | Sequence[str]


@dataclass(frozen=True)
class Principal:
    """Who makes the request.

    ``arn`` is an IAM ARN (role, assumed-role session, user, account root) or, for an AWS service
    principal, the service name itself (``events.amazonaws.com``), with ``service`` set and no account.
    A session ARN ``arn:aws:sts::<account>:assumed-role/<role>/<session>`` is matched by its role's ARN in
    policies, as AWS does.
    """

    arn: str
    account: str | None
    service: str | None = None

    @classmethod
    def of_service(cls, service: str) -> Principal:
        return cls(arn=service, account=None, service=service)

    @property
    def is_service(self) -> bool:
        return self.service is not None


@dataclass(frozen=True, eq=False)
class Request:
    """One API call to authorize.

    ``context`` holds condition keys (names are case-insensitive, as in AWS). Unless ``context`` sets them,
    the principal's own keys are added the way AWS adds them: ``aws:PrincipalArn`` (the role's ARN for an
    assumed-role session), ``aws:PrincipalAccount``, ``aws:PrincipalServiceName`` and
    ``aws:PrincipalIsAWSService``.
    """

    principal: Principal
    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    @cached_property
    def _folded_context(self) -> dict[str, ContextValue]:
        return {key.lower(): value for key, value in self.context.items()}

    def condition_value(self, key: str) -> tuple[str, ...] | None:
        """The value(s) of condition key ``key`` (lower-case) as strings, or None when the key is absent."""
        value = self._folded_context.get(key)
        if value is None:
            return _principal_keys(self.principal).get(key)
        return _as_strings(value)


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


@dataclass(frozen=True)
class Outcome:
    """One policy's answer: its decision, the statement that decided it, and whether an Allow only
    names the principal's account (which delegates to the account's identity policies, see
    :func:`workflowkit.iam.authorize`)."""

    decision: Decision
    statement: str | None = None
    via_account: bool = False


def _as_strings(value: ContextValue) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, int | float):
        return (str(value),)
    return tuple(_as_strings(item)[0] if not isinstance(item, str) else item for item in value)


@lru_cache(maxsize=1024)
def _principal_keys(principal: Principal) -> dict[str, tuple[str, ...]]:
    if principal.service is not None:
        return {
            "aws:principalservicename": (principal.service,),
            "aws:principalisawsservice": ("true",),
        }
    keys: dict[str, tuple[str, ...]] = {
        "aws:principalisawsservice": ("false",),
        "aws:principalarn": (_principal_arn(principal.arn),),
    }
    if principal.account is not None:
        keys["aws:principalaccount"] = (principal.account,)
    return keys


def _principal_arn(arn: str) -> str:
    # IAM User Guide, aws:PrincipalArn: for a role session "the request context returns the ARN of the
    # role, not the ARN of the user that assumed the role". The session ARN carries no role path.
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role_name = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role_name}"
    return arn
