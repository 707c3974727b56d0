"""What a registry of workflows asks of one stack, derived from the declarations and from what each service
declares beside itself (``functions/<service>/deployment.py``).

Pure data, no constructs: the stack turns a :class:`StackPlan` into resources. Services are shared by the
workflows that name them (one function, one queue, one rule per workflow and subscription); state
machines are per workflow (``<workflow>/<machine>``), since each carries one workflow's audit trail and
is started by that workflow's rules or by the controller under that key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from controller.decide import flow_key
from infra.constructs.subscriptions import (
    Subscription,
    start_subscriptions,
    step_subscriptions,
    workflow_subscriptions,
)
from workflow_core import lifecycle
from workflow_core.catalog import EventCatalog
from workflow_core.definition import Pattern, Runner, WorkflowDefinition
from workflow_core.deployment import ServiceNeeds, TableNeed, needs_of
from workflow_core.registry import Registry

NeedsOf = Callable[[str], ServiceNeeds]


@dataclass(frozen=True)
class ConsumerPlan:
    """A queue-fed service: its subscriptions over every workflow it serves, and the sources it owns."""

    service: str
    needs: ServiceNeeds
    subscriptions: tuple[Subscription, ...]
    # The sources of the outcomes it reports, plus the ones it declares (``extra_sources``).
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FlowPlan:
    """One state machine of one workflow."""

    workflow: str
    machine: str
    service: str  # whose task functions and tables it uses
    publishes: tuple[str, ...]  # the outcome events it reports: all it may put on the bus
    started_by: tuple[Subscription, ...]  # rules that start it (compensation requests)
    controller_started: bool  # it runs a step: the controller starts (and stops) it by key

    @property
    def key(self) -> str:
        return flow_key(self.workflow, self.machine)


@dataclass(frozen=True)
class StackPlan:
    registry: Registry
    services: Mapping[str, ServiceNeeds]  # every service a deployed workflow names, as first named
    controller: tuple[Subscription, ...]
    consumers: Mapping[str, ConsumerPlan]
    flows: tuple[FlowPlan, ...]
    start_events: tuple[str, ...] = field(default=())

    @property
    def catalog(self) -> EventCatalog:
        return self.registry.catalog

    @property
    def tables(self) -> tuple[TableNeed, ...]:
        """Every table a service declares; a name is one table (its logical ID), so two services may not
        declare the same one."""
        owners: dict[str, str] = {}
        tables: list[TableNeed] = []
        for service, needs in self.services.items():
            for table in needs.tables:
                if table.name in owners:
                    raise ValueError(
                        f"table {table.name!r} is declared by {owners[table.name]} and {service}"
                    )
                owners[table.name] = service
                tables.append(table)
        return tuple(tables)

    @property
    def task_services(self) -> tuple[str, ...]:
        """Services whose task functions the deployed state machines call."""
        return tuple(dict.fromkeys(flow.service for flow in self.flows))


def plan(registry: Registry, *, needs: NeedsOf = needs_of) -> StackPlan:
    services: dict[str, ServiceNeeds] = {}
    for service in _services(registry):
        services[service] = _checked(service, needs(service))
    consumers = {
        service: _consumer(registry, service, services[service]) for service in _consumer_services(registry)
    }
    flows = tuple(flow for name in registry.names for flow in _flows(registry, name))
    controller = tuple(
        subscription for name in registry.names for subscription in _controller_subscriptions(registry, name)
    )
    start_events = tuple(dict.fromkeys(d.start_event for d in registry.definitions))
    return StackPlan(
        registry=registry,
        services=services,
        controller=controller,
        consumers=consumers,
        flows=flows,
        start_events=start_events,
    )


def _checked(service: str, needs: ServiceNeeds) -> ServiceNeeds:
    """``needs``, once every table its task functions and ASL substitutions name is one it declares."""
    declared = {table.name for table in needs.tables}
    named = [name for task in needs.task_functions for name in task.tables]
    named += list(needs.table_substitutions.values())
    unknown = sorted(set(named) - declared)
    if unknown:
        raise ValueError(f"service {service!r} uses tables it does not declare (NEEDS.tables): {unknown}")
    return needs


def _runners(definition: WorkflowDefinition) -> list[Runner]:
    runners: list[Runner] = []
    for step in definition.steps:
        runners.append(step.runner)
        if step.compensation is not None:
            runners.append(step.compensation.runner)
    return runners


def _services(registry: Registry) -> tuple[str, ...]:
    names: list[str] = []
    for definition in registry.definitions:
        names += [runner.service for runner in _runners(definition)]
        names += list(definition.listeners)
    return tuple(dict.fromkeys(names))


def _consumer_services(registry: Registry) -> tuple[str, ...]:
    names: list[str] = []
    for definition in registry.definitions:
        names += list(definition.consumer_subscriptions())
    return tuple(dict.fromkeys(names))


def outcome_events(definition: WorkflowDefinition, pattern: Pattern, name: str) -> tuple[str, ...]:
    """The outcome events the runner ``name`` of ``pattern`` reports for the steps and undos it runs."""
    outcomes: list[str] = []
    for step in definition.steps:
        if (step.runner.pattern, step.runner.name) == (pattern, name):
            outcomes += [step.completed_by, step.failed_by]
        undo = step.compensation
        if undo is not None and (undo.runner.pattern, undo.runner.name) == (pattern, name):
            outcomes += [undo.completed_by, undo.failed_by]
    return tuple(dict.fromkeys(outcomes))


def _consumer(registry: Registry, service: str, needs: ServiceNeeds) -> ConsumerPlan:
    if needs.handler is None:
        raise ValueError(f"service {service!r} consumes events but its deployment.NEEDS names no handler")
    subscriptions: list[Subscription] = []
    outcomes: list[str] = []
    for name in registry.names:
        versions = registry.versions(name)
        numbers = [d.version for d in versions]
        wanted = {
            d.version: [t for t in d.consumer_subscriptions().get(service, ()) if t != d.retry_event]
            for d in versions
        }
        subscriptions += workflow_subscriptions(name, wanted, versions=numbers, catalog=registry.catalog)
        retried = {d.version: d.retried_steps(service) for d in versions}
        subscriptions += step_subscriptions(
            name, lifecycle.STEP_RETRY_REQUESTED, retried, versions=numbers, catalog=registry.catalog
        )
        for definition in versions:
            outcomes += outcome_events(definition, Pattern.CHOREOGRAPHED, service)
    sources = [registry.catalog.source_of(event) for event in outcomes] + list(needs.extra_sources)
    return ConsumerPlan(
        service=service,
        needs=needs,
        subscriptions=tuple(subscriptions),
        sources=tuple(dict.fromkeys(sources)),
    )


def _controller_subscriptions(registry: Registry, name: str) -> tuple[Subscription, ...]:
    versions = registry.versions(name)
    catalog = registry.catalog
    starts = start_subscriptions(name, [d.start_event for d in versions], catalog=catalog)
    wanted = {d.version: [t for t in d.controller_inputs() if t != d.start_event] for d in versions}
    return (
        *starts,
        *workflow_subscriptions(name, wanted, versions=[d.version for d in versions], catalog=catalog),
    )


def _flows(registry: Registry, name: str) -> tuple[FlowPlan, ...]:
    versions = registry.versions(name)
    numbers = [d.version for d in versions]
    runners: dict[str, Runner] = {}
    for definition in versions:
        for runner in _runners(definition):
            if runner.pattern is not Pattern.ORCHESTRATED:
                continue
            known = runners.setdefault(runner.name, runner)
            if known.service != runner.service:
                raise ValueError(
                    f"workflow {name!r}: state machine {runner.name!r} is owned by both "
                    f"{known.service!r} and {runner.service!r}"
                )
    flows: list[FlowPlan] = []
    for machine, runner in runners.items():
        requests = {
            d.version: [d.event_triggered_state_machines()[machine]]
            for d in versions
            if machine in d.event_triggered_state_machines()
        }
        flows.append(
            FlowPlan(
                workflow=name,
                machine=machine,
                service=runner.service,
                publishes=tuple(
                    dict.fromkeys(
                        event for d in versions for event in outcome_events(d, Pattern.ORCHESTRATED, machine)
                    )
                ),
                started_by=workflow_subscriptions(
                    name, requests, versions=numbers, catalog=registry.catalog, prefix="Start"
                ),
                controller_started=any(
                    step.runner.pattern is Pattern.ORCHESTRATED and step.runner.name == machine
                    for d in versions
                    for step in d.steps
                ),
            )
        )
    return tuple(flows)
