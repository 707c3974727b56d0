"""scripts/check_import_cycles.py: it fails on a cycle (a type-checking or function-level import included)
and passes on a clean tree."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_import_cycles", ROOT / "scripts" / "check_import_cycles.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


check = _load_script()


def write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def test_a_cycle_closed_by_a_type_checking_import_fails_and_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a service that imports the cloud only for its type, while the cloud imports the service
    root = write(
        tmp_path,
        {
            "workflowkit/__init__.py": "",
            "workflowkit/cloud.py": "from workflowkit.service import Service\n",
            "workflowkit/service.py": """
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from workflowkit.cloud import Cloud
                """,
        },
    )
    # WHEN the check runs over it
    status = check.main(["--root", str(root)])
    # THEN it fails, naming the cycle and the import lines that close it
    out = capsys.readouterr().out
    assert status == 1
    assert "import cycle 1 (2 modules): workflowkit.cloud, workflowkit.service" in out
    assert "workflowkit/cloud.py:1 workflowkit.cloud imports workflowkit.service" in out
    assert "workflowkit.service imports workflowkit.cloud (inside TYPE_CHECKING)" in out


def test_function_level_and_relative_imports_across_first_party_packages_count(tmp_path: Path) -> None:
    # GIVEN infra importing an app package, which imports infra back inside a function, relatively
    # spelled within its own package, and app.py at the root importing infra
    root = write(
        tmp_path,
        {
            "app.py": "import infra.stack\n",
            "infra/__init__.py": "",
            "infra/stack.py": "from workflow_core import deployment\n",
            "functions/workflow_core/__init__.py": "",
            "functions/workflow_core/deployment.py": """
                from . import names

                def synthesize():
                    import infra.stack
                """,
            "functions/workflow_core/names.py": "",
        },
    )
    modules = check.discover(root)
    assert sorted(modules) == [
        "app",
        "infra",
        "infra.stack",
        "workflow_core",
        "workflow_core.deployment",
        "workflow_core.names",
    ]
    edges = check.imports(modules)
    assert ("workflow_core.deployment", "workflow_core.names", "") in {
        (e.source, e.target, e.where) for e in edges
    }
    assert check.cycles(edges) == [["infra.stack", "workflow_core.deployment"]]


def test_a_tree_without_cycles_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN services that get a narrow context, which the cloud builds and passes in
    root = write(
        tmp_path,
        {
            "workflowkit/__init__.py": "from workflowkit.cloud import Cloud\n",
            "workflowkit/context.py": "class Context: ...\n",
            "workflowkit/service.py": "from workflowkit.context import Context\n",
            "workflowkit/cloud.py": """
                from workflowkit.context import Context
                from workflowkit.service import Service
                """,
            "functions/handler.py": "import workflowkit\n",
        },
    )
    assert check.main(["--root", str(root)]) == 0
    assert "no import cycles among 5 first-party modules" in capsys.readouterr().out


def test_a_cycle_through_a_packages_init_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN cloud imports sim.invariants; importing it runs sim/__init__, which imports sim.runner, which
    # imports cloud: Python fails with a partially initialized module, though no two modules import
    # each other directly
    root = write(
        tmp_path,
        {
            "workflowkit/__init__.py": "",
            "workflowkit/cloud.py": "from workflowkit.sim.invariants import check\n",
            "workflowkit/sim/__init__.py": "from workflowkit.sim.runner import run\n",
            "workflowkit/sim/invariants.py": "def check(): ...\n",
            "workflowkit/sim/runner.py": "from workflowkit.cloud import Cloud\n",
        },
    )
    assert check.main(["--root", str(root)]) == 1
    assert "workflowkit.cloud, workflowkit.sim, workflowkit.sim.runner" in capsys.readouterr().out


def test_a_submodule_importing_its_sibling_is_no_cycle_with_its_package(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "workflowkit/__init__.py": "",
            "workflowkit/sim/__init__.py": "from workflowkit.sim.runner import run\n",
            "workflowkit/sim/runner.py": "from workflowkit.sim.plan import plan\n",
            "workflowkit/sim/plan.py": "def plan(): ...\n",
        },
    )
    assert check.main(["--root", str(root)]) == 0
