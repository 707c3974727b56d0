"""The engine called directly: storage, indexes, pagination, transactions, validation, isolation."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from workflowkit.ddb import DynamoEngine

TABLES: dict[str, dict[str, Any]] = {
    "t": {
        "TableName": "t",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kept"]},
            }
        ],
    },
    "h": {
        "TableName": "h",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
    },
    "l": {
        "TableName": "l",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "lsk", "AttributeType": "S"},
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by_lsk",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "lsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    },
    "bin": {
        "TableName": "bin",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "B"}],
    },
}


def sv(text: str) -> dict[str, Any]:
    return {"S": text}


def nv(number: float | str) -> dict[str, Any]:
    return {"N": str(number)}


class Engine:
    """The engine plus helpers that assert on status codes."""

    def __init__(self) -> None:
        self.described: list[str] = []
        self.impl = DynamoEngine(self._describe)

    def _describe(self, name: str) -> dict[str, Any] | None:
        self.described.append(name)
        return TABLES.get(name)

    def ok(self, operation: str, **request: Any) -> dict[str, Any]:
        status, body = self.impl.handle(operation, request)
        assert status == 200, body
        body.pop("ResponseMetadata")
        return body

    def error(self, operation: str, **request: Any) -> dict[str, Any]:
        status, body = self.impl.handle(operation, request)
        assert status == 400, body
        assert body["ResponseMetadata"]["HTTPStatusCode"] == 400
        return body

    def put(self, table: str = "t", **item: Any) -> None:
        self.ok("PutItem", TableName=table, Item=item)


@pytest.fixture
def engine() -> Engine:
    return Engine()


def test_operations_are_exactly_the_data_plane_ones() -> None:
    handled = DynamoEngine.OPERATIONS
    assert handled == {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
    with pytest.raises(ValueError, match="ExecuteStatement"):
        DynamoEngine(lambda name: None).handle("ExecuteStatement", {"Statement": "SELECT * FROM t"})


def test_the_schema_is_described_once_and_forgotten_with_the_table(engine: Engine) -> None:
    # GIVEN a table used several times
    engine.put(pk=sv("a"), sk=sv("1"))
    engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})
    assert engine.described == ["t"]

    # WHEN it is forgotten (deleted), THEN its items go and its schema is asked for again
    engine.impl.forget_table("t")
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")}) == {}
    assert engine.described == ["t", "t"]


def test_an_unknown_table_is_not_cached_as_missing(engine: Engine) -> None:
    assert (
        engine.error("GetItem", TableName="later", Key={"id": sv("a")})["Error"]["Code"]
        == "ResourceNotFoundException"
    )
    TABLES["later"] = {**TABLES["h"], "TableName": "later"}
    try:
        assert engine.ok("GetItem", TableName="later", Key={"id": nv(1)}) == {}
    finally:
        del TABLES["later"]


def test_returned_items_are_copies_the_caller_may_mutate(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), doc={"M": {"l": {"L": [nv(1)]}}}, tags={"SS": ["x"]})
    got = engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"]
    got["doc"]["M"]["l"]["L"].append(nv(2))
    got["tags"]["SS"].append("y")
    got["pk"]["S"] = "changed"

    again = engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"]
    assert again == {"pk": sv("a"), "sk": sv("1"), "doc": {"M": {"l": {"L": [nv(1)]}}}, "tags": {"SS": ["x"]}}


def test_a_request_mutated_after_the_call_does_not_change_the_store(engine: Engine) -> None:
    item = {"pk": sv("a"), "sk": sv("1"), "l": {"L": [nv(1)]}}
    engine.put(**item)
    item["l"]["L"].append(nv(2))
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"]["l"] == {
        "L": [nv(1)]
    }


def test_query_pages_resume_exactly_after_the_last_evaluated_key(engine: Engine) -> None:
    # GIVEN 7 items under one hash key and some under another
    for n in range(7):
        engine.put(pk=sv("a"), sk=sv(f"{n}"))
    engine.put(pk=sv("b"), sk=sv("0"))

    # WHEN paging 3 at a time, backwards
    pages, start = [], None
    while True:
        request: dict[str, Any] = {
            "TableName": "t",
            "KeyConditionExpression": "pk = :a",
            "ExpressionAttributeValues": {":a": sv("a")},
            "Limit": 3,
            "ScanIndexForward": False,
        }
        if start:
            request["ExclusiveStartKey"] = start
        page = engine.ok("Query", **request)
        pages.append([item["sk"]["S"] for item in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if start is None:
            break

    # THEN every item comes once, in descending order; the full last page still carries a key
    assert pages == [["6", "5", "4"], ["3", "2", "1"], ["0"]]


def test_limit_counts_items_evaluated_before_the_filter(engine: Engine) -> None:
    for n in range(6):
        engine.put(pk=sv("a"), sk=sv(f"{n}"), even={"BOOL": n % 2 == 0})
    page = engine.ok(
        "Query",
        TableName="t",
        KeyConditionExpression="pk = :a",
        FilterExpression="even = :t",
        ExpressionAttributeValues={":a": sv("a"), ":t": {"BOOL": True}},
        Limit=4,
    )
    assert [item["sk"]["S"] for item in page["Items"]] == ["0", "2"]
    assert (page["Count"], page["ScannedCount"], page["LastEvaluatedKey"]) == (
        2,
        4,
        {"pk": sv("a"), "sk": sv("3")},
    )


def test_a_page_stops_after_one_megabyte(engine: Engine) -> None:
    blob = "x" * 300_000
    for n in range(5):
        engine.put(pk=sv("a"), sk=sv(f"{n}"), blob=sv(blob))
    page = engine.ok(
        "Query", TableName="t", KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": sv("a")}
    )
    assert page["Count"] == 4  # the fourth item takes the page past 1 MB
    assert page["LastEvaluatedKey"] == {"pk": sv("a"), "sk": sv("3")}


def test_a_global_index_holds_only_items_with_its_keys_and_follows_updates(engine: Engine) -> None:
    # GIVEN items with and without the index keys
    engine.put(pk=sv("a"), sk=sv("1"), g=sv("x"), rank=nv(2), kept=sv("k"), dropped=sv("d"))
    engine.put(pk=sv("a"), sk=sv("2"), g=sv("x"), rank=nv(10))
    engine.put(pk=sv("a"), sk=sv("3"), g=sv("x"))  # no range key for the index: not in it

    def ranks() -> list[dict[str, Any]]:
        return engine.ok(
            "Query",
            TableName="t",
            IndexName="by_g",
            KeyConditionExpression="g = :x",
            ExpressionAttributeValues={":x": sv("x")},
        )["Items"]

    # THEN the index has two items in numeric rank order, projected to keys + INCLUDE attributes
    assert ranks() == [
        {"pk": sv("a"), "sk": sv("1"), "g": sv("x"), "rank": nv(2), "kept": sv("k")},
        {"pk": sv("a"), "sk": sv("2"), "g": sv("x"), "rank": nv(10)},
    ]

    # WHEN one item loses its index key and another gains one
    engine.ok("UpdateItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")}, UpdateExpression="REMOVE g")
    engine.ok(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("3")},
        UpdateExpression="SET #r = :r",
        ExpressionAttributeNames={"#r": "rank"},
        ExpressionAttributeValues={":r": nv(-1)},
    )

    # THEN the index follows
    assert [item["sk"]["S"] for item in ranks()] == ["3", "2"]


def test_index_pagination_resumes_among_equal_index_keys(engine: Engine) -> None:
    for n in range(5):
        engine.put(pk=sv(f"p{n}"), sk=sv("s"), g=sv("x"), rank=nv(1))
    seen, start = [], None
    for _ in range(5):
        request: dict[str, Any] = {
            "TableName": "t",
            "IndexName": "by_g",
            "KeyConditionExpression": "g = :x",
            "ExpressionAttributeValues": {":x": sv("x")},
            "Limit": 2,
        }
        if start:
            request["ExclusiveStartKey"] = start
        page = engine.ok("Query", **request)
        seen += [item["pk"]["S"] for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "sk", "g", "rank"}
    assert seen == ["p0", "p1", "p2", "p3", "p4"]


def test_writes_with_wrongly_typed_index_keys_are_rejected(engine: Engine) -> None:
    body = engine.error("PutItem", TableName="t", Item={"pk": sv("a"), "sk": sv("1"), "rank": sv("high")})
    assert body["Error"]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key rank Expected: N Actual: S "
        "IndexName: by_g"
    )


def test_scan_is_stable_and_pages_and_segments_cover_every_item_once(engine: Engine) -> None:
    for n in range(20):
        engine.ok("PutItem", TableName="h", Item={"id": nv(n)})
    everything = [item["id"]["N"] for item in engine.ok("Scan", TableName="h")["Items"]]
    assert everything == [str(n) for n in range(20)]  # numeric order: stable across calls

    paged, start = [], None
    while True:
        request: dict[str, Any] = {"TableName": "h", "Limit": 6}
        if start:
            request["ExclusiveStartKey"] = start
        page = engine.ok("Scan", **request)
        paged += [item["id"]["N"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        start = page["LastEvaluatedKey"]
    assert paged == everything

    segments = [
        [item["id"]["N"] for item in engine.ok("Scan", TableName="h", Segment=s, TotalSegments=3)["Items"]]
        for s in range(3)
    ]
    assert sorted((key for segment in segments for key in segment), key=int) == everything


def test_a_transaction_is_all_or_nothing_and_reports_validation_errors_per_action(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), n=sv("text"))
    body = engine.error(
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": sv("a"), "sk": sv("2")}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": sv("a"), "sk": sv("1")},
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": nv(1)},
                }
            },
        ],
    )
    assert body["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in body["CancellationReasons"]] == ["None", "ValidationError"]
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("2")}) == {}


def test_a_transaction_touching_one_item_twice_is_invalid(engine: Engine) -> None:
    body = engine.error(
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": sv("a"), "sk": sv("1")}}},
            {
                "ConditionCheck": {
                    "TableName": "t",
                    "Key": {"pk": sv("a"), "sk": sv("1")},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ],
    )
    assert body["Error"] == {
        "Code": "ValidationException",
        "Message": "Transaction request cannot include multiple operations on one item",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (nv("1" * 39), "Attempting to store more than 38 significant digits in a Number"),
        (
            nv("1E+126"),
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            nv("1E-131"),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        (nv("1_000"), "The parameter cannot be converted to a numeric value: 1_000"),
        # digits of other scripts: \d without re.ASCII (and Decimal) used to accept them
        (
            nv("\u0661\u0662\u0663"),
            "The parameter cannot be converted to a numeric value: \u0661\u0662\u0663",
        ),
        (nv("1.\u0665"), "The parameter cannot be converted to a numeric value: 1.\u0665"),
        (nv("Infinity"), "The parameter cannot be converted to a numeric value: Infinity"),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        ),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"NULL": False}, "Null attribute value types must have the value of true"),
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ],
)
def test_invalid_values_are_rejected_anywhere_in_an_item(
    engine: Engine, value: dict[str, Any], message: str
) -> None:
    body = engine.error(
        "PutItem", TableName="t", Item={"pk": sv("a"), "sk": sv("1"), "m": {"M": {"v": value}}}
    )
    assert body["Error"] == {"Code": "ValidationException", "Message": message}


def test_numbers_keep_38_digits_exactly_and_add_exactly(engine: Engine) -> None:
    big = "1234567890123456789012345678901234567.8"
    engine.put(pk=sv("a"), sk=sv("1"), n=nv(big))
    updated = engine.ok(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        UpdateExpression="SET n = n + :tenth",
        ExpressionAttributeValues={":tenth": nv("0.1")},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {"n": nv("1234567890123456789012345678901234567.9")}


def test_items_over_400_kb_are_rejected_on_put_and_update(engine: Engine) -> None:
    body = engine.error(
        "PutItem", TableName="t", Item={"pk": sv("a"), "sk": sv("1"), "big": sv("x" * 410_000)}
    )
    assert body["Error"]["Message"] == "Item size has exceeded the maximum allowed size"
    engine.put(pk=sv("a"), sk=sv("1"), half=sv("x" * 300_000))
    body = engine.error(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        UpdateExpression="SET more = :v",
        ExpressionAttributeValues={":v": sv("y" * 120_000)},
    )
    assert body["Error"]["Message"] == "Item size to update has exceeded the maximum allowed size"


def test_remove_of_several_list_elements_uses_the_original_positions(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), l={"L": [nv(0), nv(1), nv(2), nv(3), nv(4)]})
    body = engine.ok(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        UpdateExpression="REMOVE l[1], l[3]",
        ReturnValues="ALL_NEW",
    )
    assert body["Attributes"]["l"] == {"L": [nv(0), nv(2), nv(4)]}


def test_right_hand_sides_see_the_item_before_the_update(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), x=nv(1), y=nv(2))
    body = engine.ok(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        UpdateExpression="SET x = y, y = x",
        ReturnValues="ALL_NEW",
    )
    assert (body["Attributes"]["x"], body["Attributes"]["y"]) == (nv(2), nv(1))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "SET a = :v, a.b = :v",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite "
            "one of these paths; path one: [a], path two: [a, b]",
        ),
        (
            "SET a.b = :v REMOVE a[0]",
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite "
            "one of these paths; path one: [a, b], path two: [a, [0]]",
        ),
        (
            "SET a = :v SET b = :v",
            'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
        ),
        (
            "SET sk = :v",
            "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part "
            "of the key",
        ),
    ],
)
def test_invalid_update_expressions_are_rejected_before_reading_the_item(
    engine: Engine, expression: str, message: str
) -> None:
    body = engine.error(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        UpdateExpression=expression,
        ExpressionAttributeValues={":v": sv("x")},
    )
    assert body["Error"] == {"Code": "ValidationException", "Message": message}


def test_key_values_are_checked_against_the_schema(engine: Engine) -> None:
    mismatch = {
        "Code": "ValidationException",
        "Message": "The provided key element does not match the schema",
    }
    assert engine.error("GetItem", TableName="t", Key={"pk": sv("a")})["Error"] == mismatch
    assert engine.error("GetItem", TableName="t", Key={"pk": sv("a"), "sk": nv(1)})["Error"] == mismatch
    assert (
        engine.error("DeleteItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1"), "x": sv("y")})["Error"]
        == mismatch
    )
    empty = engine.error("GetItem", TableName="t", Key={"pk": sv(""), "sk": sv("1")})["Error"]["Message"]
    assert empty.endswith("cannot contain an empty string value. Key: pk")


def test_binary_values_are_decoded_from_base64_on_the_way_in(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), b={"B": "AAH/"}, bs={"BS": ["YQ==", "Yg=="]})
    item = engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"]
    assert item["b"] == {"B": b"\x00\x01\xff"}
    assert item["bs"] == {"BS": [b"a", b"b"]}


def test_batch_write_applies_nothing_when_one_request_is_invalid(engine: Engine) -> None:
    body = engine.error(
        "BatchWriteItem",
        RequestItems={
            "t": [
                {"PutRequest": {"Item": {"pk": sv("a"), "sk": sv("1")}}},
                {"PutRequest": {"Item": {"pk": sv("a")}}},
            ]
        },
    )
    assert body["Error"]["Code"] == "ValidationException"
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")}) == {}


def test_consistent_reads_and_consumed_capacity_are_accepted_but_not_on_a_global_index(
    engine: Engine,
) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), g=sv("x"), rank=nv(1))
    key = {"pk": sv("a"), "sk": sv("1")}
    assert "Item" in engine.ok(
        "GetItem", TableName="t", Key=key, ConsistentRead=True, ReturnConsumedCapacity="TOTAL"
    )
    body = engine.error(
        "Query",
        TableName="t",
        IndexName="by_g",
        KeyConditionExpression="g = :x",
        ExpressionAttributeValues={":x": sv("x")},
        ConsistentRead=True,
    )
    assert body["Error"]["Message"] == "Consistent reads are not supported on global secondary indexes"


def test_a_table_with_multi_attribute_index_keys_is_refused_loudly() -> None:
    # GIVEN a GSI with two HASH attributes (DynamoDB's multi-attribute keys), which the engine cannot model
    description = {
        **TABLES["h"],
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "N"},
            {"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "b", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "multi",
                "KeySchema": [
                    {"AttributeName": "a", "KeyType": "HASH"},
                    {"AttributeName": "b", "KeyType": "HASH"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    engine = DynamoEngine(lambda name: description)

    # THEN using it fails instead of silently indexing on one attribute
    with pytest.raises(NotImplementedError, match="multi-attribute keys"):
        engine.handle("GetItem", {"TableName": "h", "Key": {"id": {"N": "1"}}})


# --- ExclusiveStartKey of a Query -----------------------------------------------------------------------

START_OUTSIDE = "The provided starting key is outside query boundaries based on provided conditions"
START_NOT_IN_RANGE = "The provided starting key does not match the range key predicate"
START_CANNOT_RESTART = "The query can return at most one row and cannot be restarted"
START_INVALID = "The provided starting key is invalid"
START_MISMATCH = "The provided key element does not match the schema"
START_BAD = "The provided starting key is invalid: The provided key element does not match the schema"


def table_key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": sv(pk), "sk": sv(sk)}


@pytest.mark.parametrize(
    ("query", "start", "message"),
    [
        # the table: another partition than the key condition's
        ({"KeyConditionExpression": "pk = :a"}, table_key("b", "0"), START_OUTSIDE),
        # the table: a range key the range condition does not select (checked before the hash key)
        ({"KeyConditionExpression": "pk = :a AND sk > :s"}, table_key("a", "1"), START_NOT_IN_RANGE),
        (
            {"KeyConditionExpression": "pk = :a AND begins_with(sk, :p)"},
            table_key("a", "5"),
            START_NOT_IN_RANGE,
        ),
        ({"KeyConditionExpression": "pk = :a AND sk > :s"}, table_key("b", "1"), START_NOT_IN_RANGE),
        # the table: the range condition holds but the partition differs
        ({"KeyConditionExpression": "pk = :a AND sk < :s"}, table_key("b", "1"), START_CANNOT_RESTART),
        # a global index: another index partition, or an index range key outside the condition
        (
            {"IndexName": "by_g", "KeyConditionExpression": "g = :x"},
            {**table_key("a", "0"), "g": sv("y"), "rank": nv(1)},
            START_OUTSIDE,
        ),
        (
            {"IndexName": "by_g", "KeyConditionExpression": "g = :x AND #r BETWEEN :lo AND :hi"},
            {**table_key("a", "0"), "g": sv("x"), "rank": nv(9)},
            START_NOT_IN_RANGE,
        ),
    ],
)
def test_a_query_refuses_a_start_key_outside_its_key_condition(
    engine: Engine, query: dict[str, Any], start: dict[str, Any], message: str
) -> None:
    # GIVEN items in two partitions of the table and of the index
    for pk in ("a", "b"):
        for n in range(3):
            engine.put(pk=sv(pk), sk=sv(f"{n}"), g=sv("x" if pk == "a" else "y"), rank=nv(n))
    values = {":a": sv("a"), ":s": sv("5"), ":p": sv("x"), ":x": sv("x"), ":lo": nv(2), ":hi": nv(5)}
    request: dict[str, Any] = {"TableName": "t", **query, "ExclusiveStartKey": start}
    text = query["KeyConditionExpression"]
    request["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in text}
    if "#r" in text:
        request["ExpressionAttributeNames"] = {"#r": "rank"}

    # WHEN the start key is outside what the key condition selects (this used to page the queried
    # partition from the start key's range value alone)
    body = engine.error("Query", **request)

    # THEN DynamoDB's ValidationException
    assert body["Error"] == {"Code": "ValidationException", "Message": message}


def test_a_local_index_query_refuses_a_start_key_of_another_partition(engine: Engine) -> None:
    engine.put("l", pk=sv("a"), sk=sv("1"), lsk=sv("z"))
    engine.put("l", pk=sv("b"), sk=sv("1"), lsk=sv("z"))
    body = engine.error(
        "Query",
        TableName="l",
        IndexName="by_lsk",
        KeyConditionExpression="pk = :a",
        ExpressionAttributeValues={":a": sv("a")},
        ExclusiveStartKey={"pk": sv("b"), "sk": sv("1"), "lsk": sv("a")},
    )
    assert body["Error"]["Message"] == START_OUTSIDE


def test_pages_of_a_query_with_a_range_condition_resume_from_their_last_evaluated_key(engine: Engine) -> None:
    # GIVEN items 0..9, of which the range condition selects 3..9
    for n in range(10):
        engine.put(pk=sv("a"), sk=sv(f"{n}"))
    seen: list[str] = []
    start: dict[str, Any] | None = None
    for forward in (True, False):
        seen, start = [], None
        while True:
            request: dict[str, Any] = {
                "TableName": "t",
                "KeyConditionExpression": "pk = :a AND sk >= :s",
                "ExpressionAttributeValues": {":a": sv("a"), ":s": sv("3")},
                "Limit": 3,
                "ScanIndexForward": forward,
            }
            if start:
                request["ExclusiveStartKey"] = start
            page = engine.ok("Query", **request)
            seen += [item["sk"]["S"] for item in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if start is None:
                break
        # THEN each page's LastEvaluatedKey is accepted as the next start key
        assert seen == [str(n) for n in (range(3, 10) if forward else range(9, 2, -1))]


@pytest.mark.parametrize(
    ("index", "start", "message"),
    [
        # the table's own key: a missing attribute, a wrongly typed one
        (None, {"pk": sv("a")}, START_INVALID),
        (None, {"pk": sv("a"), "z": sv("1")}, START_INVALID),
        (None, {"pk": sv("a"), "sk": nv(1)}, START_MISMATCH),
        # an index: its own key attributes first, then the table's
        ("by_g", {"pk": sv("a"), "sk": sv("0")}, START_INVALID),
        ("by_g", {**table_key("a", "0"), "g": sv("x"), "rank": sv("1")}, START_MISMATCH),
        ("by_g", {"pk": nv(1), "sk": sv("0"), "g": sv("x"), "rank": nv(1)}, START_BAD),
    ],
)
def test_a_malformed_query_start_key_is_worded_as_dynamodb_words_it(
    engine: Engine, index: str | None, start: dict[str, Any], message: str
) -> None:
    request: dict[str, Any] = {
        "TableName": "t",
        "KeyConditionExpression": "g = :a" if index else "pk = :a",
        "ExpressionAttributeValues": {":a": sv("a")},
        "ExclusiveStartKey": start,
    }
    if index:
        request["IndexName"] = index
    assert engine.error("Query", **request)["Error"]["Message"] == message


def test_a_malformed_scan_start_key_keeps_the_scan_wording(engine: Engine) -> None:
    assert engine.error("Scan", TableName="t", ExclusiveStartKey={"pk": sv("a")})["Error"]["Message"] == (
        START_BAD
    )


# --- legacy AttributeUpdates ----------------------------------------------------------------------------


@pytest.mark.parametrize("update", [{"Action": "PUT"}, {"Action": "ADD"}, {}])
def test_legacy_attribute_updates_without_a_value_allow_only_delete(
    engine: Engine, update: dict[str, Any]
) -> None:
    # GIVEN an AttributeUpdates entry with no Value, for PUT (explicit or the default) or ADD
    engine.put(pk=sv("a"), sk=sv("1"), x=nv(1))
    # WHEN updating (this used to raise KeyError('Value') out of handle())
    body = engine.error(
        "UpdateItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")}, AttributeUpdates={"x": update}
    )
    # THEN DynamoDB's ValidationException, and nothing changed
    assert body["Error"] == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: Only DELETE action is allowed when no "
        "attribute value is specified",
    }
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"]["x"] == nv(1)


def test_legacy_delete_without_a_value_removes_the_attribute(engine: Engine) -> None:
    engine.put(pk=sv("a"), sk=sv("1"), x=nv(1))
    engine.ok(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        AttributeUpdates={"x": {"Action": "DELETE"}},
    )
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"] == table_key(
        "a", "1"
    )


# --- key sizes ------------------------------------------------------------------------------------------

HASH_TOO_BIG = (
    "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit "
    "of2048 bytes"  # sic: no space, as DynamoDB words it
)
RANGE_TOO_BIG = (
    "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size "
    "limit of 1024 bytes"
)


def key_requests(table: str, key: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every request that names an item by its Key."""
    update = {"UpdateExpression": "SET x = :v", "ExpressionAttributeValues": {":v": nv(1)}}
    return [
        ("GetItem", {"TableName": table, "Key": key}),
        ("DeleteItem", {"TableName": table, "Key": key}),
        ("UpdateItem", {"TableName": table, "Key": key, **update}),
        ("BatchGetItem", {"RequestItems": {table: {"Keys": [key]}}}),
        ("BatchWriteItem", {"RequestItems": {table: [{"DeleteRequest": {"Key": key}}]}}),
        ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": table, "Key": key}}]}),
        ("TransactWriteItems", {"TransactItems": [{"Update": {"TableName": table, "Key": key, **update}}]}),
        ("TransactWriteItems", {"TransactItems": [{"Delete": {"TableName": table, "Key": key}}]}),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": key,
                            "ConditionExpression": "attribute_exists(x)",
                        }
                    }
                ]
            },
        ),
    ]


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ("t", table_key("x" * 2049, "1"), HASH_TOO_BIG),
        ("t", table_key("\u00e9" * 1025, "1"), HASH_TOO_BIG),  # 1025 characters, 2050 UTF-8 bytes
        ("t", table_key("a", "y" * 1025), RANGE_TOO_BIG),
        ("bin", {"id": {"B": b"\x00" * 2049}}, HASH_TOO_BIG),  # the caller's bytes (the fast path)
        ("bin", {"id": {"B": base64.b64encode(b"\x00" * 2049).decode()}}, HASH_TOO_BIG),  # wire base64
    ],
)
def test_every_key_is_held_to_the_key_size_limits(
    engine: Engine, table: str, key: dict[str, Any], message: str
) -> None:
    # GIVEN a key over DynamoDB's limits (2048 bytes of hash key, 1024 of range key)
    for operation, request in key_requests(table, key):
        # WHEN any operation names an item by it (only PutItem's item used to be checked)
        body = engine.error(operation, **request)
        # THEN the ValidationException PutItem gives
        assert body["Error"] == {"Code": "ValidationException", "Message": message}, operation


