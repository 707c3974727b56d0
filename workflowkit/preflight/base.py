"""What a preflight check is: a name and ``run(session, template) -> CheckResult``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3

    from workflowkit.preflight.assembly import StackTemplate


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"


@dataclass(frozen=True)
class CheckResult:
    """One row of the preflight table; ``fix`` says what to do when the status is not ok."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


class Check(ABC):
    """One thing the target account and region must offer before ``cdk deploy``.

    A check reads what the stack needs from the synthesized template and asks the account with the
    session's credentials; it does not catch AWS errors itself (the runner turns them into a row).
    """

    name: str

    @abstractmethod
    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult: ...

    def ok(self, detail: str) -> CheckResult:
        return CheckResult(self.name, Status.OK, detail)

    def warning(self, detail: str, fix: str) -> CheckResult:
        return CheckResult(self.name, Status.WARNING, detail, fix)

    def failed(self, detail: str, fix: str) -> CheckResult:
        return CheckResult(self.name, Status.FAILED, detail, fix)
