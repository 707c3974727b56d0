"""The declarations of the app a local cloud runs: its registry, every live version of every workflow.

Read from the app's own registry module while the cloud runs: the cloud puts the app's code first on
sys.path and sets aside modules of the same names imported from elsewhere, so two clouds of different
apps in one process each read their own. ``workflow_core.registry.deployed()`` is not used: it caches
the first registry a process reads, whichever app that was.
"""

from __future__ import annotations

import os
from typing import Any

from workflowkit.cloud import LocalCloud, LocalCloudError


def app_registry(cloud: LocalCloud) -> Any:
    """The app's ``workflow_core.registry.Registry``, as its functions read it at cold start.

    The registry module is theirs: ``WORKFLOW_REGISTRY`` in a function's environment (else the
    process's), else ``workflow_registry`` at the top of the app's code. Call it while the cloud runs.
    """
    if cloud.app is None:
        raise LocalCloudError("the app's registry is read while its LocalCloud runs (inside its with-block)")
    # Imported from the app's own code asset, which the local cloud put first on sys.path.
    from workflow_core.registry import (  # noqa: PLC0415
        REGISTRY_ENV,
        REGISTRY_MODULE,
        registry_from_module,
    )

    named = sorted(
        {f.environment[REGISTRY_ENV] for f in cloud.app.functions if f.environment.get(REGISTRY_ENV)}
    )
    if len(named) > 1:
        raise LocalCloudError(f"the app's functions read different registries: {named}")
    module = named[0] if named else os.environ.get(REGISTRY_ENV) or REGISTRY_MODULE
    return registry_from_module(module)
