"""What the scaffold asks of the app it writes into, in a fresh interpreter with the app's code first.

The app's registry is imported as every function imports it at cold start, so what the scaffold checks
(the live versions of a workflow, the detail-types already declared, names that would shadow an
importable module) and what it verifies after writing (the registry still imports) are the app's own
answers, not a reading of its files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workflowkit.scaffold.names import ScaffoldError

_PROBE = """
import importlib.util, json, sys
sys.path.insert(0, ".")
from workflow_core.registry import registry_from_module
registry = registry_from_module("workflow_registry")
names = json.loads(sys.argv[1])
print(json.dumps({
    "versions": {name: [d.version for d in registry.versions(name)] for name in registry.names},
    "events": sorted(registry.catalog),
    "importable": [name for name in names if importlib.util.find_spec(name) is not None],
}))
"""


@dataclass(frozen=True)
class AppFacts:
    versions: dict[str, list[int]]  # workflow name -> live versions
    events: frozenset[str]  # every detail-type declared
    importable: frozenset[str]  # of the names asked about, those an import would find


def inspect(root: Path, names: list[str]) -> AppFacts:
    """The app's registry as its functions see it; refuses (ScaffoldError) when it does not import."""
    answer = _run(root, [_PROBE, json.dumps(names)])
    facts = json.loads(answer)
    return AppFacts(
        versions={name: list(versions) for name, versions in facts["versions"].items()},
        events=frozenset(facts["events"]),
        importable=frozenset(facts["importable"]),
    )


def _run(root: Path, arguments: list[str]) -> str:
    functions = root / "functions"
    result = subprocess.run(
        [sys.executable, "-c", *arguments],
        cwd=functions,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ScaffoldError(f"the app's registry ({functions}/workflow_registry.py) does not import: {last}")
    return result.stdout
