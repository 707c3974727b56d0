"""The preflight table (check, status, detail, fix under each row that is not ok) and its JSON form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflowkit.preflight.base import CheckResult, Status

_BY_SEVERITY = (Status.FAILED, Status.WARNING, Status.OK)


def format_table(results: Sequence[CheckResult], *, title: str) -> str:
    width = max([len("check"), *(len(r.check) for r in results)]) + 2
    indent = " " * (width + 9)
    lines = [title, "", f"{'check':<{width}}{'status':<9}detail"]
    for result in results:
        detail, *more = result.detail.splitlines() or [""]
        lines.append(f"{result.check:<{width}}{result.status.value:<9}{detail}")
        lines.extend(f"{indent}{line}" for line in more)
        if result.status is not Status.OK and result.fix:
            first, *rest = result.fix.splitlines()
            lines.append(f"{indent}fix: {first}")
            lines.extend(f"{indent}     {line}" for line in rest)
    lines.extend(["", summary(results)])
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> str:
    failed, warnings, ok = (sum(1 for r in results if r.status is s) for s in _BY_SEVERITY)
    verdict = "not ready to deploy" if failed else "ready to deploy"
    return f"{failed} failed, {warnings} warning{'' if warnings == 1 else 's'}, {ok} ok: {verdict}"


def as_json(results: Sequence[CheckResult], **context: Any) -> dict[str, Any]:
    return {
        **context,
        "ok": not any(r.failed for r in results),
        "failed": sum(1 for r in results if r.failed),
        "warnings": sum(1 for r in results if r.status is Status.WARNING),
        "checks": [
            {"check": r.check, "status": r.status.value, "detail": r.detail, "fix": r.fix} for r in results
        ],
    }
