"""Which events may match no rule: the announcements, declared as such, and nothing a workflow needs.

The simulator's "nothing lost" invariant lets an announcement go unheard and reports any other event
that no rule matched, so a declared announcement that something must act on would hide a missing rule.
"""

from __future__ import annotations

from workflow_core import lifecycle as lc
from workflow_core.catalog import LIFECYCLE_TYPES
from workflow_core.registry import registry_from_module


def test_the_workflow_announcements_and_only_they_are_the_kits_announcements() -> None:
    announced = {t.name for t in LIFECYCLE_TYPES if t.announcement}
    assert announced == set(lc.ANNOUNCEMENTS)


def test_no_event_a_step_an_undo_or_the_controller_consumes_is_declared_an_announcement() -> None:
    for definition in registry_from_module("workflow_registry").definitions:
        announcements = {name for name, t in definition.catalog.items() if t.announcement}
        needed = set(definition.controller_inputs())
        for service in definition.consumer_services():
            needed.update(definition.consumer_inputs(service))
        assert needed & announcements == set(), definition.label
