"""The engine's own tests again, every item packed as soon as it is written (``HOT_ITEMS = 0``).

A table keeps its latest items as written and older ones packed (workflowkit.ddb.table.HOT_ITEMS): a run
of 100,000 workflows reads most of its items back from the packed form only rarely, so these tests make
every read, query, scan, index read, update, condition and transaction go through it, and expect the
same answers as the engine gives its hot items.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.local_cloud.test_ddb_engine import *  # noqa: F403 - the same tests, run on packed items
from workflowkit.ddb import table
from workflowkit.ddb.values import Item


@pytest.fixture(autouse=True)
def every_item_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "HOT_ITEMS", 0)


def test_an_item_is_kept_packed_once_written_and_read_back_whole() -> None:
    # GIVEN a table that packs every item it stores
    kept = table.Table(
        {
            "TableName": "p",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        }
    )
    item: Item = {
        "id": {"S": "a"},
        "doc": {"S": "x" * 5000},
        "n": {"N": "1.5"},
        "flags": {"L": [{"BOOL": True}, {"NULL": True}, {"B": b"\x00\x01"}]},
        "tags": {"SS": ["p", "q"]},
        "nested": {"M": {"k": {"N": "2"}}},
    }
    # WHEN it is written, then read, queried and scanned
    kept.write(("a",), dict(item), size=5100)
    # THEN it is stored packed (small), on disk: in memory only where it lies; every read gives it back
    assert type(kept.data["a"]) is int
    assert kept._blobs is not None
    assert kept._blobs.size < 500
    assert kept.get(("a",)) == item
    assert list(kept.query("a", None, True, None)) == [(item, 5100)]
    assert list(kept.scan(None, None)) == [(item, 5100)]
    assert kept.write(("a",), None) == item


def a_range_table() -> table.Table:
    return table.Table(
        {
            "TableName": "r",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "n", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "n", "AttributeType": "N"},
            ],
        }
    )


def an_item(n: int) -> Item:
    return {"pk": {"S": "a"}, "n": {"N": str(n)}, "doc": {"S": f"item {n}"}}


def test_a_hash_key_whose_items_are_all_cold_is_packed_whole_with_their_sizes() -> None:
    # GIVEN a range table that packs every item it stores, holding three items under one hash key
    kept = a_range_table()
    for n in (3, 1, 2):
        kept.write(("a", Decimal(n)), an_item(n), size=100 + n)
    # THEN the hash key is kept as one blob on disk, and no size is kept apart from it
    assert type(kept.data["a"]) is int
    assert kept.sizes == {}
    # AND every read gives the items back in range-key order, each with its size
    assert kept.get_sized(("a", Decimal(2))) == (an_item(2), 102)
    assert kept.get(("a", Decimal(4))) is None
    assert kept.size_of(("a", Decimal(3))) == 103
    assert list(kept.query("a", None, True, None)) == [(an_item(n), 100 + n) for n in (1, 2, 3)]
    assert list(kept.query("a", None, False, ("a", Decimal(3)))) == [(an_item(n), 100 + n) for n in (2, 1)]
    above_one = table.RangeCondition(">", (Decimal(1),))
    assert list(kept.query("a", above_one, True, None)) == [(an_item(n), 100 + n) for n in (2, 3)]
    assert list(kept.scan(None, None)) == [(an_item(n), 100 + n) for n in (1, 2, 3)]


def test_a_write_to_a_hash_key_packed_whole_keeps_its_other_items() -> None:
    # GIVEN a hash key packed whole
    kept = a_range_table()
    for n in (1, 2, 3):
        kept.write(("a", Decimal(n)), an_item(n), size=100 + n)
    # WHEN one item is replaced and another deleted
    changed = {**an_item(2), "doc": {"S": "changed"}}
    assert kept.write(("a", Decimal(2)), changed, size=7) == an_item(2)
    assert kept.write(("a", Decimal(1)), None) == an_item(1)
    # THEN the others are as they were, and the hash key is packed whole again
    assert list(kept.query("a", None, True, None)) == [(changed, 7), (an_item(3), 103)]
    assert type(kept.data["a"]) is int


def test_a_query_sees_a_write_made_while_it_reads_a_packed_hash_key() -> None:
    # GIVEN a query under way on a hash key packed whole
    kept = a_range_table()
    for n in (1, 2, 3):
        kept.write(("a", Decimal(n)), an_item(n), size=100 + n)
    reading = kept.query("a", None, True, None)
    assert next(reading) == (an_item(1), 101)
    # WHEN an item it has not reached yet is deleted
    kept.write(("a", Decimal(2)), None)
    # THEN the query does not return it
    assert list(reading) == [(an_item(3), 103)]


def test_a_hash_key_of_many_items_is_not_packed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a hash key of more items than are packed whole
    monkeypatch.setattr(table, "PACK_PARTITIONS_UP_TO", 2)
    kept = a_range_table()
    for n in (1, 2, 3):
        kept.write(("a", Decimal(n)), an_item(n), size=100 + n)
    # THEN its items are packed one by one and read back as written
    assert isinstance(kept.data["a"], table.Partition)
    assert list(kept.query("a", None, True, None)) == [(an_item(n), 100 + n) for n in (1, 2, 3)]
