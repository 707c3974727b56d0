"""Every generated page, and writing or checking them: a page is stale when its bytes differ.

The generator owns ``docs/events/`` and ``docs/workflows/`` entirely: a file there that it no longer
generates (a schema version dropped, a workflow retired) is stale too, and removed when writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workflowkit.docgen.agreement import Finding, disagreements
from workflowkit.docgen.indexes import EVENTS, WORKFLOWS, event_files, workflow_index
from workflowkit.docgen.loading import load_registry
from workflowkit.docgen.wiring import Wiring
from workflowkit.docgen.workflow_page import workflow_page

if TYPE_CHECKING:
    from workflow_core.registry import Registry

DOCS_DIR = Path("docs")
FUNCTIONS_DIR = Path("functions")
CDK_OUT = Path("cdk.out")
OWNED = (EVENTS, WORKFLOWS)  # the folders under the docs folder that hold generated pages only


@dataclass(frozen=True)
class Rendering:
    files: dict[str, str]  # path under the docs folder (POSIX) -> content
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class DocsRun:
    """What :func:`write_docs` did: the files it wrote or removed (or, checking, found stale)."""

    checked: bool
    changed: tuple[Path, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Checking: nothing stale and no disagreement. Writing: no disagreement."""
        return not self.findings and not (self.checked and self.changed)

    def report(self, regenerate: str = "workflowkit docs") -> str:
        lines = [f"warning: the template and the declaration disagree: {f}" for f in self.findings]
        if self.checked and self.changed:
            lines.append(f"{len(self.changed)} generated doc(s) are stale:")
            lines += [f"  {path}" for path in self.changed]
            lines.append(f"regenerate them with: {regenerate}")
        elif self.checked:
            lines.append("generated docs are up to date")
        else:
            lines.append(
                f"wrote or removed {len(self.changed)} file(s)" if self.changed else "docs unchanged"
            )
            lines += [f"  {path}" for path in self.changed]
        return "\n".join(lines)


def render_docs(registry: Registry, wiring: Wiring) -> Rendering:
    """Every page, from the registry's declarations and the template's wiring."""
    files = event_files(registry)
    files[f"{WORKFLOWS}/README.md"] = workflow_index(registry)
    findings: list[Finding] = []
    for name in sorted(registry.names):
        versions = registry.versions(name)
        found = [finding for definition in versions for finding in disagreements(definition, wiring)]
        files[f"{WORKFLOWS}/{name}.md"] = workflow_page(versions, wiring, found)
        findings += found
    return Rendering(dict(sorted(files.items())), tuple(findings))


def stale_files(out_dir: Path, files: dict[str, str], *, owned: Sequence[str] = OWNED) -> list[Path]:
    """Pages whose bytes differ from ``files`` (or are missing), and files in the ``owned`` folders (under
    ``out_dir``) that are no longer generated."""
    stale = [
        out_dir / name
        for name, content in files.items()
        if not (out_dir / name).is_file() or (out_dir / name).read_bytes() != content.encode()
    ]
    for folder in owned:
        stale += [
            path
            for path in (out_dir / folder).rglob("*")
            if path.is_file() and path.relative_to(out_dir).as_posix() not in files
        ]
    return sorted(stale)


def write_files(out_dir: Path, files: dict[str, str], *, owned: Sequence[str] = OWNED) -> list[Path]:
    """Bring ``out_dir`` to ``files``: write what differs, remove what is no longer generated."""
    stale = stale_files(out_dir, files, owned=owned)
    for path in stale:
        content = files.get(path.relative_to(out_dir).as_posix())
        if content is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode())
    return stale


def write_docs(
    out_dir: Path = DOCS_DIR,
    functions_dir: Path = FUNCTIONS_DIR,
    cdk_out: Path = CDK_OUT,
    *,
    check: bool = False,
) -> DocsRun:
    """Generate the docs of every deployed workflow into ``out_dir`` (``check``: compare, write nothing).

    Raises :class:`workflowkit.template.TemplateError` when ``cdk_out`` holds no synthesized app.
    """
    rendering = render_docs(load_registry(functions_dir), Wiring.from_cdk_out(cdk_out))
    changed: Sequence[Path] = (
        stale_files(out_dir, rendering.files) if check else write_files(out_dir, rendering.files)
    )
    return DocsRun(checked=check, changed=tuple(changed), findings=rendering.findings)
