"""What every invariant speaks of: status documents, and the violations it finds in them."""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflowkit.spool import Blobs

Status = dict[str, Any]  # a status document, as the status API returns it
Statuses = dict[str, Status]  # workflow id -> status document (or PackedStatuses, the same read packed)

TERMINAL = {"COMPLETED", "COMPENSATED", "FAILED", "NEEDS_ATTENTION"}
# From how many documents a run's statuses are kept packed (PackedStatuses): below it, parsed, as the
# invariants read each document several times and unpacking costs ~20 us a read.
PACK_STATUSES_FROM = 10_000


@dataclass(frozen=True)
class Violation:
    invariant: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.subject}: {self.detail}"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


_MISSING = object()


class PackedStatuses(dict[str, Status]):
    """Status documents kept packed (marshalled, compressed) on disk, each read back afresh when read.

    A run of 100,000 workflows reads every document at its end, and parsed they take tens of KB each:
    packed on disk (``workflowkit.spool.Blobs``), the run holds an int a document and parses one at a
    time. Reads go through ``[]``, ``get``, ``items``, ``values`` and iteration (which ``dict(...)`` and
    ``{**...}`` use too, since iteration is overridden); a document changed after it was read is not
    changed here. Iterate with :func:`in_sequence`: ``sorted(statuses.items())`` would unpack them all
    at once. Pickled (a shard's result), it carries the packed documents themselves.
    """

    def __init__(self, documents: Iterable[tuple[str, Status]] = ()) -> None:
        super().__init__()
        self._blobs = Blobs()
        for workflow_id, status in documents:
            self[workflow_id] = status

    def __setitem__(self, workflow_id: str, status: Status) -> None:
        self._keep(workflow_id, zlib.compress(marshal.dumps(status), 1))

    def add_packed(self, other: PackedStatuses) -> None:
        """Every document of ``other``, as it is packed (not parsed on the way)."""
        for workflow_id in dict.keys(other):
            self._keep(workflow_id, other._packed(workflow_id))

    def _keep(self, workflow_id: str, packed: bytes) -> None:
        super().__setitem__(workflow_id, self._blobs.append(packed))  # type: ignore[assignment]

    def _packed(self, workflow_id: str) -> bytes:
        return self._blobs.read(super().__getitem__(workflow_id))  # type: ignore[arg-type]

    def __getitem__(self, workflow_id: str) -> Status:
        status: Status = marshal.loads(zlib.decompress(self._packed(workflow_id)))
        return status

    def get(self, workflow_id: str, default: Any = None) -> Any:
        try:
            return self[workflow_id]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(list(super().keys()))

    def items(self) -> Iterator[tuple[str, Status]]:  # type: ignore[override]
        return ((workflow_id, self[workflow_id]) for workflow_id in list(super().keys()))

    def values(self) -> Iterator[Status]:  # type: ignore[override]
        return (self[workflow_id] for workflow_id in list(super().keys()))

    def __eq__(self, other: object) -> bool:
        """Equal to a mapping of the same ids to equal documents (what they are, not where they lie)."""
        if not isinstance(other, dict) or len(other) != len(self):
            return False
        return all(key in other and other[key] == status for key, status in self.items())

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # a mutable mapping, as dict

    def pop(self, workflow_id: str, default: Any = _MISSING) -> Any:
        if workflow_id not in self and default is not _MISSING:
            return default
        status = self[workflow_id]
        super().pop(workflow_id)
        return status

    def setdefault(self, workflow_id: str, default: Any = None) -> Any:
        raise TypeError("a packed document is read as a copy: set it with [], read it with []")

    def popitem(self) -> tuple[str, Status]:
        workflow_id = next(reversed(list(dict.keys(self))))
        return workflow_id, self.pop(workflow_id)

    def update(self, *others: Any, **more: Any) -> None:
        for workflow_id, status in dict(*others, **more).items():
            self[workflow_id] = status

    def __ior__(self, other: Any) -> PackedStatuses:  # type: ignore[override, misc]
        self.update(other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle_packed, ({key: self._packed(key) for key in dict.keys(self)},))


def _unpickle_packed(packed: dict[str, bytes]) -> PackedStatuses:
    statuses = PackedStatuses()
    for workflow_id, document in packed.items():
        statuses._keep(workflow_id, document)
    return statuses


def in_sequence(statuses: Statuses) -> Iterator[tuple[str, Status]]:
    """(workflow id, document) by workflow id, one document at a time (``sorted(statuses.items())``
    holds every document at once: for packed statuses, every one unpacked)."""
    for workflow_id in sorted(statuses):
        yield workflow_id, statuses[workflow_id]
