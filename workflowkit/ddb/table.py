"""One table: its key schema, its items, and its secondary indexes.

Items live in a dict keyed by hash-key value; with a range key, each hash key holds a ``Partition``
whose range keys are kept sorted (bisect), so a Query is a slice, never a sort. Key values are held as
their collation key: ``str`` for S (code points sort as UTF-8 bytes do), ``Decimal`` for N, ``bytes``
for B. A secondary index keeps, per index hash key, a sorted list of ``(index range key, table key...)``
tuples pointing back at the items, updated on every write that changes an item's index keys.
"""

from __future__ import annotations

import bisect
import marshal
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from workflowkit.ddb.errors import ValidationException
from workflowkit.ddb.values import Item, collation_key
from workflowkit.spool import Blobs

PrimaryKey = tuple[Any, ...]
Record = tuple[Item, int]  # an item and its size
# How many items, last written, each table keeps as they were written; older ones are kept packed
# (marshalled, compressed when large): a few hundred bytes instead of a few KB of dicts. Items are
# DynamoDB's to keep for as long as the table lives, and a run of 100,000 workflows writes millions;
# the ones a run still works on are its latest, and an older one read again is unpacked on the way out.
HOT_ITEMS = 2048
# Once none of a hash key's items is hot, its items and their sizes are packed together, in one blob
# (see pack_records) written to the table's temporary file (workflowkit.spool.Blobs): in memory stays
# the hash key and an int saying where the blob lies. The per-item bookkeeping (a range key in a sorted
# list and a dict, a size keyed by a tuple) and the packed items were most of a long run's memory. A
# partition of more items than this stays as it is: a write to a packed partition unpacks it whole,
# which must stay cheap.
PACK_PARTITIONS_UP_TO = 64
_RAW, _COMPRESSED, _RECORDS = b"m", b"z", b"r"
_COMPRESS_FROM = 512  # bytes of marshalled item: smaller ones gain little from zlib


def pack(item: Item) -> Item | bytes:
    """The item as kept when cold: marshalled (its values are str, bytes, bool, lists and dicts)."""
    try:
        data = marshal.dumps(item)
    except ValueError:
        return item  # not plain data: kept as it is
    if len(data) >= _COMPRESS_FROM:
        return _COMPRESSED + zlib.compress(data, 1)
    return _RAW + data


def unpack(stored: Any) -> Item:
    """An item as stored (packed or not), as an item."""
    if type(stored) is not bytes:
        return stored  # type: ignore[no-any-return]
    data = stored[1:]
    item: Item = marshal.loads(zlib.decompress(data) if stored[:1] == _COMPRESSED else data)
    return item


def pack_records(records: list[Record]) -> bytes | None:
    """A hash key's items and sizes (sorted by range key) as kept when all are cold; None if they are not
    plain data."""
    try:
        return _RECORDS + zlib.compress(marshal.dumps(records), 1)
    except ValueError:
        return None


def unpack_records(stored: bytes) -> list[Record]:
    records: list[Record] = marshal.loads(zlib.decompress(stored[1:]))
    return records


@dataclass(slots=True)
class Partition:
    keys: list[Any] = field(default_factory=list)  # sorted range-key collation keys
    items: dict[Any, Item | bytes] = field(default_factory=dict)  # bytes: packed (see HOT_ITEMS)
    unpacked: int = 0  # how many of the items are not packed: at 0 the partition may be packed whole


@dataclass(frozen=True, slots=True)
class RangeCondition:
    operator: str  # =, <, <=, >, >=, BETWEEN, begins_with
    operands: tuple[Any, ...]  # collation keys (str, Decimal or bytes)

    def matches(self, key: Any) -> bool:
        """Whether a range key's collation key (of the condition's type) satisfies the condition."""
        operator, value = self.operator, self.operands[0]
        if operator == "=":
            return bool(key == value)
        if operator == "<":
            return bool(key < value)
        if operator == "<=":
            return bool(key <= value)
        if operator == ">":
            return bool(key > value)
        if operator == ">=":
            return bool(key >= value)
        if operator == "BETWEEN":
            return bool(value <= key <= self.operands[1])
        return bool(key[: len(value)] == value)  # begins_with: str or bytes


