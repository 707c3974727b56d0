"""What a registry of workflows asks of one stack, derived from the declarations and from what each service
declares beside itself (``functions/<service>/deployment.py``).

Pure data, no constructs: the stack turns a :class:`StackPlan` into resources. Services are shared by the
workflows that name them (one function, one queue, one rule per workflow and subscription); state
machines are per workflow (``<workflow>/<machine>``), since each carries one workflow's audit trail and
is started by that workflow's rules or by the controller under that key.

The plan refuses, naming the service or the workflow, what would deploy but be wrong: a service claiming
a source it does not own (``extra_sources``: the kit's, or one whose events another service or a start
event owns), and a physical name longer than AWS allows.

Each state machine's execution timeout comes from the deadlines of what it runs (``FlowPlan.timeout``):
the controller, not Step Functions, enforces deadlines, so an execution must outlive them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from controller.decide import flow_key
from infra.callback_plan import CallbackPlan, callback_plan
from infra.constructs.naming import stage_names, state_machine_names
from infra.constructs.orchestrated_flow import EXECUTION_TIMEOUT
from infra.constructs.subscriptions import (
    Subscription,
    contextless_subscriptions,
    start_subscriptions,
    step_subscriptions,
    unrouted_subscriptions,
    workflow_subscriptions,
)
from workflow_core import lifecycle
from workflow_core.catalog import EventCatalog
from workflow_core.definition import Pattern, Runner, WorkflowDefinition
from workflow_core.deployment import ServiceNeeds, TableNeed, needs_of
from workflow_core.registry import Registry

NeedsOf = Callable[[str], ServiceNeeds]

# The kit's own sources (``workflow.controller``, ``workflow.scheduler``, ``workflow.operator``): only the
# controller, the scheduler's role and the front door publish from them, never a service.
KIT_SOURCE_PREFIX = "workflow."
# The kit's events the controller places by their correlation id alone, so it takes them even without a
# workflow context (a deadline scheduled, or a command issued, before the context existed).
CONTEXTLESS_TO_CONTROLLER = (lifecycle.STEP_DEADLINE_REACHED, lifecycle.OPERATOR_COMMAND_ISSUED)
# The kit's events about one step: a consumer's rules for them also match ``detail.data.step``, so a
# service hears them only for the steps it runs (one service may run steps of several workflows).
PER_STEP = (lifecycle.STEP_REQUESTED, lifecycle.STEP_DECIDED, lifecycle.STEP_RETRY_REQUESTED)
# A machine's execution timeout: at least the flows' default (2 h), and twice the longest deadline of the
# steps and undos it runs, so the controller acts on a missed deadline (stops the execution, retries or
# undoes) long before Step Functions would end it. A machine that runs a callback step whose missed
# deadline escalates keeps waiting for the decision, which still counts however late: it gets Step
# Functions' longest, a year (Standard executions run at most that).
FLOW_TIMEOUT = timedelta(seconds=EXECUTION_TIMEOUT.to_seconds())
LONGEST_EXECUTION = timedelta(days=365)


@dataclass(frozen=True)
class ConsumerPlan:
    """A queue-fed service: its subscriptions over every workflow it serves, and what it may publish."""

    service: str
    needs: ServiceNeeds
    subscriptions: tuple[Subscription, ...]
    # Exactly the detail-types it publishes: the outcomes of the steps and undos it runs, plus every
    # detail-type of the sources it declares (``extra_sources``), which no one else owns (the plan checks).
    publishes: tuple[str, ...]


@dataclass(frozen=True)
class FlowPlan:
    """One state machine of one workflow."""

    workflow: str
    machine: str
    service: str  # whose task functions and tables it uses
    publishes: tuple[str, ...]  # the outcome events it reports: all it may put on the bus
    started_by: tuple[Subscription, ...]  # rules that start it (compensation requests)
    controller_started: bool  # it runs a step: the controller starts (and stops) it by key
    # It runs a callback step: it pauses on a task token it writes into the callbacks table, which the
    # front door answers (``${CallbacksTableName}`` in its ASL).
    awaits_decisions: bool = False
    # How long an execution may run (``FLOW_TIMEOUT``, longer where a deadline or a decision asks for it).
    timeout: timedelta = FLOW_TIMEOUT

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
    # The deployed workflows' events without a workflow context that no rule delivers: to a queue.
    unrouted: tuple[Subscription, ...] = field(default=())
    # What the controller publishes: the kit's announcements and requests the deployed workflows use.
    controller_publishes: tuple[str, ...] = field(default=())
    callbacks: CallbackPlan = field(default_factory=lambda: CallbackPlan({}, False, ()))

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


def plan(registry: Registry, *, stage: str, needs: NeedsOf = needs_of) -> StackPlan:
    """What ``registry`` asks of the stack of ``stage`` (whose name is part of the physical names)."""
    services: dict[str, ServiceNeeds] = {}
    for service in _services(registry):
        services[service] = _checked(service, needs(service))
    _check_extra_sources(registry, services)
    consumers = {
        service: _consumer(registry, service, services[service]) for service in _consumer_services(registry)
    }
    callbacks = callback_plan(registry)
    flows = tuple(
        dataclasses.replace(flow, awaits_decisions=(flow.workflow, flow.machine) in callbacks.paused_machines)
        for name in registry.names
        for flow in _flows(registry, name)
    )
    _check_names(stage, flows)
    catalog = registry.catalog
    routed = tuple(
        subscription for name in registry.names for subscription in _controller_subscriptions(registry, name)
    )
    start_events = tuple(dict.fromkeys(d.start_event for d in registry.definitions))
    # What the rules of the workflows deliver; the start events, which never carry a context, aside.
    delivered = [
        *routed,
        *(s for consumer in consumers.values() for s in consumer.subscriptions),
        *(s for flow in flows for s in flow.started_by),
    ]
    to_controller = [
        detail_type
        for detail_type in CONTEXTLESS_TO_CONTROLLER
        if any(detail_type in s.detail_types for s in routed)
    ]
    return StackPlan(
        registry=registry,
        services=services,
        controller=(*routed, *contextless_subscriptions(to_controller, catalog=catalog)),
        consumers=consumers,
        flows=flows,
        start_events=start_events,
        unrouted=unrouted_subscriptions(delivered, excluded=(*start_events, *to_controller), catalog=catalog),
        controller_publishes=_controller_publishes(registry),
        callbacks=callbacks,
    )


def _controller_publishes(registry: Registry) -> tuple[str, ...]:
    """The events of the controller's source that some deployed declaration names: its announcements,
    retry and step requests, decision requests and reminders, the undo requests. Not every detail-type
    the catalog gives its source: a kind of event no deployed workflow uses is one it may not put."""
    catalog = registry.catalog
    named = {
        detail_type
        for definition in registry.definitions
        for detail_type in definition.all_event_types()
        if catalog.source_of(detail_type) == lifecycle.SOURCE_CONTROLLER
    }
    return tuple(sorted(named))


def _check_names(stage: str, flows: tuple[FlowPlan, ...]) -> None:
    """Every physical name the kit chooses fits AWS's limits (``naming.LIMITS``)."""
    for name in stage_names(stage):
        name.check()
    for flow in flows:
        for name in state_machine_names(stage, flow.workflow, flow.machine):
            name.check()


