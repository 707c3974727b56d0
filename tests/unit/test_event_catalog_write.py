"""`workflowkit catalog` rewrites docs/events from the deployed workflows, and drops what they lost."""

from __future__ import annotations

from pathlib import Path

from workflowkit.catalog_docs import render, write

ROOT = Path(__file__).resolve().parents[2]


def test_writing_the_catalog_removes_schemas_no_longer_deployed(tmp_path: Path) -> None:
    # GIVEN a catalog folder with the schema of an event version no deployed workflow has any more
    stale = tmp_path / "schemas" / "RetiredEvent.v1.json"
    stale.parent.mkdir()
    stale.write_text("{}")
    # WHEN the catalog is written
    write(tmp_path, ROOT / "functions")
    # THEN the folder holds exactly what the code renders
    expected = render(ROOT / "functions")
    on_disk = {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == expected
    assert not stale.exists()
