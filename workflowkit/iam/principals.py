"""The Principal / NotPrincipal element: who a resource-based statement is about, and how strongly.

A statement can name the caller itself (its role ARN, its assumed-role session ARN, its user ARN, its
service, or everyone with ``"*"``) or only the caller's account. IAM User Guide, *Principal*: an account
principal "delegates authority to the account. When you allow access to a different account, an
administrator in that account must then grant access to an identity"; and "The account ARN and the
shortened account ID behave the same way". The difference decides same-account and KMS requests (see
:mod:`workflowkit.iam.evaluation`), so a match answers with a :class:`Grant`, not a boolean.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from workflowkit.iam.exceptions import PolicyError
from workflowkit.iam.model import Principal

_ACCOUNT_ID = re.compile(r"\d{12}")
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


class Grant(enum.IntEnum):
    NONE = 0
    ACCOUNT = 1  # the statement names the caller's account: delegates to its identity policies
    DIRECT = 2  # the statement names the caller (or everyone)


@dataclass(frozen=True)
class _Identity:
    """The names a principal answers to in a policy."""

    account: str | None
    role: tuple[str, str, str] | None  # (partition, account, role name) for a role or its sessions
    arns: frozenset[str]  # exact ARNs: the session's or the user's
    service: str | None


@lru_cache(maxsize=4096)
def _identity(principal: Principal) -> _Identity:
    if principal.service is not None:
        return _Identity(account=None, role=None, arns=frozenset(), service=principal.service.lower())
    parts = principal.arn.split(":", 5)
    role = None
    arns = frozenset({principal.arn})
    if len(parts) == 6 and parts[0] == "arn":
        _, partition, service, _, account, resource = parts
        if service == "iam" and resource.startswith("role/"):
            # a role answers to its name (whatever the path), not to a second, exact-ARN name
            role, arns = (partition, account, resource.rsplit("/", 1)[1]), frozenset()
        elif service == "sts" and resource.startswith("assumed-role/"):
            role = (partition, account, resource.split("/")[1])
    return _Identity(account=principal.account, role=role, arns=arns, service=None)


class PrincipalMatcher:
    """A parsed Principal or NotPrincipal element."""

    __slots__ = ("_accounts", "_arns", "_cache", "_deny", "_everyone", "_negated", "_roles", "_services")

    def __init__(self, element: Any, *, negated: bool, deny: bool) -> None:
        self._negated = negated
        self._deny = deny
        self._everyone = False
        self._accounts: set[str] = set()
        self._roles: set[tuple[str, str, str]] = set()
        self._arns: set[str] = set()
        self._services: set[str] = set()
        self._cache: dict[str, Grant] = {}  # by principal ARN (a service principal's ARN is its name)
        if element == "*":
            self._everyone = True
        elif isinstance(element, Mapping) and element:
            for kind, values in element.items():
                if kind not in _PRINCIPAL_TYPES:
                    raise PolicyError(
                        f"unknown principal type {kind!r} (expected one of {sorted(_PRINCIPAL_TYPES)})"
                    )
                for value in _strings(values, kind):
                    self._add(kind, value)
        else:
            raise PolicyError(f'a principal is "*" or an object such as {{"AWS": ...}}, not {element!r}')

    def _add(self, kind: str, value: str) -> None:
        if kind == "Service":
            self._services.add(value.lower())
            return
        if kind != "AWS":
            return  # Federated and CanonicalUser principals never make the requests modelled here
        if value == "*":
            self._everyone = True
            return
        if "*" in value or "?" in value:
            # IAM User Guide, Principal: "You cannot use a wildcard to match part of a principal name or ARN."
            raise PolicyError(f"wildcards are not allowed in a principal: {value!r}")
        if _ACCOUNT_ID.fullmatch(value):
            self._accounts.add(value)
            return
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            self._arns.add(value)  # a unique ID (AROA...) left behind by a deleted role: matches nobody
            return
        _, partition, service, _, account, resource = parts
        if service == "iam" and resource == "root":
            self._accounts.add(account)
        elif service == "iam" and resource.startswith("role/"):
            self._roles.add((partition, account, resource.rsplit("/", 1)[1]))
        elif service == "iam" and resource.startswith("group/"):
            raise PolicyError(f"a group cannot be a principal: {value!r}")
        else:
            self._arns.add(value)

    def match(self, principal: Principal) -> Grant:
        grant = self._cache.get(principal.arn)
        if grant is None:
            grant = self._cache[principal.arn] = self._match(_identity(principal))
        return grant

    def _names(self, identity: _Identity) -> list[Grant]:
        """How strongly each name the principal answers to is listed (NONE when not listed)."""
        if identity.service is not None:
            return [Grant.DIRECT if identity.service in self._services else Grant.NONE]
        names = []
        if identity.arns:
            names.append(Grant.DIRECT if identity.arns & self._arns else Grant.NONE)
        if identity.role is not None:
            names.append(Grant.DIRECT if identity.role in self._roles else Grant.NONE)
        if identity.account is not None:
            names.append(Grant.ACCOUNT if identity.account in self._accounts else Grant.NONE)
        return names

    def _match(self, identity: _Identity) -> Grant:
        if not self._negated:
            if self._everyone:
                return Grant.DIRECT
            return max(self._names(identity), default=Grant.NONE)
        if self._everyone:
            return Grant.NONE
        # NotPrincipal. IAM User Guide: "AWS might validate the account first, then the role, and then the
        # assumed-role user", so a Deny applies unless *every* name is excepted, and (our reading, the
        # conservative one) an Allow applies only when *no* name is excepted.
        listed = [name is not Grant.NONE for name in self._names(identity)]
        applies = not all(listed) if self._deny else not any(listed)
        return Grant.DIRECT if applies else Grant.NONE


def _strings(values: Any, kind: str) -> Iterable[str]:
    items = values if isinstance(values, list) else [values]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"principal {kind!r} takes a non-empty string or list of strings, not {values!r}")
    return items
