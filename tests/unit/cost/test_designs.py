"""The modelled designs on a known scenario: what each transformation keeps, removes and adds."""

from __future__ import annotations

from collections import defaultdict

import pytest

from workflowkit.cost.designs import (
    ORCHESTRATOR,
    choreographed,
    express,
    orchestrated,
    orchestrator_transitions,
)
from workflowkit.cost.prices import Hop
from workflowkit.cost.roles import Roles, StepRole
from workflowkit.cost.usage import Key, Usage

HOPS = {
    "dynamodb_call": Hop(5, 25, "assumption", "test"),
    "api_call": Hop(20, 80, "assumption", "test"),
    "stepfunctions_express_task": Hop(77.3, 241, "community", "test"),
    "stepfunctions_other_state": Hop(10, 40, "assumption", "test"),
}


def _roles() -> Roles:
    return Roles(
        steps=[
            StepRole("a", "orchestrated", "flow", True, (), True, False, None, None),
            StepRole("b", "choreographed", "svc", False, ("a",), True, False, "choreographed", "svc"),
        ],
        functions_by_service={
            "controller": ["function:ctl"],
            "svc": ["function:svc"],
            "task": ["function:task"],
            "door": ["function:door"],
        },
        machines={"flow": "machine:flow"},
        controller=["function:ctl"],
        controller_queues=["queue:ctlq"],
        front_door=["function:door"],
        queue_of={"function:ctl": "queue:ctlq", "function:svc": "queue:svcq"},
    )


def _usage() -> Usage:
    counts: defaultdict[Key, float] = defaultdict(float)
    counts.update(
        {
            ("function:door", "events", "entries"): 2,
            ("function:ctl", "events", "entries"): 4,
            ("function:ctl", "lambda", "invocations"): 6,
            ("function:ctl", "dynamodb", "wru"): 40,
            ("machine:flow", "events", "entries"): 2,
            ("machine:flow", "stepfunctions", "call:PutEvents"): 2,
            ("machine:flow", "stepfunctions", "transitions"): 12,
            ("machine:flow", "stepfunctions", "executions"): 2,
            ("machine:flow", "stepfunctions", "history_events"): 36,
            ("machine:flow", "logs", "bytes"): 3600,
            ("machine:flow", "lambda", "task:function:task"): 2,
            ("function:task", "lambda", "invocations"): 2,
            ("function:task", "lambda", "compute_ms"): 10,
            ("function:svc", "lambda", "invocations"): 2,
            ("function:svc", "sqs", "messages"): 3,
            ("function:svc", "events", "entries"): 2,
            ("function:svc", "lambda", "waited:events:PutEvents"): 3,
            ("function:svc", "dynamodb", "wru"): 6,
            ("bus", "events", "published"): 10,
            ("queue:ctlq", "sqs", "sends"): 6,
            ("queue:ctlq", "sqs", "pollers"): 1,
            ("queue:svcq", "sqs", "sends"): 3,
            ("queue:svcq", "sqs", "pollers"): 1,
            ("scheduler", "scheduler", "invocations"): 1,
        }
    )
    return Usage(workflows=2, counts=counts, memory_mb={"task": 1769, "svc": 1769, "ctl": 1769})


# Workflow 1 went straight through; workflow 2 tried step a twice, and undid b after it failed.
STATUSES = {
    "w1": {
        "steps": {
            "a": {"attempt": 1, "compensationAttempt": 0},
            "b": {"attempt": 1, "compensationAttempt": 0},
        }
    },
    "w2": {
        "steps": {
            "a": {"attempt": 2, "compensationAttempt": 0},
            "b": {"attempt": 1, "compensationAttempt": 1},
        }
    },
}


def test_the_one_machine_counts_its_end_a_choice_per_machine_step_and_a_task_and_choice_per_other() -> None:
    # States entered, as AWS bills them: w1: end (1) + a (1) + b (2) = 4; w2: 1 + a twice (2) + b (2) +
    # b's undo (2) = 7.
    assert orchestrator_transitions(_roles(), STATUSES) == 11


def test_all_orchestrated_removes_the_controller_and_the_events_and_invokes_consumers_from_tasks() -> None:
    usage = _usage()
    modelled = orchestrated(usage, _roles(), STATUSES)

    assert modelled.of("function:ctl") == {}
    assert modelled.of("queue:ctlq") == {}
    assert modelled.of("queue:svcq") == {}
    assert modelled.total("scheduler", "invocations") == 0
    assert modelled.total("events", "published") == 2  # the front door's start only
    assert modelled.counts[("function:svc", "lambda", "invocations")] == 3  # once a message it had
    assert ("function:svc", "lambda", "waited:events:PutEvents") not in modelled.counts
    assert modelled.counts[("function:svc", "dynamodb", "wru")] == 6  # its own table work stays
    assert modelled.counts[("machine:flow", "stepfunctions", "transitions")] == 12  # inlined, kept
    assert modelled.counts[(ORCHESTRATOR, "stepfunctions", "transitions")] == 11
    # 3 history events a transition at 100 bytes each, as measured on the step machine.
    assert modelled.counts[(ORCHESTRATOR, "logs", "bytes")] == 11 * 3 * 100
    assert usage.counts[("function:ctl", "lambda", "invocations")] == 6  # the measured usage is untouched


def test_all_choreographed_removes_controller_and_machines_and_turns_tasks_into_consumers() -> None:
    modelled = choreographed(_usage(), _roles())

    assert modelled.of("function:ctl") == {}
    assert modelled.total("stepfunctions", "transitions") == 0
    assert modelled.total("logs", "bytes") == 0
    # 10 published - the controller's 4 - the machine's 2 + one outcome per task invocation (2).
    assert modelled.total("events", "published") == 6
    assert modelled.counts[("function:task", "sqs", "messages")] == 2
    assert modelled.counts[("function:task", "lambda", "waited:events:PutEvents")] == 2
    assert modelled.total("sqs", "sends") == 3 + 2  # the consumer's queue, and the new task queue


def test_express_prices_the_step_machine_by_request_and_duration() -> None:
    modelled = express(_usage(), _roles(), HOPS)

    assert modelled.total("stepfunctions", "transitions") == 0
    assert modelled.total("stepfunctions", "express_executions") == 2
    # A task hop 77.3 + its function's 5 ms + 5 other states x 10 + one PutEvents 20 = 152.3 ms -> 200 ms.
    assert modelled.counts[("machine:flow", "stepfunctions", "express_ms_per_execution")] == pytest.approx(
        152.3
    )
    assert modelled.total("stepfunctions", "express_gb_seconds") == pytest.approx(2 * 0.2 * 64 / 1024)
