"""The names of a step's Step Functions executions, shared by who starts them and who answers them.

The controller starts each attempt of an orchestrated step under this name; the front door, holding a
task token a state machine left for a decision, checks the token was issued by the current attempt's
execution (``$$.Execution.Name``) before it answers it. One definition, so the two can never disagree.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


def safe_name(text: str, limit: int) -> str:
    """``text`` with every character AWS names refuse replaced by ``-``, cut to ``limit``."""
    return _UNSAFE.sub("-", text)[:limit]


def execution_name(workflow_id: str, step: str, attempt: int) -> str:
    """Step Functions execution names: <= 80 chars of [0-9A-Za-z_-]; unique per step attempt."""
    digest = hashlib.sha256(workflow_id.encode()).hexdigest()[:8]
    return f"{safe_name(workflow_id, 48)}-{digest}-{safe_name(step, 12)}-{attempt}"
