"""Generated documentation per workflow, from its declaration and the synthesized template.

``docs/workflows/<name>.md`` per deployed workflow: its live versions, each with its steps and a Mermaid
flowchart, and its event catalog (schema versions, producers and consumers as the template wires them);
``docs/workflows/README.md`` lists the workflows; ``docs/events/`` holds the JSON Schema of every event
and schema version. Where the template and a declaration disagree the page says so, and ``--check`` fails.

``python -m workflowkit.docgen [--check]``; in code, :func:`write_docs`; for a CLI sub-command,
:func:`add_arguments` and :func:`run`.
"""

from workflowkit.docgen.agreement import Finding, disagreements
from workflowkit.docgen.cli import add_arguments, main, run
from workflowkit.docgen.generate import (
    CDK_OUT,
    DOCS_DIR,
    FUNCTIONS_DIR,
    DocsRun,
    Rendering,
    render_docs,
    stale_files,
    write_docs,
    write_files,
)
from workflowkit.docgen.loading import load_registry
from workflowkit.docgen.wiring import Endpoint, Route, Wiring

__all__ = [
    "CDK_OUT",
    "DOCS_DIR",
    "FUNCTIONS_DIR",
    "DocsRun",
    "Endpoint",
    "Finding",
    "Rendering",
    "Route",
    "Wiring",
    "add_arguments",
    "disagreements",
    "load_registry",
    "main",
    "render_docs",
    "run",
    "stale_files",
    "write_docs",
    "write_files",
]