class Index:
    def __init__(
        self, description: dict[str, Any], is_global: bool, types: dict[str, str], table: Table
    ) -> None:
        self.name: str = description["IndexName"]
        self.is_global = is_global
        schema = key_schema(description)
        self.hash_name: str = schema["HASH"]
        self.range_name: str | None = schema.get("RANGE")
        self.hash_type = types[self.hash_name]
        self.range_type = types[self.range_name] if self.range_name else None
        projection = description.get("Projection", {})
        kind = projection.get("ProjectionType", "ALL")
        self.projection_type: str = kind
        self.key_names: tuple[str, ...] = tuple(
            dict.fromkeys(
                name for name in (table.hash_name, table.range_name, self.hash_name, self.range_name) if name
            )
        )
        self.projected: frozenset[str] | None = (
            None
            if kind == "ALL"
            else frozenset(self.key_names) | frozenset(projection.get("NonKeyAttributes", ()))
        )
        self.entries: dict[Any, list[tuple[Any, ...]]] = {}
        self._sorted_hashes: list[Any] | None = None

    def entry(self, item: Item | None, primary: PrimaryKey) -> tuple[Any, tuple[Any, ...]] | None:
        """(index hash key, sortable entry) of an item, or None when it lacks the index's keys."""
        if item is None:
            return None
        hash_value = item.get(self.hash_name)
        if hash_value is None:
            return None
        if self.range_name is None:
            return collation_key(hash_value), primary
        range_value = item.get(self.range_name)
        if range_value is None:
            return None
        return collation_key(hash_value), (collation_key(range_value), *primary)

    def replace(
        self, old: tuple[Any, tuple[Any, ...]] | None, new: tuple[Any, tuple[Any, ...]] | None
    ) -> None:
        if old == new:
            return
        if old is not None:
            entries = self.entries[old[0]]
            del entries[bisect.bisect_left(entries, old[1])]
            if not entries:
                del self.entries[old[0]]
                self._sorted_hashes = None
        if new is not None:
            entries_for_hash = self.entries.get(new[0])
            if entries_for_hash is None:
                self.entries[new[0]] = [new[1]]
                self._sorted_hashes = None
            else:
                bisect.insort(entries_for_hash, new[1])

    def sorted_hashes(self) -> list[Any]:
        if self._sorted_hashes is None:
            self._sorted_hashes = sorted(self.entries)
        return self._sorted_hashes

    def project(self, item: Item) -> Item:
        if self.projected is None:
            return item
        return {name: value for name, value in item.items() if name in self.projected}


