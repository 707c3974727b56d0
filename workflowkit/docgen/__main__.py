"""``python -m workflowkit.docgen [--check] [--cdk-out cdk.out]``."""

from workflowkit.docgen.cli import main

raise SystemExit(main())
