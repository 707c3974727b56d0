"""What the faults did: a count per fault, and each injection with the workflows it hit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Injection:
    at: datetime  # virtual time
    fault: str
    where: str  # the hop: "deliver OrderSubmitted -> queue:...", "controller: dynamodb.UpdateItem", ...
    workflows: tuple[str, ...]  # the correlation ids it hit, where known

    def describe(self) -> str:
        return f"{self.fault}: {self.where}"


class FaultLog:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._by_workflow: dict[str, list[Injection]] = {}

    def record(
        self, at: datetime, fault: str, where: str, workflows: tuple[str, ...] = (), *, count: bool = True
    ) -> None:
        if count:
            self.counts[fault] += 1
        injection = Injection(at, fault, where, workflows)
        for workflow in workflows:
            self._by_workflow.setdefault(workflow, []).append(injection)

    def for_workflow(self, workflow_id: str) -> list[Injection]:
        return list(self._by_workflow.get(workflow_id, ()))

    def hit(self) -> set[str]:
        """Every workflow some fault is known to have hit."""
        return set(self._by_workflow)
