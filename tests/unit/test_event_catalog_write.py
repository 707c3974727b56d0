"""`workflowkit catalog` rewrites docs/events from the deployed workflows, drops what they lost, and
leaves alone what it does not write."""

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


def test_writing_the_catalog_into_a_folder_that_holds_more_leaves_the_rest_alone(tmp_path: Path) -> None:
    # GIVEN `--out` names a folder holding other files than the catalog's (a docs folder, a project root)
    others = {
        "architecture.md": "# mine\n",
        "workflows/order.md": "generated elsewhere\n",
        "notes/schemas/draft.json": "{}",
        "schemas.txt": "not the folder\n",
    }
    for name, content in others.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    stale = tmp_path / "schemas" / "RetiredEvent.v1.json"
    stale.parent.mkdir()
    stale.write_text("{}")
    # WHEN the catalog is written there
    written = write(tmp_path, ROOT / "functions")
    # THEN every other file survives untouched, and only the catalog's own stale schema is removed
    on_disk = {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == {**render(ROOT / "functions"), **others}
    assert stale in written
    assert not any(tmp_path / name in written for name in others)
