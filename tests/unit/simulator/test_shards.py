"""A sharded run deals workflows over processes, keeping together what its plug-in says competes."""

from __future__ import annotations

from typing import Any

import pytest

from workflowkit.simulator import PackedStatuses, RunResult
from workflowkit.simulator.invariants import Statuses, base
from workflowkit.simulator.shards import merge_shards, shard_arrivals, shard_of, shards_of

PLAN = [(f"w-{n}", "happy") for n in range(7)]


def by_pair(scenario: str, workflow_id: str) -> str:
    """Two consecutive workflows share one key (they compete for one thing)."""
    return f"pair-{int(workflow_id.removeprefix('w-')) // 2}"


def test_without_a_key_workflow_n_goes_to_shard_n_mod_workers() -> None:
    assert shards_of(PLAN, 3) == [0, 1, 2, 0, 1, 2, 0]
    assert [n for n, _ in shard_arrivals(PLAN, 3, 1)] == [1, 4]


def test_with_a_key_each_key_stays_in_one_shard_and_keys_are_dealt_in_turn() -> None:
    # GIVEN pairs of workflows that compete (keys pair-0 .. pair-3), over two shards
    assert shards_of(PLAN, 2, by_pair) == [0, 0, 1, 1, 0, 0, 1]
    # THEN each shard runs whole pairs, at their planned arrivals
    assert [n for n, _ in shard_arrivals(PLAN, 2, 1, by_pair)] == [2, 3, 6]
    assert shard_of(PLAN, 2, "w-5", by_pair) == 0
    assert shard_of(PLAN, 2, "nobody", by_pair) is None


def a_shard(statuses: Statuses, started: float) -> dict[str, Any]:
    result = RunResult(
        seed=7,
        statuses=statuses,
        scenarios={},
        figures={},
        violations=[],
        trace_sha256="0" * 64,
        wall_seconds=1.0,
        virtual_seconds=1.0,
        handler_seconds=0.1,
    )
    return {"result": result, "started": started, "ended": started + 1.0}


def document(workflow_id: str) -> dict[str, Any]:
    return {"workflowId": workflow_id, "status": "COMPLETED", "steps": {"a": {"status": "DONE"}}, "n": 1.5}


def test_shards_merged_keep_their_status_documents_packed_when_the_run_is_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a run of many (here: 4 and more) in two shards, one too few alone to pack its documents
    monkeypatch.setattr(base, "PACK_STATUSES_FROM", 4)
    packed = PackedStatuses((f"w-{n}", document(f"w-{n}")) for n in range(0, 6, 2))
    parsed = {f"w-{n}": document(f"w-{n}") for n in (1, 3)}
    # WHEN the parent merges them
    merged = merge_shards(7, [a_shard(packed, 0.0), a_shard(parsed, 0.5)], origin=0.0)
    # THEN every document is there, as the shards read it, and the run's end holds them packed, not
    # every one parsed at once
    assert isinstance(merged.statuses, PackedStatuses)
    assert dict(merged.statuses) == {w: document(w) for w in ("w-0", "w-2", "w-4", "w-1", "w-3")}
    assert merged.workflows == 5
    assert merged.by_status() == {"COMPLETED": 5}


def test_shards_merged_keep_a_run_of_few_parsed() -> None:
    merged = merge_shards(7, [a_shard({"w-0": document("w-0")}, 0.0), a_shard({}, 0.5)], origin=0.0)
    assert type(merged.statuses) is dict
    assert merged.statuses == {"w-0": document("w-0")}
