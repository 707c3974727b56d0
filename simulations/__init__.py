"""Workflow plug-ins of the simulator (``workflowkit simulate --workflow NAME``), one package per workflow.

``simulations/<name>/`` holds a workflow's simulation files together: its scenarios, its driver, its
invariants, and in ``__init__.py`` the plug-in, ``PLUGIN`` (a ``workflowkit.simulator.WorkflowPlugin``
whose ``name`` is ``<name>``). ``--workflow <name>`` finds it there; adding a workflow adds a package
and edits no file. A plug-in kept elsewhere is named by its module: ``--plugin my.module``.
"""

# What ``simulate`` and ``demo`` run when no workflow is named.
DEFAULT_WORKFLOW = "order"
