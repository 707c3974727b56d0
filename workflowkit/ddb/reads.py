"""Query and Scan: key ranges, index projections, filters, Select, Limit and pagination."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from workflowkit.ddb import requests
from workflowkit.ddb.conditions import evaluate, key_range
from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.expressions import parse_condition
from workflowkit.ddb.paths import Path, project
from workflowkit.ddb.table import Index, RangeCondition, Table
from workflowkit.ddb.tree import Parsed
from workflowkit.ddb.values import Item, Value, collation_key, convert, copy_item, copy_value

PAGE_SIZE = 1024 * 1024  # DynamoDB stops reading after 1 MB and hands back a LastEvaluatedKey
SELECT_VALUES = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
# ExclusiveStartKey errors, worded as DynamoDB words them (dynalite's tests, checked against the service):
# a Query or an index read checks the attribute count and the read schema's own key attributes first,
# then the table's key attributes; a table Scan has one message for every malformed key.
INVALID_START = "The provided starting key is invalid"
START_SCHEMA_MISMATCH = "The provided key element does not match the schema"
BAD_START = f"{INVALID_START}: {START_SCHEMA_MISMATCH}"
START_OUTSIDE_QUERY = "The provided starting key is outside query boundaries based on provided conditions"
START_NOT_IN_RANGE = "The provided starting key does not match the range key predicate"
START_CANNOT_RESTART = "The query can return at most one row and cannot be restarted"
_PREFIX = "1 validation error detected: "


def query(table: Table, request: dict[str, Any]) -> dict[str, Any]:
    index = requests.index(table, request.get("IndexName"))
    text = request.get("KeyConditionExpression")
    if text is None:
        raise ValidationException(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        )
    key_condition = parse_condition(text, "KeyConditionExpression")
    read = _Read(table, index, request, key_condition)
    schema = index if index is not None else table
    if read.filter is not None:
        for root in read.filter.roots:
            name = read.names[root] if root[0] == "#" else root
            if name in (schema.hash_name, schema.range_name):
                raise ValidationException(
                    "Filter Expression can only contain non-primary key attributes: "
                    f"Primary key attribute: {name}"
                )
    selected = key_range(key_condition, schema, read.names, read.values)
    condition = (
        RangeCondition(selected.operator, tuple(collation_key(operand) for operand in selected.operands))
        if selected.operator
        else None
    )
    hash_key = collation_key(selected.hash_value)
    forward = request.get("ScanIndexForward", True) is not False
    start = _start(table, index, request.get("ExclusiveStartKey"), query=True)
    if start is not None:
        _check_query_start(start, index, hash_key, condition)
    source: Iterator[tuple[Item, int]]
    if index is None:
        source = table.query(hash_key, condition, forward, start[1] if start else None)
    else:
        source = table.query_index(index, hash_key, condition, forward, start[1] if start else None)
    return read.page(source)


def scan(table: Table, request: dict[str, Any]) -> dict[str, Any]:
    index = requests.index(table, request.get("IndexName"))
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when Segment "
            "parameter is present"
        )
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when parameter "
            "TotalSegments is present"
        )
    if segment is not None and segment >= total:
        raise ValidationException(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments"
        )
    read = _Read(table, index, request, None)
    start = _start(table, index, request.get("ExclusiveStartKey"))
    parallel = (int(segment), int(total)) if segment is not None and total is not None else None
    if index is None:
        return read.page(table.scan(start[1] if start else None, parallel))
    return read.page(table.scan_index(index, start, parallel))


class _Read:
    """What Query and Scan share: filter, projection, Select and the page loop."""

    def __init__(
        self, table: Table, index: Index | None, request: dict[str, Any], key_condition: Parsed | None
    ) -> None:
        self.table, self.index, self.request = table, index, request
        if request.get("ConsistentRead") and index is not None and index.is_global:
            raise ValidationException("Consistent reads are not supported on global secondary indexes")
        self.filter = requests.condition(request, "FilterExpression")
        projection, attributes = requests.projection(request)
        self.names, self.values = requests.expressions(request, key_condition, self.filter, projection)
        self.paths: list[Path] | None = requests.projection_paths(projection, attributes, self.names)
        self.select = self._select(request.get("Select"), projection is not None or attributes is not None)
        requests.consumed_capacity(request)

    def _select(self, select: str | None, projected: bool) -> str:
        index = self.index
        if select is None:
            if projected:
                return "SPECIFIC_ATTRIBUTES"
            return "ALL_ATTRIBUTES" if index is None else "ALL_PROJECTED_ATTRIBUTES"
        if select not in SELECT_VALUES:
            raise ValidationException(
                f"{_PREFIX}Value '{select}' at 'select' failed to satisfy constraint: Member must satisfy "
                f"enum value set: [{', '.join(SELECT_VALUES)}]"
            )
        if select == "SPECIFIC_ATTRIBUTES" and not projected:
            raise ValidationException(
                f"{_PREFIX}Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                "SPECIFIC_ATTRIBUTES"
            )
        if select != "SPECIFIC_ATTRIBUTES" and projected:
            described = "only the Count" if select == "COUNT" else select
            parameter = (
                "ProjectionExpression" if "ProjectionExpression" in self.request else "AttributesToGet"
            )
            raise ValidationException(
                f"{_PREFIX}Cannot specify the {parameter} when choosing to get {described}"
            )
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise ValidationException(
                f"{_PREFIX}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            )
        if (
            select == "ALL_ATTRIBUTES"
            and index is not None
            and index.is_global
            and index.projected is not None
        ):
            raise ValidationException(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for "
                f"global secondary index {index.name} because its projection type is not ALL"
            )
        return select

    def page(self, source: Iterator[tuple[Item, int]]) -> dict[str, Any]:
        limit = self.request.get("Limit")
        if limit is not None and limit < 1:
            raise ValidationException(
                f"{_PREFIX}Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value "
                "greater than or equal to 1"
            )
        index, condition, names, values = self.index, self.filter, self.names, self.values
        # A global index holds only its projection; a local one can fetch the rest from the table.
        visible_only = index is not None and index.is_global and index.projected is not None
        select, paths = self.select, self.paths
        items: list[Item] = []
        scanned = count = read_bytes = 0
        stop_at = limit if limit is not None else -1
        last: Item | None = None
        if condition is None and select == "ALL_ATTRIBUTES":
            # The common case (a plain Query of a table) without per-item branching.
            for item, size in source:
                scanned += 1
                read_bytes += size
                items.append(copy_item(item))
                if scanned == stop_at or read_bytes >= PAGE_SIZE:
                    last = item
                    break
            count = scanned
        else:
            for item, size in source:
                scanned += 1
                read_bytes += size
                visible = index.project(item) if visible_only and index is not None else item
                if condition is None or evaluate(condition, visible, names, values):
                    count += 1
                    if select != "COUNT":
                        items.append(self._render(item, visible, select, paths))
                if scanned == stop_at or read_bytes >= PAGE_SIZE:
                    last = item
                    break
        response: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
        if select != "COUNT":
            response = {"Items": items, **response}
        if last is not None:
            response["LastEvaluatedKey"] = {
                name: copy_value(value) for name, value in self.table.key_attributes(last, index).items()
            }
        return response

    def _render(self, item: Item, visible: Item, select: str, paths: list[Path] | None) -> Item:
        if select == "ALL_ATTRIBUTES":
            return copy_item(item)
        if select == "ALL_PROJECTED_ATTRIBUTES":
            assert self.index is not None
            return copy_item(self.index.project(item))
        assert paths is not None
        return project(visible, paths)


def _start(table: Table, index: Index | None, wire: Any, *, query: bool = False) -> tuple[Any, Any] | None:
    """ExclusiveStartKey as (hash collation key, position tuple) for the table or index being read."""
    if wire is None:
        return None
    names = index.key_names if index is not None else table.key_names
    types = table.types
    converted: dict[str, Value] = {}
    if index is None and not query:
        if not isinstance(wire, dict) or set(wire) != set(names):
            raise ValidationException(BAD_START)
        own: tuple[str, ...] = ()
    else:
        if not isinstance(wire, dict) or len(wire) != len(names):
            raise ValidationException(INVALID_START)
        schema = index if index is not None else table
        own = (schema.hash_name, schema.range_name) if schema.range_name else (schema.hash_name,)
        for name in own:
            if name not in wire:
                raise ValidationException(INVALID_START)
            value = convert(wire[name])[0]
            if types.get(name) not in value:
                raise ValidationException(START_SCHEMA_MISMATCH)
            converted[name] = value
    for name in names:
        if name in own:
            continue
        if name not in wire:
            raise ValidationException(BAD_START)
        value = convert(wire[name])[0]
        if types.get(name) not in value:
            raise ValidationException(BAD_START)
        converted[name] = value
    primary = table.primary_key(converted)
    if index is None:
        return primary[0], primary
    index_hash = collation_key(converted[index.hash_name])
    if index.range_name is None:
        return index_hash, primary
    return index_hash, (collation_key(converted[index.range_name]), *primary)


def _check_query_start(
    start: tuple[Any, Any], index: Index | None, hash_key: Any, condition: RangeCondition | None
) -> None:
    """A Query resumes only from a key its key condition selects, as DynamoDB insists."""
    start_hash, position = start
    if condition is None:
        if start_hash != hash_key:
            raise ValidationException(START_OUTSIDE_QUERY)
        return
    # The range key of the index read (first in an index position) or of the table (second).
    start_range = position[0] if index is not None else position[1]
    if not condition.matches(start_range):
        raise ValidationException(START_NOT_IN_RANGE)
    if start_hash != hash_key:
        raise ValidationException(START_CANNOT_RESTART)


def get_items(
    table: Table, keys: list[Any], request: Mapping[str, Any]
) -> tuple[list[tuple[Any, Item | None]], list[Path] | None]:
    """Shared by BatchGetItem and TransactGetItems: validated keys and the projection to apply."""
    projection, attributes = requests.projection(dict(request))
    names, _ = requests.expressions(dict(request), projection)
    paths = requests.projection_paths(projection, attributes, names)
    found = []
    for wire in keys:
        _, primary = requests.key(table, wire)
        found.append((primary, table.get(primary)))
    return found, paths


def render(item: Item, paths: list[Path] | None) -> Item:
    return copy_item(item) if paths is None else project(item, paths)
