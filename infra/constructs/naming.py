"""How the kit names what it creates: construct ids from declaration names, physical names per stage.

Every name a workflow's resource carries contains the workflow's name, so two workflows of one stage
never collide (workflow names are ``[a-z][a-z0-9-]{0,23}``: see ``workflow_core.definition``).
"""

from __future__ import annotations

PREFIX = "workflowkit"


def camel(name: str) -> str:
    """``shop``, ``card-checks``, ``retail.shop`` -> ``Shop``, ``CardChecks``, ``RetailShop``."""
    parts = name.replace("_", "-").replace(".", "-").split("-")
    return "".join(part[:1].upper() + part[1:] for part in parts)


def physical(stage: str, *parts: str) -> str:
    """``workflowkit-<stage>-<part>-...``: a name unique per stage (and per workflow when a part is one)."""
    return "-".join((PREFIX, stage, *parts))
