"""moto's Step Functions parser, imported without AWS Batch's backend until something uses Batch.

moto's ASL parser imports its service integrations at import time, Batch's among them, which takes one
enum (``moto.batch.utils.JobStatus``). Importing it runs ``moto.batch``'s ``__init__``, which imports
Batch's backend, which imports EC2's and ECS's: about 0.5 s of every local cloud's start-up (half of the
parser's import) reading EC2 instance types and availability zones that no workflow here touches.

:func:`defer_batch_backend` puts a stand-in for the package ``moto.batch`` in ``sys.modules``: its
submodules import as usual (``moto.batch.utils`` needs nothing of the backend), and the first reading of
any other attribute (``batch_backends``, as moto's backend index asks for it when a Batch call comes in)
runs the package's own ``__init__`` into the stand-in, so from then on it is the package as moto wrote
it. Nothing changes for a process that already imported ``moto.batch``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

_PACKAGE = "moto.batch"
_lock = threading.RLock()


class _DeferredPackage(types.ModuleType):
    """A package whose ``__init__`` runs on the first reading of an attribute it does not have yet."""

    def __getattr__(self, name: str) -> Any:
        # Dunder lookups (the import system's, copy's, pickle's) must not run the package: they ask
        # whether something is there, and get the ordinary answer.
        if name.startswith("__"):
            raise AttributeError(name)
        with _lock:
            if not self.__dict__.get("_workflowkit_ran"):
                spec = self.__spec__
                loader = spec.loader if spec is not None else None
                if loader is None:
                    raise AttributeError(name)
                # Marked before it runs (an attribute the package's own import reads must not run it
                # again), unmarked if it fails: the next reading tries again and raises the real error,
                # as an ordinary import of a package that failed would.
                self.__dict__["_workflowkit_ran"] = True
                try:
                    loader.exec_module(self)
                except BaseException:
                    self.__dict__["_workflowkit_ran"] = False
                    raise
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def defer_batch_backend() -> None:
    """Put the stand-in for ``moto.batch`` in place, unless moto's Batch is imported already."""
    with _lock:
        if _PACKAGE in sys.modules:
            return
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return  # not the moto this was written for: import it the ordinary way
        package = _DeferredPackage(_PACKAGE)
        package.__spec__ = spec
        package.__loader__ = spec.loader
        package.__file__ = spec.origin
        package.__path__ = list(spec.submodule_search_locations)
        package.__package__ = _PACKAGE
        sys.modules[_PACKAGE] = package
        # What importing a submodule does to its parent: ``import moto.batch`` then ``moto.batch.x``.
        setattr(sys.modules["moto"], "batch", package)  # noqa: B010 - the attribute is the import's
