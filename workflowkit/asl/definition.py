"""Parsing and validating a definition into an immutable program, once per definition.

``StateMachineProgram.parse`` rejects what Step Functions would reject at CreateStateMachine (unknown
fields, missing transitions, unreachable states, duplicate state names, malformed paths, templates and
choice rules, bad retriers, a ``.waitForTaskToken`` on an integration without the callback pattern or in
an Express workflow: ``InvalidDefinitionError``) and what this interpreter does not run (JSONata,
variables, Distributed Map), with an ``AslDefinitionError`` naming the state and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from workflowkit.asl import fields
from workflowkit.asl.choice import compile_choices
from workflowkit.asl.errors import AslDefinitionError
from workflowkit.asl.execution import Execution, FinishCallback, TransitionCallback
from workflowkit.asl.integration_patterns import check_callback, split_pattern
from workflowkit.asl.payload import compile_literal
from workflowkit.asl.states import (
    ChoiceState,
    FailState,
    Machine,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from workflowkit.asl.values import as_integer, parse_json, parse_timestamp

if TYPE_CHECKING:
    from workflowkit.asl.runtime import ExecutionContext, Runtime

_COMMON: Final = frozenset({"Type", "Comment", "QueryLanguage"})
_IO: Final = frozenset({"InputPath", "OutputPath"})
_FLOW: Final = frozenset({"Next", "End"})
_FIELDS: Final[dict[str, frozenset[str]]] = {
    "Pass": _COMMON | _IO | _FLOW | {"Parameters", "Result", "ResultPath"},
    "Task": _COMMON
    | _IO
    | _FLOW
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Credentials"}
    | {"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _IO | _FLOW | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON
    | _IO
    | _FLOW
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"},
    "Map": _COMMON
    | _IO
    | _FLOW
    | {"Iterator", "ItemProcessor", "ItemsPath", "ItemSelector", "Parameters", "MaxConcurrency"}
    | {"MaxConcurrencyPath", "ResultSelector", "ResultPath", "Retry", "Catch"},
}
_DISTRIBUTED_ONLY: Final = frozenset(
    {"ItemReader", "ItemBatcher", "ResultWriter", "Label", "ToleratedFailurePercentage"}
    | {"ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath"}
)
_JSONATA_ONLY: Final = frozenset({"Arguments", "Output", "Items"})
_MAX_NAME: Final = 80


class StateMachineProgram:
    """A parsed definition: immutable, shareable between executions, cheap to start."""

    def __init__(self, machine: Machine, state_names: frozenset[str]) -> None:
        self.machine = machine
        self.state_names = state_names

    @classmethod
    def parse(cls, definition_text: str, *, express: bool = False) -> StateMachineProgram:
        """``express``: the definition is an Express workflow's (no callback tasks)."""
        try:
            document = parse_json(definition_text)  # strict: NaN, Infinity and 1e400 are not JSON
        except ValueError as error:
            raise AslDefinitionError(f"the definition is not JSON: {error}") from None
        if not isinstance(document, dict):
            raise AslDefinitionError("the definition must be a JSON object")
        builder = _Builder(express=express)
        machine = builder.machine(document, "", top_level=True)
        return cls(machine, frozenset(builder.names))

    def start(
        self,
        execution_input: Any,
        context: ExecutionContext,
        runtime: Runtime,
        on_finish: FinishCallback,
        on_transition: TransitionCallback | None = None,
    ) -> Execution:
        """Start an execution; see ``Execution`` for when it runs and finishes."""
        execution = Execution(
            self.machine,
            execution_input,
            context=context,
            runtime=runtime,
            on_finish=on_finish,
            on_transition=on_transition,
        )
        execution.run()
        return execution


