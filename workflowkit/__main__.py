"""``python -m workflowkit``: the same as the ``workflowkit`` command."""

from workflowkit.cli import main

raise SystemExit(main())
