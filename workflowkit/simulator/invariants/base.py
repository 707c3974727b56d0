"""What every invariant speaks of: status documents, and the violations it finds in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

Status = dict[str, Any]  # a status document, as the status API returns it
Statuses = dict[str, Status]  # workflow id -> status document

TERMINAL = {"COMPLETED", "COMPENSATED", "FAILED", "NEEDS_ATTENTION"}


@dataclass(frozen=True)
class Violation:
    invariant: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.subject}: {self.detail}"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