def test_keys_at_the_size_limits_are_accepted(engine: Engine) -> None:
    for table, key in (("t", table_key("x" * 2048, "y" * 1024)), ("bin", {"id": {"B": b"\x00" * 2048}})):
        for operation, request in key_requests(table, key):
            status, body = engine.impl.handle(operation, request)
            assert status == 200 or body["Error"]["Code"] == "TransactionCanceledException", (operation, body)


def test_a_list_index_must_be_written_in_ascii_digits(engine: Engine) -> None:
    # GIVEN an item with a list
    engine.put(pk=sv("a"), sk=sv("1"), l={"L": [nv(0), nv(1)]})
    # WHEN an update expression indexes it with an Arabic-Indic digit (int("\u0661") is 1)
    body = engine.error(
        "UpdateItem",
        TableName="t",
        Key={"pk": sv("a"), "sk": sv("1")},
        UpdateExpression="SET l[\u0661] = :v",
        ExpressionAttributeValues={":v": nv(5)},
    )
    # THEN it is a syntax error, and the list is unchanged
    assert body["Error"]["Code"] == "ValidationException"
    assert "Syntax error" in body["Error"]["Message"]
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")})["Item"]["l"] == {
        "L": [nv(0), nv(1)]
    }


def test_a_string_with_an_unpaired_surrogate_is_refused_and_nothing_is_stored(engine: Engine) -> None:
    # It has no UTF-8 form: the engine raised UnicodeEncodeError out of the call (found by the fuzz suite).
    body = engine.error(
        "PutItem", TableName="t", Item={"pk": sv("a"), "sk": sv("1"), "note": sv("caf\u00e9 \ud800")}
    )
    assert body["Error"]["Code"] == "ValidationException"
    assert "unpaired surrogate" in body["Error"]["Message"]
    assert engine.ok("GetItem", TableName="t", Key={"pk": sv("a"), "sk": sv("1")}) == {}