class Table:
    def __init__(self, description: dict[str, Any]) -> None:
        self.name: str = description["TableName"]
        self.types: dict[str, str] = {
            definition["AttributeName"]: definition["AttributeType"]
            for definition in description.get("AttributeDefinitions", ())
        }
        schema = key_schema(description)
        self.hash_name: str = schema["HASH"]
        self.range_name: str | None = schema.get("RANGE")
        self.hash_type = self.types[self.hash_name]
        self.range_type = self.types[self.range_name] if self.range_name else None
        self.key_names: tuple[str, ...] = (
            (self.hash_name, self.range_name) if self.range_name else (self.hash_name,)
        )
        self.indexes: dict[str, Index] = {}
        for index in description.get("GlobalSecondaryIndexes") or ():
            self.indexes[index["IndexName"]] = Index(index, True, self.types, self)
        for index in description.get("LocalSecondaryIndexes") or ():
            self.indexes[index["IndexName"]] = Index(index, False, self.types, self)
        # Index key attributes -> (index name, expected type), for validating writes.
        self.index_keys: list[tuple[str, str, str]] = [
            (name, self.types[name], index.name)
            for index in self.indexes.values()
            for name in (index.hash_name, index.range_name)
            if name and name not in self.key_names
        ]
        # hash key -> item (hash-only table) or Partition, or, for a cold hash key, the handle (int) of
        # its packed records in self._blobs (see PACK_PARTITIONS_UP_TO), whose sizes are packed with them,
        # not in self.sizes
        self.data: dict[Any, Any] = {}
        self._blobs: Blobs | None = None  # made when the first hash key is packed
        self.sizes: dict[PrimaryKey, int] = {}
        self._sorted_hashes: list[Any] | None = None
        # The latest HOT_ITEMS written, oldest first; the items stored (self.data) are packed when they
        # leave it (see HOT_ITEMS).
        self._hot: OrderedDict[PrimaryKey, None] = OrderedDict()

    # --- keys ---------------------------------------------------------------------------------------
    def primary_key(self, item: Item) -> PrimaryKey:
        """The collation-key tuple of a validated item or key."""
        if self.range_name is None:
            return (collation_key(item[self.hash_name]),)
        return collation_key(item[self.hash_name]), collation_key(item[self.range_name])

    def key_attributes(self, item: Item, index: Index | None = None) -> Item:
        names = index.key_names if index is not None else self.key_names
        return {name: item[name] for name in names}

    def check_index_keys(self, item: Item) -> None:
        for name, expected, index_name in self.index_keys:
            value = item.get(name)
            if value is None:
                continue
            if expected not in value:
                raise ValidationException(
                    f"One or more parameter values were invalid: Type mismatch for Index Key {name} "
                    f"Expected: {expected} Actual: {next(iter(value))} IndexName: {index_name}"
                )
            if value[expected] in ("", b""):
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a secondary index key "
                    "is not supported. The AttributeValue for a key attribute cannot contain an empty string "
                    f"value. IndexName: {index_name}, IndexKey: {name}"
                )

    # --- point reads and writes -----------------------------------------------------------------------
    def get(self, primary: PrimaryKey) -> Item | None:
        found = self.get_sized(primary)
        return None if found is None else found[0]

    def get_sized(self, primary: PrimaryKey) -> Record | None:
        """The item under ``primary`` and its size, or None."""
        stored = self.data.get(primary[0])
        if stored is None:
            return None
        if type(stored) is int:
            return self._packed_record(stored, primary)
        if self.range_name is None:
            return stored, self.sizes[primary]
        found = stored.items.get(primary[1])
        return None if found is None else (unpack(found), self.sizes[primary])

    def size_of(self, primary: PrimaryKey) -> int:
        """The stored item's size (0 when there is none)."""
        size = self.sizes.get(primary)
        if size is not None:
            return size
        found = self.get_sized(primary)
        return 0 if found is None else found[1]

    def _packed_record(self, handle: int, primary: PrimaryKey) -> Record | None:
        records = self._read_records(handle)
        if self.range_name is None:
            return records[0]
        range_name, wanted = self.range_name, primary[1]
        for record in records:
            if collation_key(record[0][range_name]) == wanted:
                return record
        return None

    def write(self, primary: PrimaryKey, item: Item | None, size: int = 0) -> Item | None:
        """Store ``item`` under ``primary`` (None deletes); returns the previous item."""
        stored = self.data.get(primary[0])
        if type(stored) is int:
            self._unpack_hash_key(primary[0], stored)
        if self.range_name is None:
            old = self.data.get(primary[0])
            if item is None:
                if old is not None:
                    del self.data[primary[0]]
                    self._sorted_hashes = None
            else:
                if old is None:
                    self._sorted_hashes = None
                self.data[primary[0]] = item
        else:
            old = self._write_partition(primary, item)
        if old is not None:
            old = unpack(old)
        hot = self._hot
        if item is None:
            self.sizes.pop(primary, None)
            hot.pop(primary, None)
            if self.range_name is not None:
                self._pack_partition_if_cold(primary[0])
        else:
            self.sizes[primary] = size
            hot[primary] = None
            hot.move_to_end(primary)
            if len(hot) > HOT_ITEMS:
                self._pack(hot.popitem(last=False)[0])
        for index in self.indexes.values():
            index.replace(index.entry(old, primary), index.entry(item, primary))
        return old

    def _pack(self, primary: PrimaryKey) -> None:
        """An item leaves the hot ones: packed, and with it its hash key's items once none is hot."""
        hash_key = primary[0]
        if self.range_name is None:
            item = self.data.get(hash_key)
            if type(item) is dict:
                packed = pack_records([(item, self.sizes[primary])])
                if packed is not None:
                    self.data[hash_key] = self._store_records(packed)
                    del self.sizes[primary]
            return
        partition = self.data.get(hash_key)
        item = None if type(partition) is not Partition else partition.items.get(primary[1])
        if type(item) is not dict:
            return
        assert isinstance(partition, Partition)
        packed_item = pack(item)
        if packed_item is item:
            return  # not plain data: kept as it is
        partition.items[primary[1]] = packed_item
        partition.unpacked -= 1
        self._pack_partition_if_cold(hash_key)

    def _pack_partition_if_cold(self, hash_key: Any) -> None:
        partition = self.data.get(hash_key)
        if type(partition) is not Partition:
            return
        if partition.unpacked or len(partition.keys) > PACK_PARTITIONS_UP_TO:
            return
        sizes = self.sizes
        records = [(unpack(partition.items[key]), sizes[(hash_key, key)]) for key in partition.keys]
        packed = pack_records(records)
        if packed is None:
            return
        self.data[hash_key] = self._store_records(packed)
        for key in partition.keys:
            del sizes[(hash_key, key)]

    def _store_records(self, packed: bytes) -> int:
        if self._blobs is None:
            self._blobs = Blobs()
        return self._blobs.append(packed)

    def _read_records(self, handle: int) -> list[Record]:
        assert self._blobs is not None
        return unpack_records(self._blobs.read(handle))

    def _unpack_hash_key(self, hash_key: Any, handle: int) -> None:
        """A packed hash key about to be written: its items back as stored before it was packed whole
        (a hash-only table's item as written; a partition's items each packed), their sizes with them."""
        records = self._read_records(handle)
        if self.range_name is None:
            item, size = records[0]
            self.data[hash_key] = item
            self.sizes[(hash_key,)] = size
            return
        partition = Partition()
        range_name = self.range_name
        for item, size in records:  # sorted by range key
            key = collation_key(item[range_name])
            partition.keys.append(key)
            partition.items[key] = pack(item)
            self.sizes[(hash_key, key)] = size
        self.data[hash_key] = partition

    def _write_partition(self, primary: PrimaryKey, item: Item | None) -> Item | bytes | None:
        """Store in the partition; returns the previous item as stored (packed or not)."""
        hash_key, range_key = primary
        partition = self.data.get(hash_key)
        if partition is None:
            if item is None:
                return None
            partition = self.data[hash_key] = Partition()
            self._sorted_hashes = None
        old = partition.items.get(range_key)
        if item is None:
            if old is not None:
                if type(old) is not bytes:
                    partition.unpacked -= 1
                del partition.items[range_key]
                del partition.keys[bisect.bisect_left(partition.keys, range_key)]
                if not partition.items:
                    del self.data[hash_key]
                    self._sorted_hashes = None
            return old
        if old is None:
            bisect.insort(partition.keys, range_key)
        if type(old) is not dict:
            partition.unpacked += 1  # a new item, or a packed one replaced by one as written
        partition.items[range_key] = item
        return old

    # --- sorted reads ---------------------------------------------------------------------------------
    def query(
        self, hash_key: Any, condition: RangeCondition | None, forward: bool, start: PrimaryKey | None
    ) -> Iterator[tuple[Item, int]]:
        """(item, size) pairs under one hash key, sorted by range key, after ``start`` if given."""
        if self.range_name is None:
            found = self.get_sized((hash_key,))
            if found is not None and start is None:
                yield found
            return
        stored = self.data.get(hash_key)
        if stored is None:
            return
        if type(stored) is int:
            yield from self._query_packed(hash_key, stored, condition, forward, start)
            return
        partition = stored
        keys = partition.keys
        # The keys chosen now: a caller may write (and so move keys) between pages of a lazy read.
        selected = [keys[position] for position in _positions(keys, condition, forward, start)]
        items, sizes = partition.items, self.sizes
        for range_key in selected:
            found = items.get(range_key)
            if found is not None:  # a caller may write between pages of a lazy read
                yield unpack(found), sizes[(hash_key, range_key)]

    def _query_packed(
        self,
        hash_key: Any,
        handle: int,
        condition: RangeCondition | None,
        forward: bool,
        start: PrimaryKey | None,
    ) -> Iterator[Record]:
        """A query of a hash key packed whole: its records, unpacked for this read only."""
        records = self._read_records(handle)
        assert self.range_name is not None
        range_name = self.range_name
        keys = [collation_key(item[range_name]) for item, _ in records]
        for position in _positions(keys, condition, forward, start):
            if self.data.get(hash_key) == handle:
                yield records[position]
            else:  # written since this read began: what is stored now
                found = self.get_sized((hash_key, keys[position]))
                if found is not None:
                    yield found

    def query_index(
        self,
        index: Index,
        hash_key: Any,
        condition: RangeCondition | None,
        forward: bool,
        start: tuple[Any, ...] | None,
    ) -> Iterator[tuple[Item, int]]:
        entries = index.entries.get(hash_key)
        if not entries:
            return
        low, high = _bounds(entries, condition if index.range_name else None, _first)
        if start is not None:
            if forward:
                low = max(low, bisect.bisect_right(entries, start))
            else:
                high = min(high, bisect.bisect_left(entries, start))
        selected = entries[low:high] if forward else entries[low:high][::-1]
        skip = 1 if index.range_name else 0
        for entry in selected:
            primary = entry[skip:]
            found = self.get_sized(primary)
            if found is not None:
                yield found

    def scan(self, start: PrimaryKey | None, segment: tuple[int, int] | None) -> Iterator[tuple[Item, int]]:
        if self._sorted_hashes is None:
            self._sorted_hashes = sorted(self.data)
        hashes = self._sorted_hashes
        position = 0 if start is None else bisect.bisect_left(hashes, start[0])
        for hash_key in hashes[position:]:
            if segment is not None and _segment_of(hash_key, segment[1]) != segment[0]:
                continue
            if self.range_name is None:
                if start is not None and hash_key == start[0]:
                    continue
                found = self.get_sized((hash_key,))
                if found is not None:
                    yield found
                continue
            resume = start if start is not None and hash_key == start[0] else None
            yield from self.query(hash_key, None, True, resume)

    def scan_index(
        self, index: Index, start: tuple[Any, Any] | None, segment: tuple[int, int] | None
    ) -> Iterator[tuple[Item, int]]:
        hashes = index.sorted_hashes()
        position = 0 if start is None else bisect.bisect_left(hashes, start[0])
        for hash_key in hashes[position:]:
            if segment is not None and _segment_of(hash_key, segment[1]) != segment[0]:
                continue
            resume = start[1] if start is not None and hash_key == start[0] else None
            yield from self.query_index(index, hash_key, None, True, resume)


