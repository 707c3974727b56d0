"""Deploying a newly synthesized app to a running local cloud, as a CloudFormation stack update would.

Resources are paired by stack and logical ID. A resource in both keeps its state: a table its items, a
queue its messages, a state machine its running executions (they finish on the definition they started
with, as in Step Functions), a schedule group its schedules. A new one is created, as
:class:`~workflowkit.build.AppBuilder` creates everything at start. A changed one is updated in place:

- a function's handler, environment, timeout, memory and code asset folder (the runtime loads the new
  code: see :meth:`workflowkit.lambdas.InProcessRuntime.replace`);
- a state machine's definition and role; a rule's pattern, schedule, state and targets (a target that
  is gone is removed); a queue's attributes; event-source mappings (``SqsService.update``).

A resource that disappeared is deleted: rules (with their targets), archives, state machines, functions,
schedule groups, buses, topics, queues (with their messages), tables (with their items) and roles. The
stack's permissions, alarms, HTTP routes and outputs are read from the new template as a whole.

Less than CloudFormation does:

- No rollback: the new template is checked first (its permissions must be readable, its table changes
  possible), but a failure while applying it leaves the cloud half updated.
- Replacement only where a resource's physical name changes (a new explicit name): the old one is
  deleted and a new one created, its data lost. A table whose keys or indexes change, which CloudFormation
  would replace or update, is refused (:class:`UpdateError`); other property changes that need
  replacement in AWS (a queue turned FIFO) are not made.
- No dependency graph: creation follows a fixed sequence of types (what is named before what names it),
  deletion the reverse. Retention policies (``DeletionPolicy: Retain``) are not honoured: a removed table
  is deleted.
- Every function starts cold after an update that changes any function: the runtime shares one
  interpreter between them, so a changed module cannot be reloaded for some functions only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflowkit.build import AppBuilder, BuiltApp, in_creation_sequence, queue_attributes
from workflowkit.template import ResolvedTemplate, Resource, TemplateError

_TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
_TABLE_SHAPE = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


class UpdateError(TemplateError):
    """The new template asks for a change the local cloud cannot make."""


@dataclass(frozen=True)
class _Entry:
    template: ResolvedTemplate
    resource: Resource

    @property
    def key(self) -> str:
        return f"{self.template.stack_name}/{self.resource.logical_id}"


@dataclass
class StackChanges:
    """What a deployment did, as ``<stack>/<logical id>`` of every resource added, updated or deleted."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class StackUpdate:
    """Applies new templates over old ones in moto; ``cdk_out`` holds the new templates' assets."""

    def __init__(self, *, cdk_out: Path, clients: dict[str, Any]) -> None:
        self._builder = AppBuilder(cdk_out=cdk_out, clients=clients)
        self._c = clients

    def apply(
        self, old: list[ResolvedTemplate], new: list[ResolvedTemplate]
    ) -> tuple[BuiltApp, StackChanges]:
        """Bring moto from ``old`` to ``new``: what the local cloud runs ``new`` with, and the changes."""
        added, updated, removed = _diff(old, new)
        _check(updated)
        app = self._builder.describe(new)  # reads the new assets: fails before anything changes
        for entry in _in_sequence(added):
            self._builder.create(entry.template, entry.resource)
        previous = {after.key: before for before, after in updated}
        for after in _in_sequence([after for _, after in updated]):
            self._update(previous[after.key], after)
        for entry in reversed(_in_sequence(removed)):
            self._delete(entry)
        return app, StackChanges(
            added=[e.key for e in added],
            updated=[after.key for _, after in updated],
            removed=[e.key for e in removed],
        )

    # --- updating in place ----------------------------------------------------------------------------
    def _update(self, before: _Entry, after: _Entry) -> None:
        t, r = after.template, after.resource
        if r.type == "AWS::Lambda::Function":
            spec = self._builder.function_spec(t, r)
            self._c["lambda"].update_function_configuration(
                FunctionName=spec.name,
                Role=t.props(r)["Role"],
                Handler=spec.handler,
                Timeout=int(spec.timeout_seconds),
                MemorySize=spec.memory_mb,
                Environment={"Variables": spec.environment},
            )
        elif r.type == "AWS::StepFunctions::StateMachine":
            self._c["stepfunctions"].update_state_machine(
                stateMachineArn=t.arn(r.logical_id),
                definition=self._builder.definition(t, r),
                roleArn=t.props(r)["RoleArn"],
            )
        elif r.type == "AWS::Events::Rule":
            kept = set(self._builder.put_rule(t, r))
            gone = [i for i in _target_ids(before) if i not in kept]
            if gone:
                props = t.props(r)
                self._c["events"].remove_targets(
                    Rule=t.physical_id(r.logical_id),
                    EventBusName=props.get("EventBusName", "default"),
                    Ids=gone,
                )
        elif r.type == "AWS::SQS::Queue":
            attributes = queue_attributes(t, r)
            if attributes:
                self._c["sqs"].set_queue_attributes(QueueUrl=t.queue_url(r.logical_id), Attributes=attributes)
        # Other types hold nothing moto needs changed: policies, roles' permissions, alarms and outputs
        # are read from the new template as a whole; a table's other settings have no local behaviour.

    # --- deleting -------------------------------------------------------------------------------------
    def _delete(self, entry: _Entry) -> None:
        t, r = entry.template, entry.resource
        name = t.physical_id(r.logical_id)
        c = self._c
        if r.type == "AWS::Events::Rule":
            bus = t.props(r).get("EventBusName", "default")
            ids = _target_ids(entry)
            if ids:
                c["events"].remove_targets(Rule=name, EventBusName=bus, Ids=ids)
            c["events"].delete_rule(Name=name, EventBusName=bus)
        elif r.type == "AWS::Events::Archive":
            c["events"].delete_archive(ArchiveName=name)
        elif r.type == "AWS::StepFunctions::StateMachine":
            c["stepfunctions"].delete_state_machine(stateMachineArn=t.arn(r.logical_id))
        elif r.type == "AWS::Lambda::Function":
            c["lambda"].delete_function(FunctionName=name)
        elif r.type == "AWS::Scheduler::ScheduleGroup":
            c["scheduler"].delete_schedule_group(Name=name)
        elif r.type == "AWS::Events::EventBus":
            c["events"].delete_event_bus(Name=name)
        elif r.type == "AWS::SNS::Topic":
            c["sns"].delete_topic(TopicArn=t.arn(r.logical_id))
        elif r.type == "AWS::SQS::Queue":
            c["sqs"].delete_queue(QueueUrl=t.queue_url(r.logical_id))
        elif r.type in _TABLE_TYPES:
            c["dynamodb"].delete_table(TableName=name)
        elif r.type == "AWS::IAM::Role":
            c["iam"].delete_role(RoleName=name)


