"""Registries of project copies the e2e tests build and synthesize."""

from __future__ import annotations

import re
from pathlib import Path

ORDER_V1_ONLY = "WORKFLOWS = (ORDER_WORKFLOW,)\n"


def list_order_v1_only(root: Path) -> None:
    """Make the copy at ``root`` deploy order v1 alone, as a stage that never ran v2: what ``workflowkit new
    step order`` extends (it refuses a workflow with several live versions) and what a test of deploying
    another version over v1 starts from."""
    registry = root / "functions" / "workflow_registry.py"
    text, count = re.subn(r"WORKFLOWS = \(.*\)\n", ORDER_V1_ONLY, registry.read_text())
    assert count == 1, "the registry's WORKFLOWS is no longer one line"
    registry.write_text(text)
