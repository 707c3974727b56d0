"""The kit's generic code names no workflow's domain: the runtime, the controller, the front door and the
local cloud work for any declared workflow (issue 8). ``infra/`` has its own test (tests/infra)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERIC = [
    *sorted((ROOT / "workflowkit").rglob("*.py")),
    *sorted((ROOT / "functions" / "workflow_core").rglob("*.py")),
    *sorted((ROOT / "functions" / "controller").rglob("*.py")),
    *sorted((ROOT / "functions" / "frontdoor").rglob("*.py")),
]
# DynamoDB's reserved words are DynamoDB's (ORDER among them), not a domain.
EXEMPT = {ROOT / "workflowkit" / "ddb" / "reserved.py"}
# The shipped example's domain, as words in any case (the plain-English "order" included: it is the
# first word anyone searches for).
DOMAIN_WORDS = re.compile(
    r"\b(orders?|payments?|inventory|shipping|shipments?|skus?|carriers?|refunds?|stock|commerce)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "path", [p for p in GENERIC if p not in EXEMPT], ids=lambda p: str(p.relative_to(ROOT))
)
def test_generic_code_names_no_domain(path: Path) -> None:
    found = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if DOMAIN_WORDS.search(line)
    ]
    assert found == []
