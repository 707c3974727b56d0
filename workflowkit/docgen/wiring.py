"""What the synthesized template wires: which rule routes which event to whom, and who may put it.

Consumers are the targets of the ``AWS::Events::Rule`` resources, each resolved to a readable endpoint: a
queue to the function its event-source mapping feeds, a function to its ``POWERTOOLS_SERVICE_NAME``, a
state machine to its name. Producers are the template's roles that IAM lets put an event with a given
source and detail-type on the workflow bus: decided by :func:`workflowkit.iam.authorize` over each role's
identity policies and the bus policy, as AWS decides a ``PutEvents`` entry, then resolved to the
functions and state machines that act with the role (or, for a role neither uses, the service that
assumes it).

A rule's pattern is split in two: the *routing* fields (``source``, ``detail-type`` and
``detail.workflow.name``/``version``), evaluated with the local cloud's pattern matcher against each
event a workflow declares, and everything else (e.g. ``detail.data.step``), kept as a described filter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from workflowkit.access import AccessModel
from workflowkit.iam import Principal, Request, authorize
from workflowkit.patterns import matches
from workflowkit.template import ResolvedTemplate

# Trust principals that name a role neither a function nor a state machine acts with.
_SERVICE_NAMES = {
    "scheduler.amazonaws.com": "EventBridge Scheduler",
    "events.amazonaws.com": "EventBridge",
    "states.amazonaws.com": "Step Functions",
    "lambda.amazonaws.com": "Lambda",
}
_ROUTING_WORKFLOW_FIELDS = ("name", "version")


class Endpoint(NamedTuple):
    """A participant as the template knows it: ``kind`` is "function", "state machine", "queue",
    "topic", "bus", "service" (an AWS service acting with a role) or "resource"."""

    kind: str
    name: str

    @property
    def label(self) -> str:
        """Markdown: a function by its service name, an AWS service by its name, others by kind."""
        if self.kind == "function":
            return f"`{self.name}`"
        return self.name if self.kind == "service" else f"{self.kind} `{self.name}`"


@dataclass(frozen=True)
class Route:
    """One target of one rule: the events its routing fields admit, and the filters beyond them."""

    stack: str
    rule: str  # logical id
    routing: Mapping[str, Any]
    filters: tuple[str, ...]
    target: Endpoint

    def admits(self, detail_type: str, source: str, workflow: tuple[str, int] | None) -> bool:
        """Whether the rule routes ``detail_type`` from ``source`` for an instance of ``workflow``
        (name, version), or for an event outside any workflow (``None``: a start event)."""
        if not self.routing:
            return True
        detail: dict[str, Any] = {}
        if workflow is not None:
            detail["workflow"] = {"name": workflow[0], "version": workflow[1]}
        return matches(dict(self.routing), {"detail-type": detail_type, "source": source, "detail": detail})

    @property
    def described(self) -> str:
        """Markdown: the target's label, with the rule's filters beyond the routing fields."""
        if not self.filters:
            return self.target.label
        return f"{self.target.label} (only {', '.join(f'`{f}`' for f in self.filters)})"


@dataclass(frozen=True)
class Wiring:
    """Every stack's routes and PutEvents grants, read once."""

    stacks: tuple[str, ...]
    routes: tuple[Route, ...]
    endpoints: tuple[Endpoint, ...]  # every function, state machine, queue, topic and bus
    _access: AccessModel
    _buses: tuple[str, ...]  # ARNs of the buses the rules listen on
    _acting: Mapping[str, tuple[Endpoint, ...]]  # role ARN -> who acts with it

    @classmethod
    def from_cdk_out(cls, cdk_out: Path) -> Wiring:
        return cls.from_templates(ResolvedTemplate.load(cdk_out))

    @classmethod
    def from_templates(cls, templates: list[ResolvedTemplate]) -> Wiring:
        routes: list[Route] = []
        buses: set[str] = set()
        endpoints: set[Endpoint] = set()
        acting: dict[str, set[Endpoint]] = {}
        for template in templates:
            reader = _StackReader(template)
            routes += reader.routes()
            endpoints.update(reader.endpoints.values())
            buses |= reader.buses()
            for role, who in reader.acting().items():
                acting.setdefault(role, set()).update(who)
        return cls(
            stacks=tuple(t.stack_name for t in templates),
            routes=tuple(sorted(routes, key=lambda r: (r.stack, r.rule, r.target))),
            endpoints=tuple(sorted(endpoints)),
            _access=AccessModel.from_templates(templates),
            _buses=tuple(sorted(buses)),
            _acting={role: tuple(sorted(who)) for role, who in acting.items()},
        )

    def consumers(self, detail_type: str, source: str, workflow: tuple[str, int] | None) -> list[Route]:
        return [r for r in self.routes if r.admits(detail_type, source, workflow)]

    def producers(self, detail_type: str, source: str) -> list[Endpoint]:
        """Who acts with a role that may put ``detail_type`` from ``source`` on a bus the rules listen on."""
        found: set[Endpoint] = set()
        for role_arn in sorted(self._access.roles):
            if any(self._may_put(role_arn, bus, detail_type, source) for bus in self._buses):
                found.update(self._acting.get(role_arn) or (Endpoint("resource", role_arn),))
        return sorted(found)

    def _may_put(self, role_arn: str, bus_arn: str, detail_type: str, source: str) -> bool:
        account = self._access.account
        request = Request(
            Principal(arn=role_arn, account=account),
            "events:PutEvents",
            bus_arn,
            account,
            {
                "events:source": [source],
                "events:detail-type": [detail_type],
                "aws:SecureTransport": True,
                "aws:RequestedRegion": self._access.region,
            },
        )
        return authorize(
            request,
            identity_policies=tuple(self._access.roles[role_arn].policies),
            resource_policy=self._access.resource_policies.get(bus_arn),
        ).allowed