def _outcome_owners(registry: Registry) -> dict[str, set[str]]:
    """detail-type -> the services whose steps or undos report it (a state machine's: its service)."""
    owners: dict[str, set[str]] = {}
    for definition in registry.definitions:
        for step in definition.steps:
            if step.pattern is Pattern.HUMAN:
                continue  # its outcome is the decision (StepDecided, the front door's): no event of a service
            for event in (step.completed_by, step.failed_by):
                owners.setdefault(event, set()).add(step.runner.service)
            undo = step.compensation
            if undo is not None:
                for event in (undo.completed_by, undo.failed_by):
                    owners.setdefault(event, set()).add(undo.runner.service)
    return owners


def _check_extra_sources(registry: Registry, services: Mapping[str, ServiceNeeds]) -> None:
    """A service's ``extra_sources`` are sources only it publishes from: not the kit's, not one that another
    service's outcomes or a start event come from, not one another service declares too. Otherwise a
    service's own deployment.py could widen its PutEvents grant to forge another's events
    (docs/decisions/0012)."""
    catalog = registry.catalog
    # source -> (owning service or None, what owns it), for the messages.
    owned: dict[str, list[tuple[str | None, str]]] = {}
    for event, owners in sorted(_outcome_owners(registry).items()):
        for owner in sorted(owners):
            owned.setdefault(catalog.source_of(event), []).append((owner, f"{owner}'s outcome {event}"))
    for definition in registry.definitions:
        owned.setdefault(catalog.source_of(definition.start_event), []).append(
            (None, f"{definition.start_event}, the start event of workflow {definition.name!r}")
        )
    declared: dict[str, str] = {}
    sources = {etype.source for etype in catalog.values()}
    for service, needs in services.items():
        for source in needs.extra_sources:
            refused = f"service {service!r} declares {source!r} in deployment.NEEDS.extra_sources"
            if source.startswith(KIT_SOURCE_PREFIX):
                raise ValueError(
                    f"{refused}: {KIT_SOURCE_PREFIX}* sources are the kit's (controller, scheduler, "
                    "operators); a service may not publish their events"
                )
            others = [what for owner, what in owned.get(source, []) if owner != service]
            if others:
                raise ValueError(
                    f"{refused}, but its events belong to others ({'; '.join(others)}): a service may "
                    "declare only a source no one else publishes from"
                )
            if source in declared and declared[source] != service:
                raise ValueError(f"{refused}, but service {declared[source]!r} declares it too")
            if source not in sources:
                raise ValueError(f"{refused}, but no deployed event comes from it")
            declared[source] = service


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
        # A human step has no service: people decide it through the callback routes.
        names += [runner.service for runner in _runners(definition) if runner.pattern is not Pattern.HUMAN]
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
            d.version: [t for t in d.consumer_subscriptions().get(service, ()) if t not in PER_STEP]
            for d in versions
        }
        subscriptions += workflow_subscriptions(name, wanted, versions=numbers, catalog=registry.catalog)
        # The kit's per-step events reach a consumer only for the steps it runs (``data.step``).
        per_step = {
            lifecycle.STEP_REQUESTED: {d.version: d.requested_steps(service) for d in versions},
            lifecycle.STEP_DECIDED: {d.version: d.decided_steps(service) for d in versions},
            lifecycle.STEP_RETRY_REQUESTED: {d.version: d.retried_steps(service) for d in versions},
        }
        for detail_type, steps in per_step.items():
            subscriptions += step_subscriptions(
                name, detail_type, steps, versions=numbers, catalog=registry.catalog
            )
        for definition in versions:
            outcomes += outcome_events(definition, Pattern.CHOREOGRAPHED, service)
    # The extra sources are the service's alone (_check_extra_sources): all their detail-types are its.
    extra = set(needs.extra_sources)
    declared = sorted(name for name, etype in registry.catalog.items() if etype.source in extra)
    return ConsumerPlan(
        service=service,
        needs=needs,
        subscriptions=tuple(subscriptions),
        publishes=tuple(dict.fromkeys([*outcomes, *declared])),
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
                timeout=_execution_timeout(versions, machine),
            )
        )
    return tuple(flows)


def _execution_timeout(versions: tuple[WorkflowDefinition, ...], machine: str) -> timedelta:
    """How long an execution of ``machine`` may run, over every live version (``FLOW_TIMEOUT``)."""
    deadlines: list[timedelta] = []
    for definition in versions:
        for step in definition.steps:
            if step.runner.pattern is Pattern.ORCHESTRATED and step.runner.name == machine:
                if step.callback is not None and step.callback.on_deadline == "escalate":
                    return LONGEST_EXECUTION
                deadlines.append(step.deadline)
            undo = step.compensation
            if (
                undo is not None
                and undo.runner.pattern is Pattern.ORCHESTRATED
                and undo.runner.name == machine
            ):
                deadlines.append(undo.deadline)
    return min(max([FLOW_TIMEOUT, *(2 * deadline for deadline in deadlines)]), LONGEST_EXECUTION)
