"""The event catalog alone (``docs/events``: an index and one JSON Schema per event and schema version).

:mod:`workflowkit.docgen` generates it, with every workflow's page (``python -m workflowkit.docgen``);
this module keeps ``workflowkit catalog``, which needs no synthesized template, writing the same files.
"""

from __future__ import annotations

from pathlib import Path

from workflowkit.docgen.generate import write_files
from workflowkit.docgen.indexes import EVENTS, event_files
from workflowkit.docgen.loading import load_registry

CATALOG_DIR = Path("docs") / EVENTS


def render(functions_dir: Path) -> dict[str, str]:
    """file name (under the catalog folder) -> content of every catalog document."""
    files = event_files(load_registry(functions_dir))
    return {name.removeprefix(f"{EVENTS}/"): content for name, content in files.items()}


def write(out: Path, functions_dir: Path) -> list[Path]:
    """Bring ``out`` to the catalog: write what differs, remove the schemas no deployed workflow has any
    more. The catalog owns what it writes, its index and the folders of its schemas (``schemas/``): any
    other file under ``out`` is left alone (``--out`` may name a folder that holds more)."""
    files = render(functions_dir)
    folders = sorted({name.partition("/")[0] for name in files if "/" in name})
    return write_files(out, files, owned=folders)
