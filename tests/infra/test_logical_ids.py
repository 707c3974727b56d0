"""Stateful resources keep their logical IDs: a changed ID means CloudFormation replaces (and loses) data.

If you *meant* to replace a resource, regenerate the snapshot:
    PYTHONPATH=.:functions .venv/bin/python -m tests.infra.test_logical_ids
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.infra.conftest import Synthesized, synthesize

SNAPSHOT = Path(__file__).with_name("logical_ids.json")
STATEFUL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::Events::Archive",
    "AWS::Events::EventBus",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
)


def stateful_ids(synth: Synthesized) -> dict[str, list[str]]:
    return {cfn_type: sorted(synth.of_type(cfn_type)) for cfn_type in STATEFUL_TYPES}


def test_logical_ids_of_stateful_resources_are_stable(synthesized: Synthesized) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = stateful_ids(synthesized)
    for cfn_type in STATEFUL_TYPES:
        missing = sorted(set(expected[cfn_type]) - set(actual[cfn_type]))
        added = sorted(set(actual[cfn_type]) - set(expected[cfn_type]))
        assert not missing, f"{cfn_type}: logical IDs changed or removed (data would be replaced): {missing}"
        assert not added, f"{cfn_type}: new stateful resources, add them to {SNAPSHOT.name}: {added}"


def test_state_machine_log_groups_are_in_the_snapshot(synthesized: Synthesized) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["AWS::Logs::LogGroup"]
    for flow in synthesized.stack.flows.values():
        assert synthesized.logical_id(flow.log_group) in expected


def write_snapshot() -> None:
    """Regenerate the snapshot: only after deciding that the listed replacements are intended."""
    with tempfile.TemporaryDirectory() as outdir:
        ids = stateful_ids(synthesize(Path(outdir)))
    SNAPSHOT.write_text(json.dumps(ids, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_snapshot()
