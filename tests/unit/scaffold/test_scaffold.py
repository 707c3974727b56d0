"""The scaffolder refuses what the app could not take, and never leaves a file half edited."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from workflowkit.scaffold import ScaffoldError, edit, new_step, new_workflow
from workflowkit.scaffold.names import WorkflowNames

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for folder in ("functions", "statemachines", "simulations"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _one_live_order_version(root: Path) -> None:
    """List order v1 alone, as a stage that never ran v2 would: the scaffolder extends a workflow with one
    live version only (the shipped app lists two while v1's instances finish)."""
    registry = root / "functions" / "workflow_registry.py"
    registry.write_text(
        re.sub(r"WORKFLOWS = \(.*\)\n", "WORKFLOWS = (ORDER_WORKFLOW,)\n", registry.read_text())
    )


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a comment after the last element stays on its line; the new element goes on a line of its own
        ("W = (\n    A,  # the shop's\n)\n", "W = (\n    A,  # the shop's\n    NEW,\n)\n"),
        ("W = (A,)\n", "W = (A, NEW,)\n"),
        ("W = (A, B)\n", "W = (A, B, NEW)\n"),
        ("W = ()\n", "W = (NEW,)\n"),
        # ast columns count bytes: a non-ASCII name before the tuple's end does not shift the insertion
        ('W = ("é", A  # ü\n)\n', 'W = ("é", A,  # ü\nNEW,\n)\n'),
    ],
)
def test_appending_to_a_tuple_keeps_the_file_valid(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(text)
    edit.append_to_tuple(path, "W", "NEW")
    assert path.read_text() == expected


def test_a_registry_with_a_comment_after_its_last_workflow_takes_a_new_one(project: Path) -> None:
    registry = project / "functions" / "workflow_registry.py"
    registry.write_text(
        re.sub(
            r"WORKFLOWS = \((.*)\)\n",
            lambda listed: f"WORKFLOWS = (\n    {listed.group(1).rstrip(',')},  # the shop\n)\n",
            registry.read_text(),
        )
    )
    new_workflow(project, "ticket", step="triage")
    assert ",  # the shop\n    TICKET_WORKFLOW,\n" in registry.read_text()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (lambda root: new_step(root, "order", "payment"), "already has a step 'payment'"),
        # its events would be InventoryReleaseCompleted/...Failed: InventoryReleaseFailed is the order's
        (lambda root: new_workflow(root, "inventory", step="release"), "already declared"),
        (lambda root: new_workflow(root, "pydantic", step="core"), "would shadow a module"),
        (lambda root: new_workflow(root, "order"), "already exists"),
        (lambda root: new_workflow(root, "Bad-Name"), "must match"),
        (lambda root: new_step(root, "nosuch", "x"), "not a scaffolded workflow"),
    ],
)
def test_what_the_app_could_not_take_is_refused_and_nothing_is_written(
    project: Path, command: object, message: str
) -> None:
    before = _snapshot(project)
    with pytest.raises(ScaffoldError, match=message):
        command(project)  # type: ignore[operator]
    assert _snapshot(project) == before


def test_a_step_is_not_added_to_a_workflow_with_several_live_versions(project: Path) -> None:
    registry = project / "functions" / "workflow_registry.py"
    two_versions = "WORKFLOWS = (ORDER_WORKFLOW, dataclasses.replace(ORDER_WORKFLOW, version=2))"
    registry.write_text(f"{registry.read_text()}\nimport dataclasses\n\n{two_versions}\n")
    before = _snapshot(project)
    with pytest.raises(ScaffoldError, match=r"has live versions \[1, 2\]"):
        new_step(project, "order", "giftwrap")
    assert _snapshot(project) == before


def test_a_broken_result_is_undone(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a step whose generated code would not import (here: made so by a broken template) is rolled back
    from workflowkit.scaffold import templates  # noqa: PLC0415

    monkeypatch.setattr(templates, "STEP_DECLARATION", "<<constant>> = undefined_name\n\n")
    _one_live_order_version(project)
    before = _snapshot(project)
    with pytest.raises(ScaffoldError, match="does not import"):
        new_step(project, "order", "giftwrap")
    assert _snapshot(project) == before


def test_the_subject_id_on_the_wire_is_pydantics_camel_case() -> None:
    assert WorkflowNames("b2b").subject_id_wire == "b2BId"  # to_camel("b2b_id"), as the contract writes it
    assert WorkflowNames("ticket").subject_id_wire == "ticketId"
