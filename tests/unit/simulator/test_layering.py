"""The simulator knows no workflow, and neither it nor a plug-in imports itself back (no cycles).

Statically, from the source: lazy imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The generic side: the simulator, the CLI that loads plug-ins by name, the catalog from the registry.
GENERIC = [
    *sorted((ROOT / "workflowkit" / "simulator").rglob("*.py")),
    ROOT / "workflowkit" / "cli.py",
    ROOT / "workflowkit" / "catalog_docs.py",
]
DOMAIN_WORDS = re.compile(r"order|payment|inventory|shipping|sku|carrier|refund|stock", re.IGNORECASE)


def test_the_simulator_names_no_workflow_domain() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in GENERIC
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if DOMAIN_WORDS.search(line)
    ]
    assert found == []


def test_the_simulator_and_the_plugins_import_no_cycle() -> None:
    modules = _modules(ROOT / "workflowkit") | _modules(ROOT / "simulations")
    ours = {
        name
        for name in modules
        if name.startswith(("workflowkit.simulator", "workflowkit.cli", "simulations"))
    }
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = [cycle for start in sorted(ours) if (cycle := _cycle_from(start, graph))]
    assert cycles == []


def _modules(package: Path) -> dict[str, Path]:
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            wanted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            wanted = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for dotted in wanted:
            target = dotted
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str]:
    """A path from ``start`` back to itself, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for target in sorted(graph.get(node, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return []
