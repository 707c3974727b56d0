"""``python -m workflowkit.docgen [--check]``, and the same options for ``workflowkit docs``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from workflowkit.docgen.generate import CDK_OUT, DOCS_DIR, FUNCTIONS_DIR, write_docs
from workflowkit.template import TemplateError


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The docs command's options, for a sub-command of another parser too."""
    parser.add_argument("--check", action="store_true", help="write nothing; fail when a page is stale")
    parser.add_argument("--out", type=Path, default=DOCS_DIR, help="the docs folder (default docs)")
    parser.add_argument(
        "--functions", type=Path, default=FUNCTIONS_DIR, help="the app's functions folder (default functions)"
    )
    parser.add_argument(
        "--cdk-out", type=Path, default=CDK_OUT, help="the synthesized app (default cdk.out: make synth)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write (or check) the docs: 0 when done (warnings printed), 1 when a check fails, 2 on an error."""
    try:
        result = write_docs(args.out, args.functions, args.cdk_out, check=args.check)
    except (TemplateError, OSError, ImportError, TypeError, ValueError) as error:
        print(f"docs: {error}", file=sys.stderr)
        return 2
    regenerate = f"workflowkit docs --cdk-out {args.cdk_out} (or python -m workflowkit.docgen)"
    print(result.report(regenerate), file=sys.stdout if result.ok else sys.stderr)
    return 1 if args.check and not result.ok else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workflowkit.docgen",
        description="Generate each deployed workflow's docs (steps, flowchart, event catalog) from its "
        "declaration and the synthesized template.",
    )
    return run(add_arguments(parser).parse_args(argv))
