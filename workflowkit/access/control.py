"""Permissions enforced in the local cloud: every call and every service-to-service hop, as AWS checks them.

Whoever acts is on a stack: a Lambda handler acts with its function's role, a Step Functions task with
its state machine's role, a schedule and a rule target with the role they name. Calls made with
nothing on the stack are the local cloud's own (building the app, a test driving it) and are not
checked, like an administrator's. A hop made by an AWS service (EventBridge delivering to a queue,
CloudWatch publishing an alarm, SQS and SNS using a key for a service) is checked against the
resource's policy and the key policy, since a service principal has no identity policies.

A refused call raises :class:`AccessDeniedError`, which the fast path turns into the service's modelled
error (``AccessDeniedException``, SNS's ``AuthorizationError``), so the handler fails exactly as in AWS.
A refused hop returns the verdict: the caller fails the delivery the way the service does (retry, DLQ).
Every refusal is recorded in :attr:`AccessControl.denials`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflowkit.access.model import AccessModel, AccessModelError
from workflowkit.access.requests import KeyUse, Permission, RequestMapper
from workflowkit.fastpath import ServiceError
from workflowkit.iam import Decision, Policy, Principal, Request, Verdict, authorize

# The error each service answers a refused request with: (code, HTTP status).
_DENIED = {"sns": ("AuthorizationError", 403)}
_KEY_DENIED = {"sqs": ("KMS.AccessDeniedException", 400), "sns": ("KMSAccessDenied", 400)}
_DEFAULT_DENIED = ("AccessDeniedException", 400)
_CACHE_LIMIT = 50_000
_ALLOWED = Verdict(Decision.ALLOW, "allowed")


class AccessDeniedError(ServiceError):
    """A call the caller's permissions do not allow; ``code``/``status`` are what the service answers."""


@dataclass(frozen=True)
class Denial:
    at: datetime
    principal: str
    action: str
    resource: str
    hop: str  # what was being done: "dynamodb.PutItem", "rule X -> queue Y", ...
    reason: str

    def describe(self) -> str:
        return f"{self.hop}: {self.principal} may not {self.action} on {self.resource} ({self.reason})"


