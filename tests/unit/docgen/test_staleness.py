"""``--check`` compares bytes: a stale, missing or no-longer-generated page fails it, naming the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.docgen import demo
from workflowkit.docgen import main, render_docs, stale_files, write_docs, write_files


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A functions folder deploying the demo workflow, its synthesized template, and a docs folder."""
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "workflow_registry.py").write_text(
        "from tests.unit.docgen.demo import DEMO\n\nWORKFLOWS = (DEMO,)\n"
    )
    monkeypatch.syspath_prepend(str(functions))
    cdk_out = demo.write_cdk_out(tmp_path / "cdk.out", demo.template())
    return {"functions": functions, "cdk_out": cdk_out, "docs": tmp_path / "docs"}


def args(app: dict[str, Path], *extra: str) -> list[str]:
    folders = {"--out": app["docs"], "--functions": app["functions"], "--cdk-out": app["cdk_out"]}
    return [*(token for option, path in folders.items() for token in (option, str(path))), *extra]


def test_freshly_written_pages_pass_the_check_and_a_changed_one_fails_it(tmp_path: Path) -> None:
    files = render_docs(demo.registry(), demo.wiring()).files
    written = write_files(tmp_path, files)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(files)
    assert "workflows/demo.md" in files
    assert "events/schemas/ChargeDone.v2.json" in files
    assert stale_files(tmp_path, files) == []
    # WHEN a page differs by one byte, or a page no longer generated is left behind
    page = tmp_path / "workflows/demo.md"
    page.write_text(page.read_text() + " ")
    leftover = tmp_path / "events/schemas/Retired.v1.json"
    leftover.write_text("{}\n")
    # THEN both are stale, and writing again brings the folder back to what is generated
    assert stale_files(tmp_path, files) == [leftover, page]
    assert write_files(tmp_path, files) == [leftover, page]
    assert not leftover.exists()
    assert stale_files(tmp_path, files) == []


def test_the_check_fails_naming_the_stale_files_and_how_to_regenerate_then_passes_once_written(
    app: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN nothing generated yet: the check fails, naming each missing page and the command
    assert main(args(app, "--check")) == 1
    err = capsys.readouterr().err
    assert f"{app['docs'] / 'workflows/demo.md'}" in err
    assert f"regenerate them with: workflowkit docs --cdk-out {app['cdk_out']}" in err
    assert not app["docs"].exists()  # checking writes nothing
    # WHEN the docs are written THEN the check passes
    assert main(args(app)) == 0
    assert (app["docs"] / "workflows/demo.md").is_file()
    assert main(args(app, "--check")) == 0
    assert "generated docs are up to date" in capsys.readouterr().out


def test_a_template_that_changed_makes_the_docs_stale(app: dict[str, Path]) -> None:
    assert write_docs(app["docs"], app["functions"], app["cdk_out"]).ok
    body: dict[str, Any] = demo.changed_template()
    body["Resources"]["RefundStateMachine"]["Properties"]["StateMachineName"] = "demo-prod-demo-refund"
    demo.write_cdk_out(app["cdk_out"], body)
    run = write_docs(app["docs"], app["functions"], app["cdk_out"], check=True)
    assert run.changed == (app["docs"] / "workflows/demo.md",)
    assert not run.ok


def test_a_disagreement_fails_the_check_even_when_the_pages_are_fresh(
    app: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    body = demo.changed_template()
    del body["Resources"]["RefundStartRule"]
    demo.write_cdk_out(app["cdk_out"], body)
    # writing succeeds (the page carries the warning) and says why the check will fail
    assert main(args(app)) == 0
    assert (
        "warning: the template and the declaration disagree: demo v1: `RefundAsked`"
        in capsys.readouterr().err
    )
    assert main(args(app, "--check")) == 1
    assert "must reach state machine `refund`" in capsys.readouterr().err


def test_an_app_that_was_not_synthesized_is_an_error_saying_so(
    app: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args(app)[:4], "--cdk-out", str(tmp_path / "missing")]) == 2
    assert "run 'make synth'" in capsys.readouterr().err
