"""Records a service keeps for long but reads rarely, held on disk instead of in memory.

An EventBridge archive keeps every event it matched for its retention period (days, or for ever), and a
local run publishes hundreds of thousands of events: as Python dicts they were a third of a long run's
memory. :class:`Spool` is the list moto's ``Archive.events`` is, appended to and iterated the same way
(a replay reads it through), each record pickled to an anonymous temporary file that disappears with it.
"""

from __future__ import annotations

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