def key_schema(description: dict[str, Any]) -> dict[str, str]:
    """{"HASH": name, "RANGE": name} of a table or index description."""
    elements = description["KeySchema"]
    schema = {element["KeyType"]: element["AttributeName"] for element in elements}
    if len(schema) != len(elements):
        # GSIs may have multi-attribute keys (several HASH or RANGE elements); the engine models one each.
        raise NotImplementedError(
            f"{description.get('IndexName') or description.get('TableName')}: multi-attribute keys are not "
            "supported by the local DynamoDB engine"
        )
    return schema


def _positions(
    keys: list[Any], condition: RangeCondition | None, forward: bool, start: PrimaryKey | None
) -> range:
    """Where in sorted range ``keys`` a query reads, in the sequence it reads them (after ``start``)."""
    low, high = _bounds(keys, condition, None)
    if start is not None:
        if forward:
            low = max(low, bisect.bisect_right(keys, start[1]))
        else:
            high = min(high, bisect.bisect_left(keys, start[1]))
    return range(low, high) if forward else range(high - 1, low - 1, -1)


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


def _bounds(
    keys: list[Any], condition: RangeCondition | None, key: Callable[[Any], Any] | None
) -> tuple[int, int]:
    """The slice of sorted ``keys`` a range condition selects."""
    if condition is None:
        return 0, len(keys)
    operator, operands = condition.operator, condition.operands
    value = operands[0]
    if operator == "=":
        return bisect.bisect_left(keys, value, key=key), bisect.bisect_right(keys, value, key=key)
    if operator == "<":
        return 0, bisect.bisect_left(keys, value, key=key)
    if operator == "<=":
        return 0, bisect.bisect_right(keys, value, key=key)
    if operator == ">":
        return bisect.bisect_right(keys, value, key=key), len(keys)
    if operator == ">=":
        return bisect.bisect_left(keys, value, key=key), len(keys)
    if operator == "BETWEEN":
        return bisect.bisect_left(keys, value, key=key), bisect.bisect_right(keys, operands[1], key=key)
    # begins_with: sorted keys sharing a prefix are contiguous, and truncating to the prefix's length
    # keeps the list sorted, so both ends can be found by bisection.
    width = len(value)

    def prefix(element: Any) -> Any:
        return (key(element) if key else element)[:width]

    return bisect.bisect_left(keys, value, key=prefix), bisect.bisect_right(keys, value, key=prefix)


def _segment_of(hash_key: Any, total: int) -> int:
    """A parallel scan's segment for a hash key: stable across calls and processes."""
    return zlib.crc32(repr(hash_key).encode()) % total
