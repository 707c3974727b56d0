"""IAM principals that call the app's HTTP API in the local cloud: an identity and the template's managed
policies attached to it.

API Gateway authorises an IAM route by the caller's policies; the local cloud does the same with the
policies the template defines (``cloud.http(..., caller_policies=...)``, docs/decisions/0021). A
principal names them by the stack output that publishes them (``ClientPolicyArn``,
``<Approvers>ApproverPolicyArn``) or by ARN, so a test or a simulation acts as a client, an operator or
an approver exactly as a person holding that policy would, and a principal holding none is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["user", "role"]


class PrincipalError(ValueError):
    """A principal names a policy the stack does not output."""


@dataclass(frozen=True)
class ApiPrincipal:
    """Who calls: ``arn`` is what the front door records as the caller (``userArn``); ``policies`` are the
    ARNs of the template's managed policies attached to it (none: refused every IAM route)."""

    arn: str
    policies: tuple[str, ...] = ()


def principal(
    name: str,
    *policies: str,
    outputs: Mapping[str, str],
    account: str,
    kind: Kind = "user",
) -> ApiPrincipal:
    """An IAM user ``name`` (or a session of role ``name``) holding ``policies`` (output names or ARNs)."""
    arns: list[str] = []
    for policy in policies:
        if policy.startswith("arn:"):
            arns.append(policy)
        elif policy in outputs:
            arns.append(outputs[policy])
        else:
            offered = sorted(name for name in outputs if name.endswith("PolicyArn"))
            raise PrincipalError(f"the stack outputs no {policy!r}; its policies: {offered}")
    arn = (
        f"arn:aws:iam::{account}:user/{name}"
        if kind == "user"
        else f"arn:aws:sts::{account}:assumed-role/{name}/{name}-session"
    )
    return ApiPrincipal(arn=arn, policies=tuple(arns))
