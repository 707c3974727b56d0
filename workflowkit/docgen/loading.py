"""The deployed workflows, read as the stack reads them: the functions folder's ``workflow_registry``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflow_core.registry import Registry

REGISTRY_FILE = "workflow_registry.py"  # workflow_core.registry.REGISTRY_MODULE, as a file


def load_registry(functions_dir: Path) -> Registry:
    """``functions_dir``'s registry of deployed workflows.

    The folder goes first on the import path, so its workflows and services are imported from it (the kit's
    runtime ``workflow_core``, once imported, stays as loaded); the registry module is read from the
    folder's own file even when another folder's was imported before, as ``app.py`` reads it.
    """
    folder = functions_dir.resolve()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
    path = folder / REGISTRY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no registry of deployed workflows (WORKFLOWS = (...))")
    spec = importlib.util.spec_from_file_location(f"workflow_registry_of_{folder.name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be imported")
    module: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # The app's own runtime, found at run time: the functions folder is not a package of this one.
    from workflow_core.registry import Registry  # noqa: PLC0415

    workflows = getattr(module, "WORKFLOWS", None)
    if not isinstance(workflows, tuple | list):
        raise TypeError(f"{path} must define WORKFLOWS, a tuple of WorkflowDefinition")
    return Registry(workflows)
