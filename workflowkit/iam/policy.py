"""A policy document, validated and compiled once, and its per-policy decision.

Parsing rejects what AWS rejects when a policy is created (a bad ``Effect``, ``Action`` with ``NotAction``,
an unknown condition operator, ...) and what this evaluator cannot model (policy variables), so a template
the local cloud accepts is not silently mis-evaluated.

Evaluation is the per-policy half of AWS's logic: a matching ``Deny`` statement is an explicit deny, else
a matching ``Allow`` an allow, else an implicit deny. Which statements cover an (action, resource) pair is
cached per policy, so a request costs a dictionary lookup plus the principal and condition checks of the
few statements that cover it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflowkit.iam.conditions import Condition
from workflowkit.iam.exceptions import PolicyError
from workflowkit.iam.matching import compile_actions, compile_resources
from workflowkit.iam.model import Decision, Outcome, Request
from workflowkit.iam.principals import Grant, PrincipalMatcher

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_ELEMENTS = frozenset(
    {
        *("Sid", "Effect", "Condition"),
        *("Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"),
    }
)
_CACHE_LIMIT = 8192
_IMPLICIT_DENY = Outcome(Decision.IMPLICIT_DENY)


@dataclass(frozen=True, slots=True)
class Statement:
    label: str  # the Sid, or the statement's index: what a verdict names
    deny: bool
    actions: re.Pattern[str] | None  # None: every action
    not_action: bool
    resources: re.Pattern[str] | None  # None: every resource (also a trust policy's missing Resource)
    not_resource: bool
    principal: PrincipalMatcher | None
    condition: Condition | None
    # the answers this statement gives, built once (a frozen dataclass costs a microsecond to construct)
    outcome: Outcome = field(init=False)
    outcome_via_account: Outcome = field(init=False)

    def __post_init__(self) -> None:
        decision = Decision.EXPLICIT_DENY if self.deny else Decision.ALLOW
        object.__setattr__(self, "outcome", Outcome(decision, self.label))
        object.__setattr__(self, "outcome_via_account", Outcome(decision, self.label, via_account=True))

    def covers(self, action: str, resource: str) -> bool:
        action_named = self.actions is None or self.actions.fullmatch(action) is not None
        if action_named is self.not_action:
            return False
        resource_named = self.resources is None or self.resources.fullmatch(resource) is not None
        return resource_named is not self.not_resource


class Policy:
    """One parsed policy document. ``name`` is how verdicts refer to it."""

    __slots__ = ("_covering", "name", "statements", "version")

    def __init__(self, *, name: str, version: str, statements: tuple[Statement, ...]) -> None:
        self.name = name
        self.version = version
        self.statements = statements
        # (action, resource) -> (covering Deny statements, covering Allow statements)
        self._covering: dict[tuple[str, str], tuple[tuple[Statement, ...], tuple[Statement, ...]]] = {}

    def __repr__(self) -> str:
        return f"Policy({self.name!r}, {len(self.statements)} statements)"

    @classmethod
    def parse(cls, document: Mapping[str, Any] | str, *, name: str) -> Policy:
        """Validate and compile ``document``; raises :class:`PolicyError` naming ``name`` when malformed."""
        try:
            return cls._parse(document, name=name)
        except PolicyError as error:
            raise PolicyError(f"{name}: {error}") from None

    @classmethod
    def _parse(cls, document: Mapping[str, Any] | str, *, name: str) -> Policy:
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except json.JSONDecodeError as error:
                raise PolicyError(f"not JSON: {error}") from None
        if not isinstance(document, Mapping):
            raise PolicyError(f"a policy document is a JSON object, not {type(document).__name__}")
        unknown = set(document) - _TOP_LEVEL
        if unknown:
            raise PolicyError(f"unknown top-level elements {sorted(unknown)}")
        # "If you do not include a Version element, the value defaults to 2008-10-17" (IAM User Guide,
        # Variables), under which "${aws:username}" is "treated as literal strings" (Version).
        version = document.get("Version", "2008-10-17")
        if version not in VERSIONS:
            raise PolicyError(f"Version must be one of {VERSIONS}, not {version!r}")
        raw = document.get("Statement")
        raw_statements = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(raw_statements, list) or not raw_statements:
            raise PolicyError("Statement must be an object or a non-empty list of objects")
        statements = tuple(
            _statement(item, index, literal_variables=version != "2012-10-17")
            for index, item in enumerate(raw_statements)
        )
        sids = [s.label for s in statements if not s.label.startswith("#")]
        if len(sids) != len(set(sids)):
            raise PolicyError(f"statement IDs must be unique within a policy: {sids}")
        return cls(name=name, version=version, statements=statements)

    # --- evaluation ---------------------------------------------------------------------------------
    def covering(self, action: str, resource: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """The (Deny, Allow) statements whose Action and Resource elements cover the pair, cached."""
        key = (action, resource)
        found = self._covering.get(key)
        if found is None:
            if len(self._covering) >= _CACHE_LIMIT:
                self._covering.clear()
            covering = [s for s in self.statements if s.covers(action, resource)]
            found = self._covering[key] = (
                tuple(s for s in covering if s.deny),
                tuple(s for s in covering if not s.deny),
            )
        return found

    def decide(self, request: Request, *, resource_based: bool, deny_only: bool = False) -> Outcome:
        """This policy's decision on ``request``, with the statement that made it.

        In a resource-based policy a statement applies only to the principals it names; an Allow that names
        only the caller's account comes back with ``via_account=True``. In an identity-based policy the
        principal is implicitly the identity the policy is attached to. ``deny_only`` skips the Allow
        statements (the answer is then EXPLICIT_DENY or IMPLICIT_DENY) when an allow is already known.
        """
        denies, allows = self.covering(request.action, request.resource)
        for statement in denies:
            if self._applies(statement, request, resource_based=resource_based):
                return statement.outcome
        if deny_only:
            return _IMPLICIT_DENY
        through_account: Statement | None = None
        for statement in allows:
            grant = self._applies(statement, request, resource_based=resource_based)
            if grant is Grant.DIRECT:
                return statement.outcome
            if grant is Grant.ACCOUNT and through_account is None:
                through_account = statement
        if through_account is not None:
            return through_account.outcome_via_account
        return _IMPLICIT_DENY

    @staticmethod
    def _applies(statement: Statement, request: Request, *, resource_based: bool) -> Grant:
        """How a covering statement applies to the caller; NONE when its principal or Condition does not."""
        grant = Grant.DIRECT
        if resource_based:
            if statement.principal is None:
                return Grant.NONE  # a resource policy statement without a principal applies to nobody
            grant = statement.principal.match(request.principal)
            if grant is Grant.NONE:
                return grant
        if statement.condition is not None and not statement.condition(request):
            return Grant.NONE
        return grant

    def evaluate(self, request: Request, *, resource_based: bool) -> Decision:
        return self.decide(request, resource_based=resource_based).decision


# --- one statement ---------------------------------------------------------------------------------------
def _statement(raw: Any, index: int, *, literal_variables: bool) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"statement {index} is not an object")
    unknown = set(raw) - _ELEMENTS
    if unknown:
        raise PolicyError(f"statement {index}: unknown elements {sorted(unknown)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"statement {index}: Sid must be a string")
    label = sid or f"#{index}"
    try:
        return _compile(raw, label, literal_variables=literal_variables)
    except PolicyError as error:
        raise PolicyError(f"statement {label}: {error}") from None


def _compile(raw: Mapping[str, Any], label: str, *, literal_variables: bool) -> Statement:
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'Effect must be "Allow" or "Deny", not {effect!r}')
    action_key = _one_of(raw, "Action", "NotAction", required=True) or "Action"
    # IAM User Guide, Resource: "Statements must include either a Resource or a NotResource element";
    # a role trust policy has neither, and then the statement covers the role itself.
    resource_key = _one_of(raw, "Resource", "NotResource", required=False)
    principal_key = _one_of(raw, "Principal", "NotPrincipal", required=False)

    actions = _strings(raw[action_key], action_key)
    for action in actions:
        if action != "*" and not re.fullmatch(r"[A-Za-z0-9-]+:[^:]*", action):
            raise PolicyError(f'an action is "*" or "service:operation", not {action!r}')
    resources = _strings(raw[resource_key], resource_key) if resource_key else ["*"]
    if not literal_variables:
        for resource in resources:
            if "${" in resource:
                raise PolicyError(f"policy variables are not supported ({resource_key} {resource!r})")

    deny = effect == "Deny"
    principal = None
    if principal_key is not None:
        principal = PrincipalMatcher(raw[principal_key], negated=principal_key == "NotPrincipal", deny=deny)
    condition = None
    if "Condition" in raw:
        condition = Condition(raw["Condition"], literal_variables=literal_variables)
    return Statement(
        label=label,
        deny=deny,
        actions=compile_actions(actions),
        not_action=action_key == "NotAction",
        resources=compile_resources(resources),
        not_resource=resource_key == "NotResource",
        principal=principal,
        condition=condition,
    )


def _one_of(raw: Mapping[str, Any], element: str, negated: str, *, required: bool) -> str | None:
    if element in raw and negated in raw:
        raise PolicyError(f"a statement has {element} or {negated}, not both")
    if element in raw:
        return element
    if negated in raw:
        return negated
    if required:
        raise PolicyError(f"a statement needs {element} or {negated}")
    return None


def _strings(value: Any, element: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"{element} takes a non-empty string or list of strings, not {value!r}")
    return items