def _diff(
    old: list[ResolvedTemplate], new: list[ResolvedTemplate]
) -> tuple[list[_Entry], list[tuple[_Entry, _Entry]], list[_Entry]]:
    """(added, updated as (before, after), removed); a resource whose physical name changes is replaced."""
    before = {e.key: e for e in _entries(old)}
    added: list[_Entry] = []
    updated: list[tuple[_Entry, _Entry]] = []
    removed: list[_Entry] = []
    kept: set[str] = set()
    for after in _entries(new):
        previous = before.get(after.key)
        if previous is None or _identity(previous) != _identity(after):
            added.append(after)
            continue
        kept.add(after.key)
        if _settings(previous) != _settings(after):
            updated.append((previous, after))
    removed = [e for key, e in before.items() if key not in kept]
    return added, updated, removed


def _entries(templates: list[ResolvedTemplate]) -> Iterable[_Entry]:
    return (_Entry(t, r) for t in templates for r in t.resources.values())


def _identity(entry: _Entry) -> tuple[str, str]:
    return entry.resource.type, entry.template.physical_id(entry.resource.logical_id)


def _settings(entry: _Entry) -> tuple[Any, Any]:
    """What an update compares: the resolved properties, and the code asset a function runs."""
    t, r = entry.template, entry.resource
    return t.props(r), r.metadata.get("aws:asset:path")


def _check(updated: list[tuple[_Entry, _Entry]]) -> None:
    for before, after in updated:
        if after.resource.type not in _TABLE_TYPES:
            continue
        old, new = _settings(before)[0], _settings(after)[0]
        changed = [key for key in _TABLE_SHAPE if old.get(key) != new.get(key)]
        if changed:
            raise UpdateError(
                f"{after.key}: {', '.join(changed)} changed; CloudFormation would replace the table or "
                "update its indexes, which the local cloud does not (start a new LocalCloud instead)"
            )


def _in_sequence(entries: list[_Entry]) -> list[_Entry]:
    """The entries of types the local cloud creates, in creation sequence."""
    by_resource = {id(e.resource): e for e in entries}
    return [by_resource[id(r)] for r in in_creation_sequence(e.resource for e in entries)]


def _target_ids(entry: _Entry) -> list[str]:
    return [str(target["Id"]) for target in entry.template.props(entry.resource).get("Targets", [])]
