"""The engine's own tests again, every item packed as soon as it is written (``HOT_ITEMS = 0``).

A table keeps its latest items as written and older ones packed (workflowkit.ddb.table.HOT_ITEMS): a run
of 100,000 workflows reads most of its items back from the packed form only rarely, so these tests make
every read, query, scan, index read, update, condition and transaction go through it, and expect the
same answers as the engine gives its hot items.
"""

from __future__ import annotations

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
    # THEN it is stored packed (small) and every read gives it back as written
    assert isinstance(kept.data["a"], bytes)
    assert len(kept.data["a"]) < 500
    assert kept.get(("a",)) == item
    assert list(kept.query("a", None, True, None)) == [(item, 5100)]
    assert list(kept.scan(None, None)) == [(item, 5100)]
    assert kept.write(("a",), None) == item
