"""Find import cycles among the first-party modules: exit 1 and list each one, exit 0 when there are none.

    .venv/bin/python scripts/check_import_cycles.py [--root DIR]

The first-party modules are the packages ``workflowkit``, ``infra`` and ``simulations`` and ``app`` at the
root, and every package and module directly under ``functions/`` (each is a top-level package of its
own: the Lambdas' code asset is put on ``sys.path`` as it is). Imports are read from the source with
``ast``, wherever they are: at module level, inside ``if TYPE_CHECKING:`` blocks (a cycle the type
checker needs is a cycle in the design too) and inside functions. ``from package import name`` is an
edge to ``package.name`` when that is a module, else to ``package``. Importing a submodule from outside
its packages is also an edge to each of them (their ``__init__`` runs first); from inside, it is not
(every package's ``__init__`` would otherwise be in a cycle with its submodules). A cycle is a strongly
connected component of more than one module.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# (folder under the root, the names in it that are first-party; None: every package and module there).
FIRST_PARTY: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    (".", ("workflowkit", "infra", "simulations", "app.py")),
    ("functions", None),
)
_SKIPPED_DIRS = {"__pycache__", "node_modules", "cdk.out"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported first-party module
    path: Path
    line: int
    where: str  # "", "TYPE_CHECKING" or "function"


def discover(
    root: Path, layout: Iterable[tuple[str, tuple[str, ...] | None]] = FIRST_PARTY
) -> dict[str, Path]:
    """Every first-party module under ``root``: dotted name -> file."""
    modules: dict[str, Path] = {}
    for folder, names in layout:
        base = (root / folder).resolve()
        if not base.is_dir():
            continue
        children = sorted(base.iterdir()) if names is None else [base / name for name in names]
        for child in children:
            if child.is_dir() and (child / "__init__.py").is_file():
                for path in sorted(child.rglob("*.py")):
                    relative = path.relative_to(base)
                    if _SKIPPED_DIRS.intersection(relative.parts):
                        continue
                    parts = relative.with_suffix("").parts
                    modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
            elif child.is_file() and child.suffix == ".py":
                modules[child.stem] = child
    return modules


def imports(modules: dict[str, Path]) -> list[Import]:
    """Every import of a first-party module by a first-party module (self-imports left out)."""
    found: list[Import] = []
    for name, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, where in _import_nodes(tree):
            for target in _targets(node, package, modules):
                for imported in (target, *_entered_packages(name, target, modules)):
                    if imported != name:
                        found.append(Import(name, imported, path, node.lineno, where))
    return found


def _entered_packages(source: str, target: str, modules: dict[str, Path]) -> list[str]:
    """The packages above ``target`` that importing it runs first, seen from outside them.

    ``import a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` before ``c``: when one of those imports
    back into the importer, that is a cycle. From inside a package its ``__init__`` has already run (or is
    running), so a submodule importing its sibling does not enter it again.
    """
    parts = target.split(".")[:-1]
    entered = []
    while parts:
        package = ".".join(parts)
        if package in modules and not (source == package or source.startswith(package + ".")):
            entered.append(package)
        parts.pop()
    return entered


def _import_nodes(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Each import statement with where it is: module level "", "TYPE_CHECKING" or "function"."""

    def walk(node: ast.AST, where: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, where
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, "function")
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), where or "TYPE_CHECKING")
                for statement in child.orelse:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), where)
            else:
                yield from walk(child, where)

    yield from walk(tree, "")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, package: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [t for alias in node.names if (t := _first_party(alias.name, modules))]
    if node.level:  # relative: from . import x, from ..a import b
        anchor = package.split(".") if package else []
        anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
        base = ".".join([*anchor, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}" if base else alias.name
        target = submodule if submodule in modules else _first_party(base, modules)
        if target:
            targets.append(target)
    return targets


def _first_party(dotted: str, modules: dict[str, Path]) -> str | None:
    """The module itself, or the closest first-party package above a name that is not a module."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, in name order."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        # Tarjan's algorithm, iteratively: (node, its successors not yet visited).
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def report(root: Path, components: list[list[str]], edges: list[Import]) -> str:
    lines = []
    for number, component in enumerate(components, start=1):
        members = set(component)
        lines.append(f"import cycle {number} ({len(component)} modules): {', '.join(component)}")
        for edge in sorted(set(edges), key=lambda e: (e.source, e.line, e.target, e.where)):
            if edge.source in members and edge.target in members:
                where = f" (inside {edge.where})" if edge.where else ""
                path = edge.path.relative_to(root) if edge.path.is_relative_to(root) else edge.path
                lines.append(f"  {path}:{edge.line} {edge.source} imports {edge.target}{where}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    root = args.root.resolve()
    modules = discover(root)
    edges = imports(modules)
    components = cycles(edges)
    if components:
        print(report(root, components, edges))
        print(f"{len(components)} import cycle(s) among {len(modules)} first-party modules")
        return 1
    print(f"no import cycles among {len(modules)} first-party modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
