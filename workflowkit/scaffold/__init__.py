"""``workflowkit new``: the files a user fills in for a new workflow or a new step, ready to run as written.

A new workflow is a package under ``functions/`` (declaration + event contracts), one line in
``functions/workflow_registry.py`` and a first step. A new step is its event contracts and declaration
entry, appended to the workflow's own files, plus its service folder (choreographed: a queue-fed
handler; orchestrated: ASL for the step and its undo under ``statemachines/``). What is generated
synthesizes, passes cdk-nag and runs end to end on the local cloud before anyone edits it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from workflowkit.scaffold import app, edit
from workflowkit.scaffold import templates as t
from workflowkit.scaffold.names import ScaffoldError, StepNames, WorkflowNames

Pattern = Literal["choreographed", "orchestrated"]
REGISTRY = Path("functions/workflow_registry.py")

__all__ = ["Pattern", "ScaffoldError", "new_step", "new_workflow"]


def new_workflow(
    root: Path, name: str, *, step: str = "process", pattern: Pattern = "choreographed"
) -> list[Path]:
    """Write workflow ``name`` with a first step, and list it in the registry; returns the paths touched."""
    workflow = WorkflowNames(name)
    package = root / "functions" / workflow.package
    simulation = root / "simulations" / workflow.py
    registry = root / REGISTRY
    for path in (package, simulation):
        if path.exists():
            raise ScaffoldError(f"{path} already exists")
    if not registry.is_file():
        raise ScaffoldError(f"{registry} is missing: run this in the project's root")
    facts = app.inspect(root, [workflow.package, workflow.py])
    if workflow.name in facts.versions:
        raise ScaffoldError(f"a workflow {workflow.name!r} is already deployed")
    _refuse_shadowing(facts, [workflow.package])
    if workflow.start_event in facts.events:
        raise ScaffoldError(f"{workflow.start_event} is already declared by another workflow")
    values = t.workflow_values(workflow)
    files = {
        package / "__init__.py": t.render(t.WORKFLOW_INIT, **values),
        package / "events.py": t.render(t.WORKFLOW_EVENTS, **values),
        package / "declaration.py": t.render(t.WORKFLOW_DECLARATION, **values),
        simulation / "__init__.py": t.render(t.SIMULATION, **values),
    }
    with _all_or_nothing([registry], [package, simulation]):
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        # The first step before the registry line: a workflow without steps is no declaration.
        touched = [*files, *new_step(root, name, step, pattern=pattern)]
        edit.add_import(registry, f"from {workflow.package} import {workflow.constant}")
        edit.append_to_tuple(registry, "WORKFLOWS", workflow.constant)
        touched.append(registry)
        app.inspect(root, [])  # the app imports with the workflow listed, or everything is undone
    touched = list(dict.fromkeys(touched))
    tidy(root, touched)
    return touched


def new_step(root: Path, workflow_name: str, name: str, *, pattern: Pattern = "choreographed") -> list[Path]:
    """Append step ``name`` to workflow ``workflow_name``; returns the paths written or changed."""
    if pattern not in ("choreographed", "orchestrated"):
        raise ScaffoldError(f"pattern must be choreographed or orchestrated, not {pattern!r}")
    workflow = WorkflowNames(workflow_name)
    step = StepNames(workflow, name)
    package = root / "functions" / workflow.package
    events, declaration = package / "events.py", package / "declaration.py"
    if not declaration.is_file() or not events.is_file():
        raise ScaffoldError(f"{package} is not a scaffolded workflow (no events.py/declaration.py)")
    service = root / "functions" / step.service
    machines = root / "statemachines"
    orchestrated = pattern == "orchestrated"
    asl = [machines / f"{step.machine}.asl.json", machines / f"{step.machine}-undo.asl.json"]
    for path in [service, *(asl if orchestrated else [])]:
        if path.exists():
            raise ScaffoldError(f"{path} already exists")
    started_by = edit.last_step_completion(declaration, workflow.constant) or "WorkflowStarted"
    earlier = edit.step_names(declaration, workflow.constant)
    _check_step_fits(root, workflow, step, earlier)
    simulation = root / "simulations" / workflow.py / "__init__.py"
    values = t.step_values(step, started_by=started_by, orchestrated=orchestrated)
    files = {
        service / "__init__.py": t.render(t.SERVICE_INIT, **values),
        service / "deployment.py": t.render(
            t.ORCHESTRATED_DEPLOYMENT if orchestrated else t.CHOREOGRAPHED_DEPLOYMENT, **values
        ),
    }
    if orchestrated:
        files[asl[0]] = t.step_machine(step)
        files[asl[1]] = t.undo_machine(step)
    else:
        files[service / "service.py"] = t.render(t.CHOREOGRAPHED_SERVICE, **values)
        files[service / "handler.py"] = t.render(t.CHOREOGRAPHED_HANDLER, **values)
    with _all_or_nothing([events, declaration, simulation], [service, *asl]):
        edit.insert_before(events, "EVENT_TYPES", t.render(t.STEP_MODELS, **values).lstrip("\n") + "\n\n")
        edit.append_to_tuple(events, "EVENT_TYPES", t.render(t.STEP_EVENT_TYPES, **values))
        edit.insert_before(declaration, workflow.constant, t.render(t.STEP_DECLARATION, **values))
        edit.append_to_tuple(declaration, workflow.constant, step.constant, keyword="steps")
        scenario_added = simulation.is_file() and edit.has_assignment(simulation, "SCENARIO_LIST")
        if scenario_added:
            # A plug-in the scaffold wrote gets the step's failure scenario (a hand-written one is the
            # user's). Failing here undoes every earlier step, latest first; failing first, nothing.
            undone = tuple(reversed(earlier))
            scenario = t.render(
                t.SIMULATION_SCENARIO,
                step=step.name,
                status="COMPENSATED" if undone else "FAILED",
                compensations=repr(undone),
            )
            edit.append_to_tuple(simulation, "SCENARIO_LIST", scenario + "\n")
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        app.inspect(root, [])  # the app still imports with the step in it, or everything is undone
    touched = [events, declaration, *files, *([simulation] if scenario_added else [])]
    tidy(root, touched)
    return touched


def tidy(root: Path, paths: list[Path]) -> None:
    """Sort imports and format the Python files written, with the project's own ruff settings.

    The generated code is correct without it; this makes it look like the project's (first-party
    packages depend on the project's configuration). Skipped where ruff is not installed.
    """
    python = [str(p) for p in paths if p.suffix == ".py"]
    if not python or importlib.util.find_spec("ruff") is None:
        return
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--quiet", "--fix", "--select", "I", *python], cwd=root, check=False)
    subprocess.run([*ruff, "format", "--quiet", *python], cwd=root, check=False)


@contextmanager
def _all_or_nothing(edited: list[Path], created: list[Path]) -> Iterator[None]:
    """Restore ``edited`` and remove ``created`` when the block fails: a scaffold half written is worse."""
    saved = {path: path.read_text() for path in edited if path.is_file()}
    existed = {path for path in created if path.exists()}
    try:
        yield
    except BaseException:
        for path, text in saved.items():
            path.write_text(text)
        for path in created:
            if path in existed or not path.exists():
                continue
            if path.is_dir():
                for child in sorted(path.rglob("*"), reverse=True):
                    child.unlink() if child.is_file() else child.rmdir()
                path.rmdir()
            else:
                path.unlink()
        raise


def _check_step_fits(root: Path, workflow: WorkflowNames, step: StepNames, earlier: list[str]) -> None:
    """Refuse a step the app could not take: a name, events or a folder that already exist, or a
    workflow with several live versions."""
    if step.name in earlier:
        raise ScaffoldError(f"workflow {workflow.name!r} already has a step {step.name!r}")
    facts = app.inspect(root, [step.service])
    live = facts.versions.get(workflow.name, [])
    if len(live) > 1:
        raise ScaffoldError(
            f"{workflow.name!r} has live versions {live}: declare the new version by hand (a step added here "
            "would change the declaration running instances use; docs/decisions/0024)"
        )
    _refuse_shadowing(facts, [step.service])
    taken = sorted(
        {step.completed, step.failed, step.undo_requested, step.undone, step.undo_failed} & facts.events
    )
    if taken:
        raise ScaffoldError(f"{taken} are already declared: choose another step name")


def _refuse_shadowing(facts: app.AppFacts, names: list[str]) -> None:
    """A folder under functions/ named like an importable module would hide it from every function."""
    shadowed = sorted(set(names) & facts.importable)
    if shadowed:
        raise ScaffoldError(
            f"{shadowed} would shadow a module the app can already import: choose other names"
        )
