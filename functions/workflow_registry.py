"""The workflows this app deploys: the one list the stack and every function read.

Add a workflow (or a new version of one) here; keep an old version listed until its last instance has
finished, so its wiring stays deployed (docs/decisions/0024).
"""

from __future__ import annotations

from onboarding_workflow import ONBOARDING_WORKFLOW
from order_workflow import ORDER_WORKFLOW, ORDER_WORKFLOW_V2

# Order v1 stays listed while instances started on it run (v2: the carrier desk's decision, notify).
WORKFLOWS = (ORDER_WORKFLOW, ORDER_WORKFLOW_V2, ONBOARDING_WORKFLOW)
