"""Records a service keeps for long but reads rarely, held on disk instead of in memory.

:class:`Blobs` keeps byte strings by handle, for what is read back by key: a DynamoDB table's cold items.

An EventBridge archive keeps every event it matched for its retention period (days, or for ever), and a
local run publishes hundreds of thousands of events: as Python dicts they were a third of a long run's
memory. :class:`Spool` is the list moto's ``Archive.events`` is, appended to and iterated the same way
(a replay reads it through), each record pickled to an anonymous temporary file that disappears with it.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_LENGTH = struct.Struct("<I")


class Spool:
    """An append-only sequence of picklable records, kept in a temporary file."""

    def __init__(self, records: Iterable[Any] = ()) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool
        self._count = 0
        # A record is a seek and two writes (a read: a seek and two reads) on one file position: one at
        # a time, as a list's append is, whichever threads append and read.
        self._lock = threading.Lock()
        for record in records:
            self.append(record)

    def append(self, record: Any) -> None:
        data = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._file.seek(0, 2)
            self._file.write(_LENGTH.pack(len(data)))
            self._file.write(data)
            self._count += 1

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Any]:
        """Each record as appended, oldest first (those appended while iterating are not seen)."""
        count, offset = self._count, 0
        for _ in range(count):
            with self._lock:
                self._file.seek(offset)
                (size,) = _LENGTH.unpack(self._file.read(_LENGTH.size))
                data = self._file.read(size)
            offset += _LENGTH.size + size
            yield pickle.loads(data)

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("spool index out of range")
        for number, record in enumerate(self):
            if number == index:
                return record
        raise IndexError("spool index out of range")  # pragma: no cover - the count says it is there


_LENGTH_BITS = 32
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


class Blobs:
    """Byte strings kept in a temporary file, each read back by the handle (an int: where it lies and
    its length) its append returned. Append-only: space a blob leaves when its owner moves on is not
    reused; it goes with the file."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the blobs
        self._descriptor = self._file.fileno()
        self._end = 0
        self._lock = threading.Lock()  # one end of the file, whichever threads append

    def append(self, data: bytes) -> int:
        if len(data) > _LENGTH_MASK:
            raise ValueError("a blob is at most 4 GiB")
        with self._lock:
            offset = self._end
            self._end += len(data)
        written = 0
        while written < len(data):  # positioned writes: no shared file position to race on
            written += os.pwrite(self._descriptor, data[written:], offset + written)
        return offset << _LENGTH_BITS | len(data)

    def read(self, handle: int) -> bytes:
        return os.pread(self._descriptor, handle & _LENGTH_MASK, handle >> _LENGTH_BITS)

    @property
    def size(self) -> int:
        """Bytes written to the file so far."""
        return self._end