class _Builder:
    def __init__(self, *, express: bool) -> None:
        self.names: set[str] = set()
        self.express = express

    # --- machines ---------------------------------------------------------------------------------
    def machine(self, document: Mapping[str, Any], where: str, *, top_level: bool = False) -> Machine:
        owner = where or None
        allowed = {"StartAt", "States", "Comment", "QueryLanguage"}
        if top_level:
            allowed |= {"Version", "TimeoutSeconds"}
        else:
            allowed |= {"ProcessorConfig"}
        self._query_language(document, owner)
        unknown = set(document) - allowed
        if unknown:
            raise fields.fail(
                owner, sorted(unknown)[0], f"unknown field in {'the definition' if top_level else where}"
            )
        if top_level and "TimeoutSeconds" in document:
            fields.positive_int(None, "TimeoutSeconds", document["TimeoutSeconds"])
        states = document.get("States")
        if not isinstance(states, dict) or not states:
            raise fields.fail(owner, "States", "States must be a non-empty object")
        start_at = document.get("StartAt")
        if not isinstance(start_at, str) or start_at not in states:
            raise fields.fail(owner, "StartAt", f"StartAt must name one of the states, got {start_at!r}")
        compiled: dict[str, State] = {}
        for name, spec in states.items():
            if name in self.names:
                raise fields.fail(name, None, "state names must be unique within the whole state machine")
            if not name or len(name) > _MAX_NAME:
                raise fields.fail(name, None, f"a state name must have 1 to {_MAX_NAME} characters")
            self.names.add(name)
            compiled[name] = self.state(name, spec)
        self._check_transitions(compiled, states, start_at)
        return Machine(start_at, compiled)

    def _query_language(self, document: Mapping[str, Any], state: str | None) -> None:
        language = document.get("QueryLanguage", "JSONPath")
        if language == "JSONata":
            raise fields.fail(
                state, "QueryLanguage", "JSONata is not supported by this interpreter; use JSONPath"
            )
        if language != "JSONPath":
            raise fields.fail(
                state, "QueryLanguage", f"QueryLanguage must be JSONPath or JSONata, got {language!r}"
            )

    @staticmethod
    def _check_transitions(states: dict[str, State], specs: Mapping[str, Any], start_at: str) -> None:
        edges: dict[str, list[tuple[str, str]]] = {}
        for name, spec in specs.items():
            targets = [("Next", spec["Next"])] if "Next" in spec else []
            if "Default" in spec:
                targets.append(("Default", spec["Default"]))
            targets += [
                (f"Choices[{i}].Next", rule["Next"]) for i, rule in enumerate(spec.get("Choices", []))
            ]
            targets += [
                (f"Catch[{i}].Next", catcher["Next"]) for i, catcher in enumerate(spec.get("Catch", []))
            ]
            for field, target in targets:
                if target not in states:
                    raise fields.fail(name, field, f"no state named {target!r} in this scope")
            edges[name] = targets
        # Step Functions rejects a definition with a state that no path from StartAt reaches.
        reached: set[str] = set()
        pending = [start_at]
        while pending:
            current = pending.pop()
            if current in reached:
                continue
            reached.add(current)
            pending.extend(target for _field, target in edges[current])
        for name in specs:
            if name not in reached:
                raise fields.fail(name, None, "the state is not reachable from StartAt")

    # --- states -----------------------------------------------------------------------------------
    def state(self, name: str, spec: Any) -> State:
        if not isinstance(spec, dict):
            raise fields.fail(name, None, "a state must be a JSON object")
        kind = spec.get("Type")
        if not isinstance(kind, str) or kind not in _FIELDS:  # a list or object is not hashable
            raise fields.fail(name, "Type", f"unknown state type {kind!r}")
        self._query_language(spec, name)
        if "Assign" in spec:
            raise fields.fail(
                name, "Assign", "workflow variables (Assign) are not supported by this interpreter"
            )
        for field in spec:
            if field in _FIELDS[kind]:
                continue
            if kind == "Map" and field in _DISTRIBUTED_ONLY:
                raise fields.fail(
                    name, field, "Distributed Map is not supported by this interpreter (inline Map only)"
                )
            if field in _JSONATA_ONLY:
                raise fields.fail(
                    name, field, f"{field} is a JSONata field; this interpreter runs JSONPath only"
                )
            raise fields.fail(name, field, f"field not supported in a {kind} state")
        following = self._next(name, kind, spec)
        input_path = fields.selector(name, "InputPath", spec) if kind != "Fail" else None
        output_path = fields.selector(name, "OutputPath", spec) if kind != "Fail" else None
        common = {"name": name, "input_path": input_path, "output_path": output_path, "next": following}
        builder: Callable[..., State] = getattr(self, f"_build_{kind.lower()}")
        return builder(common, name, spec)

    def _next(self, name: str, kind: str, spec: Mapping[str, Any]) -> str | None:
        if kind in ("Choice", "Succeed", "Fail"):
            for field in ("Next", "End"):
                if field in spec:
                    raise fields.fail(name, field, f"a {kind} state has no {field}")
            return None
        has_next, end = "Next" in spec, spec.get("End")
        if "End" in spec and end is not True:
            raise fields.fail(name, "End", "End must be true when present")
        if has_next == bool(end):
            raise fields.fail(name, "Next", "a state needs exactly one of Next or End: true")
        if has_next and not isinstance(spec["Next"], str):
            raise fields.fail(name, "Next", "Next must be a state name")
        return spec["Next"] if has_next else None

    def _build_pass(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        return PassState(
            **common,
            parameters=fields.template(name, "Parameters", spec),
            result=compile_literal(spec["Result"]) if "Result" in spec else None,
            placement=fields.placement(name, "ResultPath", spec),
        )

    def _build_task(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        resource = spec.get("Resource")
        if not isinstance(resource, str) or not resource:
            raise fields.fail(name, "Resource", "a Task needs a Resource (an ARN)")
        resource, pattern = split_pattern(resource)
        check_callback(name, resource, pattern, express=self.express)
        timeout, timeout_path = fields.seconds(name, "TimeoutSeconds", spec)
        heartbeat, heartbeat_path = fields.seconds(name, "HeartbeatSeconds", spec)
        if timeout is not None and heartbeat is not None and heartbeat >= timeout:
            raise fields.fail(
                name, "HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds"
            )
        return TaskState(
            **common,
            resource=resource,
            pattern=pattern,
            parameters=fields.template(name, "Parameters", spec),
            result_selector=fields.template(name, "ResultSelector", spec),
            placement=fields.placement(name, "ResultPath", spec),
            timeout_seconds=timeout,
            timeout_seconds_path=timeout_path,
            heartbeat_seconds=heartbeat,
            heartbeat_seconds_path=heartbeat_path,
            retriers=fields.retriers(name, spec),
            catchers=fields.catchers(name, spec),
        )

    def _build_choice(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        default = spec.get("Default")
        if default is not None and not isinstance(default, str):
            raise fields.fail(name, "Default", "Default must be a state name")
        return ChoiceState(**common, choices=compile_choices(name, spec.get("Choices")), default=default)

    def _build_wait(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        given = [field for field in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if field in spec]
        if len(given) != 1:
            raise fields.fail(
                name, None, "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"
            )
        seconds = None
        if "Seconds" in spec:
            seconds = fields.positive_int(name, "Seconds", spec["Seconds"], minimum=0)
        timestamp = None
        if "Timestamp" in spec:
            timestamp = parse_timestamp(spec["Timestamp"])
            if timestamp is None:
                raise fields.fail(name, "Timestamp", f"not an RFC 3339 timestamp: {spec['Timestamp']!r}")
        return WaitState(
            **common,
            seconds=seconds,
            seconds_path=fields.reference(name, "SecondsPath", spec),
            timestamp=timestamp,
            timestamp_path=fields.reference(name, "TimestampPath", spec),
        )

    def _build_succeed(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        return SucceedState(**common)

    def _build_fail(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        values: dict[str, Any] = {}
        for field in ("Error", "Cause"):
            if field in spec and f"{field}Path" in spec:
                raise fields.fail(name, f"{field}Path", f"{field} and {field}Path are mutually exclusive")
            if field in spec and not isinstance(spec[field], str):
                raise fields.fail(name, field, f"{field} must be a string")
            values[field.lower()] = spec.get(field)
            values[f"{field.lower()}_path"] = (
                fields.expression(name, f"{field}Path", spec[f"{field}Path"])
                if f"{field}Path" in spec
                else None
            )
        return FailState(**common, **values)

    def _build_parallel(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        branches = spec.get("Branches")
        if not isinstance(branches, list) or not branches:
            raise fields.fail(name, "Branches", "Branches must be a non-empty array of state machines")
        compiled = []
        for index, branch in enumerate(branches):
            if not isinstance(branch, dict):
                raise fields.fail(
                    name, f"Branches[{index}]", "a branch must be an object with StartAt and States"
                )
            compiled.append(self._sub_machine(branch, f"{name}.Branches[{index}]"))
        return ParallelState(
            **common,
            branches=tuple(compiled),
            parameters=fields.template(name, "Parameters", spec),
            result_selector=fields.template(name, "ResultSelector", spec),
            placement=fields.placement(name, "ResultPath", spec),
            retriers=fields.retriers(name, spec),
            catchers=fields.catchers(name, spec),
        )

    def _build_map(self, common: dict[str, Any], name: str, spec: Mapping[str, Any]) -> State:
        if ("Iterator" in spec) == ("ItemProcessor" in spec):
            raise fields.fail(
                name, "ItemProcessor", "a Map state needs exactly one of ItemProcessor or Iterator"
            )
        if "ItemSelector" in spec and "Parameters" in spec:
            raise fields.fail(name, "ItemSelector", "ItemSelector replaces Parameters; give only one")
        field = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
        processor = spec[field]
        if not isinstance(processor, dict):
            raise fields.fail(name, field, f"{field} must be an object with StartAt and States")
        config = processor.get("ProcessorConfig", {})
        mode = config.get("Mode", "INLINE") if isinstance(config, dict) else None
        if mode == "DISTRIBUTED":
            raise fields.fail(
                name, f"{field}.ProcessorConfig", "Distributed Map is not supported (inline Map only)"
            )
        if mode != "INLINE" or (isinstance(config, dict) and set(config) - {"Mode", "ExecutionType"}):
            raise fields.fail(name, f"{field}.ProcessorConfig", f"unsupported ProcessorConfig {config!r}")
        selector_field = "ItemSelector" if "ItemSelector" in spec else "Parameters"
        concurrency = spec.get("MaxConcurrency", 0)
        if as_integer(concurrency) is None or concurrency < 0:
            raise fields.fail(
                name, "MaxConcurrency", f"MaxConcurrency must be a non-negative integer, got {concurrency!r}"
            )
        if "MaxConcurrency" in spec and "MaxConcurrencyPath" in spec:
            raise fields.fail(
                name, "MaxConcurrencyPath", "MaxConcurrency and MaxConcurrencyPath are mutually exclusive"
            )
        return MapState(
            **common,
            processor=self._sub_machine(processor, f"{name}.{field}"),
            items_path=fields.reference(name, "ItemsPath", spec),
            item_selector=fields.template(name, selector_field, spec),
            max_concurrency=int(concurrency),
            max_concurrency_path=fields.reference(name, "MaxConcurrencyPath", spec),
            result_selector=fields.template(name, "ResultSelector", spec),
            placement=fields.placement(name, "ResultPath", spec),
            retriers=fields.retriers(name, spec),
            catchers=fields.catchers(name, spec),
        )

    def _sub_machine(self, document: dict[str, Any], where: str) -> Machine:
        return self.machine(document, where)