class _StackReader:
    def __init__(self, template: ResolvedTemplate) -> None:
        self.t = template
        self._functions: dict[str, Endpoint] = {}  # function name and ARN -> endpoint
        self.endpoints: dict[str, Endpoint] = {}  # resource ARN -> endpoint
        self._read_endpoints()

    def _read_endpoints(self) -> None:
        t = self.t
        for r in t.of_type("AWS::Lambda::Function"):
            variables = (t.props(r).get("Environment") or {}).get("Variables") or {}
            name = t.physical_id(r.logical_id)
            endpoint = Endpoint("function", str(variables.get("POWERTOOLS_SERVICE_NAME") or name))
            self._functions[name] = self._functions[t.arn(r.logical_id)] = endpoint
        self.endpoints.update(self._functions)
        kinds = {
            "AWS::StepFunctions::StateMachine": "state machine",
            "AWS::SNS::Topic": "topic",
            "AWS::Events::EventBus": "bus",
        }
        for r in t.of_type(*kinds):
            self.endpoints[t.arn(r.logical_id)] = Endpoint(kinds[r.type], t.physical_id(r.logical_id))
        fed: dict[str, set[Endpoint]] = {}
        for r in t.of_type("AWS::Lambda::EventSourceMapping"):
            props = t.props(r)
            function = self._functions.get(str(props.get("FunctionName")))
            if function is not None:
                fed.setdefault(str(props.get("EventSourceArn")), set()).add(function)
        for r in t.of_type("AWS::SQS::Queue"):
            arn = t.arn(r.logical_id)
            functions = sorted(fed.get(arn, ()))
            # A queue feeding one function stands for it; otherwise the queue is the consumer.
            self.endpoints[arn] = (
                functions[0] if len(functions) == 1 else Endpoint("queue", t.physical_id(r.logical_id))
            )

    def routes(self) -> list[Route]:
        t = self.t
        routes = []
        for r in t.of_type("AWS::Events::Rule"):
            props = t.props(r)
            pattern = props.get("EventPattern")
            if pattern is None or props.get("State", "ENABLED") != "ENABLED":
                continue
            if isinstance(pattern, str):
                pattern = json.loads(pattern)
            routing, filters = split_pattern(pattern)
            for target in props.get("Targets") or []:
                arn = str(target.get("Arn"))
                endpoint = self.endpoints.get(arn) or Endpoint("resource", arn)
                routes.append(Route(t.stack_name, r.logical_id, routing, filters, endpoint))
        return routes

    def buses(self) -> set[str]:
        t = self.t
        buses = set()
        for r in t.of_type("AWS::Events::Rule"):
            bus = str(t.props(r).get("EventBusName") or "default")
            buses.add(
                bus if bus.startswith("arn:") else f"arn:aws:events:{t.region}:{t.account}:event-bus/{bus}"
            )
        return buses

    def acting(self) -> dict[str, set[Endpoint]]:
        """role ARN -> the functions and state machines acting with it, else the services trusted by it."""
        t = self.t
        acting: dict[str, set[Endpoint]] = {}
        for r in t.of_type("AWS::Lambda::Function"):
            role = t.props(r).get("Role")
            acting.setdefault(str(role), set()).add(self._functions[t.arn(r.logical_id)])
        for r in t.of_type("AWS::StepFunctions::StateMachine"):
            role = t.props(r).get("RoleArn")
            acting.setdefault(str(role), set()).add(self.endpoints[t.arn(r.logical_id)])
        for r in t.of_type("AWS::IAM::Role"):
            arn = t.arn(r.logical_id)
            if arn not in acting:
                services = _trusted_services(t.props(r).get("AssumeRolePolicyDocument") or {})
                acting[arn] = {Endpoint("service", _SERVICE_NAMES.get(s, s)) for s in services} or {
                    Endpoint("resource", f"role {r.logical_id}")
                }
        return acting


def _trusted_services(document: Mapping[str, Any]) -> list[str]:
    statements = document.get("Statement") or []
    services: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") if isinstance(statement, Mapping) else None
        named = principal.get("Service") if isinstance(principal, Mapping) else None
        services += [named] if isinstance(named, str) else list(named or [])
    return services


def split_pattern(pattern: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(the routing fields of an event pattern, descriptions of every other filter)."""
    routing: dict[str, Any] = {}
    filters: list[str] = []
    for key, value in pattern.items():
        if key in ("source", "detail-type"):
            routing[key] = value
        elif key == "detail" and isinstance(value, Mapping):
            for field, sub in value.items():
                if field == "workflow" and isinstance(sub, Mapping):
                    kept = {k: v for k, v in sub.items() if k in _ROUTING_WORKFLOW_FIELDS}
                    if kept:
                        routing["detail"] = {"workflow": kept}
                    rest = {k: v for k, v in sub.items() if k not in _ROUTING_WORKFLOW_FIELDS}
                    filters += _described(rest, "detail.workflow")
                else:
                    filters += _described({field: sub}, "detail")
        else:
            filters += _described({key: value}, "")
    return routing, tuple(filters)


def _described(node: Mapping[str, Any], prefix: str) -> list[str]:
    described: list[str] = []
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            described += _described(value, path)
        else:
            described.append(f"{path}: {_values(value)}")
    return described


def _values(values: Any) -> str:
    items: Iterable[Any] = values if isinstance(values, list) else [values]
    return " or ".join(v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in items)