class AccessControl:
    def __init__(
        self,
        model: AccessModel,
        *,
        now: Callable[[], datetime],
        enabled: bool = True,
        live_policy: Callable[[str], str | None] = lambda arn: None,
    ) -> None:
        """``live_policy``: the policy document a resource holds now, for resources created at run time
        (a test's own queue); the template's resources take theirs from the model."""
        self.model = model
        self._live_policy = live_policy
        self._parsed_live: dict[str, Policy] = {}
        self.enabled = enabled
        self.denials: list[Denial] = []
        self.checks = 0
        self._now = now
        self._mapper = RequestMapper(account=model.account, region=model.region)
        self._threads = threading.local()  # per thread: who acts there (handlers may run side by side)
        self._cache: dict[tuple[Any, ...], Verdict] = {}
        self._allowed_calls: set[tuple[Any, ...]] = set()
        # Hops and entries allowed before, on the template's resources only (their policies and keys
        # change with a deployment alone; a resource made at run time holds a policy that may change).
        # Each with the number of checks its decision made: a remembered one counts them again.
        self._allowed_hops: dict[tuple[Any, ...], tuple[Verdict, int]] = {}

    def use(self, model: AccessModel) -> None:
        """Enforce another template's permissions from now on (a stack update); verdicts are decided anew."""
        self.model = model
        self._cache.clear()
        self._allowed_calls.clear()
        self._allowed_hops.clear()

    # --- who acts -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def acting_as(self, role_arn: str | None) -> Iterator[None]:
        """Calls made inside run with ``role_arn``'s permissions (None: unchecked, the local cloud's own)."""
        if role_arn is None:
            yield
            return
        acting = self._acting
        acting.append(self._role_principal(role_arn))
        try:
            yield
        finally:
            acting.pop()

    @property
    def _acting(self) -> list[Principal]:
        acting: list[Principal] | None = getattr(self._threads, "acting", None)
        if acting is None:
            acting = self._threads.acting = []
        return acting

    @property
    def current(self) -> Principal | None:
        acting = self._acting
        return acting[-1] if acting else None

    def function_role(self, function_name: str) -> str | None:
        return self.model.function_roles.get(function_name)

    def state_machine_role(self, state_machine_arn: str) -> str | None:
        return self.model.state_machine_roles.get(state_machine_arn)

    # --- API calls ----------------------------------------------------------------------------------
    def check_call(
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        hop: str | None = None,
        entries: bool = False,
    ) -> None:
        """Raise :class:`AccessDeniedError` when whoever acts may not make this call.

        ``entries``: also decide the per-entry permissions (PutEvents), which the call itself leaves to
        :meth:`entry_refusal` so that a refused entry fails alone, as in EventBridge.
        """
        principal = self.current
        if principal is None or not self.enabled:
            return
        if not entries and (service, operation) == ("events", "PutEvents"):
            return  # every permission PutEvents needs is an entry's, decided by entry_refusal alone
        # The same caller making the same call on the same resources was allowed before: the policies
        # change only with a deployment (``use``), so neither does the answer (refusals are decided,
        # and recorded, every time).
        remembered = _call_key(service, operation, params)
        if remembered is not None:
            remembered = (principal.arn, entries, *remembered)
            if remembered in self._allowed_calls:
                self.checks += 1
                return
        self._check(
            principal, service, operation, params, hop=hop or f"{service}.{operation}", entries=entries
        )
        if remembered is not None:
            self._allowed_calls.add(remembered)

    def _check(
        self,
        principal: Principal,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        hop: str,
        entries: bool,
    ) -> None:
        needs = self._mapper.needs(service, operation, dict(params))
        for permission in needs.permissions:
            if permission.per_entry and not entries:
                continue
            verdict = self._identity_request(principal, permission, hop)
            if not verdict.allowed:
                code, status = _DENIED.get(service, _DEFAULT_DENIED)
                raise AccessDeniedError(
                    code, _message(principal, permission.action, permission.resource, verdict), status=status
                )
        for use in needs.key_uses:
            key_verdict = self.key_use(principal, use, hop=hop)
            if key_verdict is not None and not key_verdict.allowed:
                code, status = _KEY_DENIED.get(use.via, _DEFAULT_DENIED)
                raise AccessDeniedError(code, f"KMS key access denied: {key_verdict.reason}", status=status)

    def entry_refusal(self, entry: Mapping[str, Any]) -> str | None:
        """Why whoever acts may not put this one PutEvents entry (None: it may, or nobody acts)."""
        principal = self.current
        if principal is None or not self.enabled:
            return None
        remembered = (
            "entry",
            principal.arn,
            entry.get("EventBusName"),
            entry.get("Source"),
            entry.get("DetailType"),
        )
        known = self._allowed_hops.get(remembered)
        if known is not None:
            self.checks += known[1]
            return None
        checks = self.checks
        hop = f"events.PutEvents {entry.get('Source')}/{entry.get('DetailType')}"
        permissions = self._mapper.needs("events", "PutEvents", {"Entries": [entry]}).permissions
        for permission in permissions:
            verdict = self._identity_request(principal, permission, hop)
            if not verdict.allowed:
                return _message(principal, permission.action, permission.resource, verdict)
        if all(self._static_policy(p.resource) for p in permissions):
            self._remember(remembered, _ALLOWED, self.checks - checks)
        return None

    def role_may(
        self, role_arn: str, service: str, operation: str, params: Mapping[str, Any], *, hop: str
    ) -> Verdict:
        """Whether ``role_arn`` may make the call (a rule target or a schedule acting with its role)."""
        with self.acting_as(role_arn):
            try:
                self.check_call(service, operation, params, hop=hop, entries=True)
            except AccessDeniedError as error:
                return Verdict(Decision.IMPLICIT_DENY, f"{hop}: {error.message}")
        return Verdict(Decision.ALLOW, "allowed")

    def caller_may(
        self, caller_arn: str, policy_arns: tuple[str, ...], action: str, resource: str, *, hop: str
    ) -> bool:
        """Whether a caller holding the template's managed policies ``policy_arns`` may do ``action``."""
        if not self.enabled:
            return True
        unknown = [arn for arn in policy_arns if arn not in self.model.managed_policies]
        if unknown:
            raise AccessModelError(f"no managed policy {unknown[0]} in the template")
        principal = Principal(arn=caller_arn, account=self.model.account)
        permission = Permission(action, resource, resource_policy=False)
        policies = tuple(self.model.managed_policies[arn] for arn in policy_arns)
        verdict = self._decide(principal, permission, identity=policies, resource_required=False)
        if not verdict.allowed:
            self._deny(principal, permission, hop, verdict)
        return verdict.allowed

    # --- service hops -------------------------------------------------------------------------------
    def service_may(self, service: str, action: str, resource: str, *, source_arn: str, hop: str) -> Verdict:
        """Whether AWS service ``service`` (e.g. ``events.amazonaws.com``) may act on ``resource``.

        A service principal has no identity policies: the resource's policy must allow it. When the
        resource is encrypted, the key policy must also allow the service to use the key.
        """
        if not self.enabled:
            return Verdict(Decision.ALLOW, "permissions not enforced")
        remembered = ("service", service, action, resource, source_arn)
        known = self._allowed_hops.get(remembered)
        if known is not None:
            self.checks += known[1]
            return known[0]
        checks = self.checks
        principal = Principal(arn=service, account=None, service=service)
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": self.model.account}
        permission = Permission(action, resource, context)
        verdict = self._decide(principal, permission, identity=(), resource_required=False)
        if not verdict.allowed:
            return self._deny(principal, permission, hop, verdict)
        sending = action in ("sqs:SendMessage", "sns:Publish")
        via = resource.split(":")[2]
        actions = ("kms:GenerateDataKey", "kms:Decrypt") if sending else ("kms:Decrypt",)
        # Whether the KMS request the resource's service makes carries the source keys (decision 0016).
        # The KMS request SQS or SNS makes for a service carries no aws:SourceArn/SourceAccount: AWS says
        # so for EventBridge into encrypted topics ("... not supported for EventBridge-to-encrypted
        # topics", SNS developer guide) and documents none for the other paths, so a key statement
        # conditioned on them is refused here, as it may be in AWS (decision 0016).
        key_verdict = self.key_use(principal, KeyUse(resource, actions, via), hop=hop)
        final = key_verdict if key_verdict is not None else verdict
        if final.allowed and self._static_policy(resource):
            self._remember(remembered, final, self.checks - checks)
        return final

    def _static_policy(self, arn: str) -> bool:
        """Whether the resource's policy is the template's (it changes with a deployment alone)."""
        return arn in self.model.resources or arn in self.model.resource_policies

    def _remember(self, allowed: tuple[Any, ...], verdict: Verdict, checks: int) -> None:
        if len(self._allowed_hops) >= _CACHE_LIMIT:
            self._allowed_hops.clear()
        self._allowed_hops[allowed] = (verdict, checks)

    def may_assume(self, role_arn: str, *, service: str, source_arn: str, hop: str) -> Verdict:
        """Whether ``service`` may assume ``role_arn`` (its trust policy) to act for ``source_arn``."""
        if not self.enabled:
            return Verdict(Decision.ALLOW, "permissions not enforced")
        principal = Principal(arn=service, account=None, service=service)
        role = self.model.roles.get(role_arn)
        permission = Permission(
            "sts:AssumeRole", role_arn, {"aws:SourceArn": source_arn, "aws:SourceAccount": self.model.account}
        )
        if role is None or role.trust is None:
            return self._deny(principal, permission, hop, Verdict(Decision.IMPLICIT_DENY, "no such role"))
        verdict = self._evaluate(
            Request(
                principal,
                permission.action,
                role_arn,
                self.model.account,
                self._context(principal, permission),
            ),
            identity=(),
            resource_policy=role.trust,
            resource_required=True,
        )
        return verdict if verdict.allowed else self._deny(principal, permission, hop, verdict)

    def key_use(self, principal: Principal, use: KeyUse, *, hop: str) -> Verdict | None:
        """The KMS side of a call on an encrypted resource; None when the resource has no customer key."""
        key = self.model.encryption.get(use.resource)
        if key is None:
            return None
        region, account = self.model.region, self.model.account
        context: dict[str, Any] = {
            "kms:ViaService": f"{use.via}.{region}.amazonaws.com",
            **_encryption_context(use),
        }
        if principal.account is not None:  # a service principal belongs to no account of ours
            context["kms:CallerAccount"] = principal.account
        identity = self._identity_policies(principal)
        key_policy = self.model.key_policies.get(key)
        for action in use.actions:
            permission = Permission(action, key, context)
            if key_policy is None:
                return self._deny(
                    principal, permission, hop, Verdict(Decision.IMPLICIT_DENY, "no key policy")
                )
            verdict = self._evaluate(
                Request(principal, action, key, account, self._context(principal, permission)),
                identity=identity,
                resource_policy=key_policy,
                resource_required=True,
            )
            if not verdict.allowed:
                return self._deny(principal, permission, hop, verdict)
        return Verdict(Decision.ALLOW, "allowed")

    # --- evaluation ---------------------------------------------------------------------------------
    def _identity_request(self, principal: Principal, permission: Permission, hop: str) -> Verdict:
        verdict = self._decide(
            principal, permission, identity=self._identity_policies(principal), resource_required=False
        )
        return verdict if verdict.allowed else self._deny(principal, permission, hop, verdict)

    def _decide(
        self,
        principal: Principal,
        permission: Permission,
        *,
        identity: tuple[Policy, ...],
        resource_required: bool,
    ) -> Verdict:
        resource_policy = self._resource_policy(permission.resource) if permission.resource_policy else None
        request = Request(
            principal,
            permission.action,
            permission.resource,
            self.model.account,
            self._context(principal, permission),
        )
        return self._evaluate(
            request, identity=identity, resource_policy=resource_policy, resource_required=resource_required
        )

    def _evaluate(
        self,
        request: Request,
        *,
        identity: tuple[Policy, ...],
        resource_policy: Policy | None,
        resource_required: bool,
    ) -> Verdict:
        self.checks += 1
        key = (
            request.principal.arn,
            request.action,
            request.resource,
            _frozen(request.context),
            id(resource_policy),
            tuple(map(id, identity)),
            resource_required,
        )
        verdict = self._cache.get(key)
        if verdict is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            verdict = self._cache[key] = authorize(
                request,
                identity_policies=identity,
                resource_policy=resource_policy,
                resource_policy_required=resource_required,
            )
        return verdict

    def _resource_policy(self, arn: str) -> Policy | None:
        policy = self.model.resource_policies.get(arn)
        if policy is not None or arn in self.model.resources:
            return policy
        document = self._live_policy(arn)
        if not document:
            return None
        parsed = self._parsed_live.get(document)
        if parsed is None:
            parsed = self._parsed_live[document] = Policy.parse(document, name=f"policy of {arn}")
        return parsed

    def _identity_policies(self, principal: Principal) -> tuple[Policy, ...]:
        if principal.service is not None:
            return ()
        role = self.model.roles.get(principal.arn)
        return tuple(role.policies) if role is not None else ()

    def _role_principal(self, role_arn: str) -> Principal:
        return Principal(arn=role_arn, account=role_arn.split(":")[4] or self.model.account)

    def _context(self, principal: Principal, permission: Permission) -> dict[str, Any]:
        context: dict[str, Any] = {
            "aws:SecureTransport": True,  # the SDKs and AWS services call over TLS
            "aws:RequestedRegion": self.model.region,
        }
        if principal.service is not None:
            context["aws:PrincipalServiceName"] = principal.service
        else:
            context["aws:PrincipalArn"] = principal.arn
            context["aws:PrincipalAccount"] = principal.account or self.model.account
        context.update(permission.context)
        return context

    def _deny(self, principal: Principal, permission: Permission, hop: str, verdict: Verdict) -> Verdict:
        self.denials.append(
            Denial(self._now(), principal.arn, permission.action, permission.resource, hop, verdict.reason)
        )
        return verdict


