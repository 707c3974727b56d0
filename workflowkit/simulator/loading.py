"""Finding a workflow's plug-in by name, or by the module that holds it.

The convention: the plug-in of workflow ``NAME`` is the ``PLUGIN`` attribute of the module (or package)
``simulations.NAME``, so ``--workflow NAME`` finds it and adding a workflow adds a package and edits no
file. A plug-in kept elsewhere (a user's own package) is named by its module: ``--plugin my.module``
(``PLUGIN`` again), or ``--plugin my.module:ATTRIBUTE``. With neither, the workflow is the
``simulations`` package's ``DEFAULT_WORKFLOW``, else the only plug-in there is.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from workflowkit.simulator.plugin import WorkflowPlugin

PLUGIN_PACKAGE = "simulations"
PLUGIN_ATTRIBUTE = "PLUGIN"


class PluginError(ValueError):
    """No plug-in where one was named, or something else than a plug-in there."""


def load_plugin(workflow: str | None = None, *, module: str | None = None) -> WorkflowPlugin[Any]:
    """The plug-in of ``workflow`` (``simulations.<workflow>``) or the one in ``module``; not both."""
    if workflow is not None and module is not None:
        raise PluginError("name a workflow or a plug-in module, not both")
    if module is not None:
        path, _, attribute = module.partition(":")
        return _plugin_in(_import(path, f"no plug-in module {path!r}"), attribute or PLUGIN_ATTRIBUTE)
    name = workflow or default_workflow()
    if not name.isidentifier():
        raise PluginError(f"{name!r} is not a workflow name (a Python identifier)")
    found = _import(f"{PLUGIN_PACKAGE}.{name}", f"no workflow plug-in {name!r}{_known()}")
    plugin = _plugin_in(found, PLUGIN_ATTRIBUTE)
    if plugin.name != name:
        raise PluginError(
            f"{found.__name__}.{PLUGIN_ATTRIBUTE} is the plug-in of {plugin.name!r}, not {name!r}"
        )
    return plugin


def available_workflows() -> list[str]:
    """The workflows whose plug-ins live in the ``simulations`` package, by name."""
    try:
        package = importlib.import_module(PLUGIN_PACKAGE)
    except ModuleNotFoundError as error:
        if error.name != PLUGIN_PACKAGE:
            raise
        return []
    return sorted(
        info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")
    )


def default_workflow() -> str:
    """The workflow ``simulate`` runs when none is named."""
    try:
        package = importlib.import_module(PLUGIN_PACKAGE)
    except ModuleNotFoundError as error:
        if error.name != PLUGIN_PACKAGE:
            raise
        raise PluginError(f"no {PLUGIN_PACKAGE!r} package: name a plug-in module with --plugin") from None
    named = getattr(package, "DEFAULT_WORKFLOW", None)
    if isinstance(named, str):
        return named
    found = available_workflows()
    if len(found) != 1:
        raise PluginError(f"name a workflow with --workflow{_known()}")
    return found[0]


def _import(path: str, missing: str) -> ModuleType:
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as error:
        # Only the module asked for is "missing": an import failing inside it is the plug-in's own error.
        if error.name is None or not (path == error.name or path.startswith(f"{error.name}.")):
            raise
        raise PluginError(missing) from None


def _plugin_in(module: ModuleType, attribute: str) -> WorkflowPlugin[Any]:
    plugin = getattr(module, attribute, None)
    if not isinstance(plugin, WorkflowPlugin):
        raise PluginError(f"{module.__name__}.{attribute} is not a WorkflowPlugin")
    return plugin


def _known() -> str:
    found = available_workflows()
    return f"; known: {', '.join(found)}" if found else ""
