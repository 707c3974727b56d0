"""infra/ is the kit's: it derives every workflow's resources from the registry and names none of them.

A workflow, its events, its services and their tables are added under functions/ alone; a name of the
example workflows written into infra/ would be wiring that a second workflow could not get.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.conftest import ROOT
from workflow_core.catalog import LIFECYCLE_TYPES
from workflow_core.registry import deployed

INFRA = sorted((ROOT / "infra").rglob("*.py"))
# The order example's domain: its workflow, services, sources, tables (as words, any case).
DOMAIN_WORDS = re.compile(
    r"\b(orders?|payments?|inventory|shipping|shipments?|refunds?|commerce|customers?)\b", re.IGNORECASE
)
# Kit vocabulary that happens to contain one: KMS's customer-managed keys, the notices topic's logical ID
# (a construct id that predates its neutral name) and the CDK context key naming its subscribers.
ALLOWED = (
    "CUSTOMER_MANAGED",
    "customer-managed",
    '"CustomerNotifications"',
    "customerSubscriptions",
)


@pytest.mark.parametrize("path", INFRA, ids=lambda p: str(p.relative_to(ROOT)))
def test_infra_names_no_workflow_domain(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for allowed in ALLOWED:
        text = text.replace(allowed, "")
    assert DOMAIN_WORDS.findall(text) == []


@pytest.mark.parametrize("path", INFRA, ids=lambda p: str(p.relative_to(ROOT)))
def test_infra_names_no_deployed_workflow_event_or_package(path: Path) -> None:
    registry = deployed()
    text = path.read_text(encoding="utf-8")
    kit = {etype.name for etype in LIFECYCLE_TYPES}
    workflows = {name for name in (*registry.catalog, *registry.names) if name not in kit}
    assert {name for name in workflows if re.search(rf"\b{re.escape(name)}\b", text)} == set()
    # Nor imports the packages the workflows' contracts live in.
    packages = {
        registry.catalog[name].model.__module__.split(".")[0] for name in registry.catalog if name not in kit
    }
    imported = set(re.findall(r"^\s*(?:from|import)\s+(\w+)", text, re.MULTILINE))
    assert imported & packages == set()
