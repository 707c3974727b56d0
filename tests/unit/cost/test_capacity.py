"""The meter's DynamoDB capacity units: the rules AWS bills on-demand reads and writes by, one at a time.

The local cloud's engine is replaced by a dict of stored items and their sizes, so each rule is checked
on its own: 1 KB write units and 4 KB read units rounded up, transactional writes and reads doubled,
eventually consistent reads halved, an update charged on the larger of the item before and after, a
refused conditional write charged for the item as it stands, a write into a global secondary index.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from workflowkit.cost.meter import Meter

KB = 1024


class _Engine:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}

    def put(self, table: str, pk: str, size: int, **attributes: Any) -> None:
        self.items[(table, pk)] = ({"pk": {"S": pk}, **attributes}, size)

    def stored(self, table: str, key: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
        return self.items.get((table, key["pk"]["S"]))


def _meter(indexes: dict[str, list[tuple[str, ...]]] | None = None) -> tuple[Meter, Any, _Engine]:
    engine = _Engine()
    described = {
        table: {"Table": {"GlobalSecondaryIndexes": [{"KeySchema": [{"AttributeName": n} for n in names]}]}}
        for table, index in (indexes or {}).items()
        for names in index
    }
    backend = SimpleNamespace(describe_table=lambda table: described.get(table, {"Table": {}}))
    cloud = SimpleNamespace(dynamodb=SimpleNamespace(engine=engine), backend=lambda _service: backend)
    meter = Meter()
    meter._cloud = cloud  # type: ignore[assignment]
    return meter, cloud, engine


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def test_a_write_is_a_unit_per_kb_rounded_up_and_at_least_one() -> None:
    meter, cloud, engine = _meter()
    engine.put("t", "a", 2 * KB + 1)
    assert meter._capacity(cloud, "PutItem", {"TableName": "t", "Item": _key("a")}, {}) == (0.0, 3.0)
    engine.put("t", "b", 10)
    assert meter._capacity(cloud, "PutItem", {"TableName": "t", "Item": _key("b")}, {}) == (0.0, 1.0)


def test_a_transactional_write_costs_two_units_per_kb_of_each_item() -> None:
    meter, cloud, engine = _meter()
    engine.put("t", "a", 3 * KB)
    engine.put("t", "b", 100)
    params = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": _key("a")}},
            {"Update": {"TableName": "t", "Key": _key("b")}},
        ]
    }
    assert meter._capacity(cloud, "TransactWriteItems", params, {}) == (0.0, 2 * 3 + 2 * 1)


def test_an_update_is_charged_on_the_larger_of_the_item_before_and_after() -> None:
    meter, cloud, engine = _meter()
    engine.put("t", "a", 5 * KB)
    update = {"TableName": "t", "Key": _key("a")}
    meter._capacity(cloud, "UpdateItem", update, {})  # the meter sees the item at 5 KB
    engine.put("t", "a", KB)  # an update shrinks it
    assert meter._capacity(cloud, "UpdateItem", update, {}) == (0.0, 5.0)
    assert meter._capacity(cloud, "UpdateItem", update, {}) == (0.0, 1.0)  # 1 KB before and after


def test_a_write_refused_by_its_condition_still_consumes_the_units_of_the_item_as_it_stands() -> None:
    meter, cloud, engine = _meter()
    engine.put("t", "a", 4 * KB)
    refused = {"Error": {"Code": "ConditionalCheckFailedException"}}
    assert meter._capacity(cloud, "PutItem", {"TableName": "t", "Item": _key("a")}, refused) == (0.0, 4.0)
    missing = {"TableName": "t", "Key": _key("nothing")}
    assert meter._capacity(cloud, "UpdateItem", missing, refused) == (0.0, 1.0)


def test_an_item_in_a_global_secondary_index_is_written_there_too() -> None:
    meter, cloud, engine = _meter(indexes={"t": [("status",)]})
    engine.put("t", "indexed", KB, status={"S": "open"})
    engine.put("t", "plain", KB)
    assert meter._capacity(cloud, "PutItem", {"TableName": "t", "Item": _key("indexed")}, {}) == (0.0, 2.0)
    assert meter._capacity(cloud, "PutItem", {"TableName": "t", "Item": _key("plain")}, {}) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("consistent", "units"),
    [(True, 2.0), (False, 1.0)],
)
def test_a_read_is_a_unit_per_4_kb_rounded_up_halved_when_eventually_consistent(
    consistent: bool, units: float
) -> None:
    meter, cloud, engine = _meter()
    engine.put("t", "a", 4 * KB + 1)
    params = {"TableName": "t", "Key": _key("a"), "ConsistentRead": consistent}
    assert meter._capacity(cloud, "GetItem", params, {}) == (units, 0.0)


def test_a_read_of_nothing_still_costs_the_smallest_unit() -> None:
    meter, cloud, _ = _meter()
    params = {"TableName": "t", "Key": _key("none"), "ConsistentRead": False}
    assert meter._capacity(cloud, "GetItem", params, {}) == (0.5, 0.0)


def test_a_transactional_read_costs_two_strongly_consistent_units_per_4_kb_of_each_item() -> None:
    meter, cloud, engine = _meter()
    engine.put("t", "a", 6 * KB)
    params = {"TransactItems": [{"Get": {"TableName": "t", "Key": _key("a")}}]}
    assert meter._capacity(cloud, "TransactGetItems", params, {}) == (2 * 2.0, 0.0)
