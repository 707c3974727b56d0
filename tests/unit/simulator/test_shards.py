"""A sharded run deals workflows over processes, keeping together what its plug-in says competes."""

from __future__ import annotations

from workflowkit.simulator.shards import shard_arrivals, shard_of, shards_of

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