def _message(principal: Principal, action: str, resource: str, verdict: Verdict) -> str:
    who = principal.arn
    if ":role/" in who:  # what AWS names in the message: the assumed-role session
        account = who.split(":")[4]
        who = f"arn:aws:sts::{account}:assumed-role/{who.rsplit('/', 1)[-1]}/local"
    because = (
        "with an explicit deny"
        if verdict.decision is Decision.EXPLICIT_DENY
        else "because no policy allows it"
    )
    return (
        f"User: {who} is not authorized to perform: {action} on resource: {resource} {because}"
        f" ({verdict.reason})"
    )


def _encryption_context(use: KeyUse) -> dict[str, str]:
    # The encryption context each service passes to KMS (SQS, SNS and DynamoDB developer guides).
    if use.via == "sqs":
        return {"kms:EncryptionContext:aws:sqs:arn": use.resource}
    if use.via == "sns":
        return {"kms:EncryptionContext:aws:sns:topicArn": use.resource}
    if use.via == "dynamodb":
        return {"kms:EncryptionContext:aws:dynamodb:tableName": use.resource.rsplit("/", 1)[-1]}
    return {}


# The parameters that decide what a call is authorised on, per (service, operation); calls not listed are
# decided afresh every time.
_RESOURCE_PARAMS: dict[tuple[str, str], tuple[str, ...]] = {
    **{
        ("dynamodb", op): ("TableName", "IndexName")
        for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable")
    },
    **{
        ("sqs", op): ("QueueUrl",)
        for op in ("SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch")
    },
    ("sqs", "GetQueueAttributes"): ("QueueUrl",),
    ("sns", "Publish"): ("TopicArn", "TargetArn"),
    ("stepfunctions", "StartExecution"): ("stateMachineArn",),
    ("lambda", "Invoke"): ("FunctionName",),
}


def _call_key(service: str, operation: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    names = _RESOURCE_PARAMS.get((service, operation))
    if names is not None:
        return (service, operation, *(params.get(name) for name in names))
    if (service, operation) == ("dynamodb", "TransactWriteItems"):
        items = params.get("TransactItems") or []
        return (
            service,
            operation,
            *((kind, body.get("TableName")) for item in items for kind, body in item.items()),
        )
    return None


def _frozen(context: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in context.items()))
