"""Run checkov over synthesized CloudFormation templates: quiet on success, one line per finding.

checkov runs with the repository's config file (``.checkov.yaml``), the one place where checks are
skipped. On top of checkov's own verdict this fails when:

- a template suppresses a check inline (a resource's ``Metadata: {checkov: {skip: ...}}``), which
  would put a skip outside that one place;
- a ``skip-check`` entry of the config file has no reason (no comment right above it);
- checkov could not parse a template, or scanned none.

Exit status: 0 clean, 1 findings or a rule above broken, 2 checkov could not run.

    .venv/bin/python scripts/run_checkov.py --checkov .venv-lint/bin/checkov \\
        --config-file .checkov.yaml cdk.out/*.template.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_SKIP_ENTRY = re.compile(r"""^\s*-\s*["']?(?P<check>[A-Za-z0-9_]+)["']?\s*(?:#\s*(?P<reason>\S.*))?$""")


def unexplained_skips(config_text: str) -> list[str]:
    """The ``skip-check`` entries of a checkov YAML config without a comment right above them.

    A reason is the run of comment lines directly above the entry (no blank line in between) or a
    comment after it on its line; a previous entry does not count, so every check has its own
    reason. Checks listed on the ``skip-check:`` line itself (``skip-check: A,B``) have no room for one.
    """
    missing: list[str] = []
    in_skips = False
    comment_run = 0
    for line in config_text.splitlines():
        stripped = line.strip()
        if not line.startswith((" ", "\t", "-")) and stripped and not stripped.startswith("#"):
            in_skips = stripped.startswith("skip-check:")
            inline = stripped.removeprefix("skip-check:").split("#", 1)[0].strip()
            if in_skips and inline:
                missing += [check.strip() for check in inline.strip("[]").split(",") if check.strip()]
            comment_run = 0
            continue
        if not in_skips:
            continue
        if stripped.startswith("#"):
            comment_run += 1
            continue
        entry = _SKIP_ENTRY.match(line)
        if entry and not comment_run and not entry.group("reason"):
            missing.append(entry.group("check"))
        comment_run = 0
    return missing


def _reports(output: str) -> list[dict[str, Any]]:
    parsed = json.loads(output)
    reports = parsed if isinstance(parsed, list) else [parsed]
    return [r for r in reports if isinstance(r, dict) and "results" in r]


def _where(check: dict[str, Any]) -> str:
    path = str(check.get("file_path", "")).lstrip("/")
    lines = check.get("file_line_range") or []
    span = f":{lines[0]}-{lines[1]}" if len(lines) == 2 else ""
    return f"{Path(path).name}{span}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("templates", nargs="+", type=Path, help="CloudFormation templates to scan")
    parser.add_argument("--checkov", default="checkov", help="the checkov executable")
    parser.add_argument("--config-file", type=Path, default=Path(".checkov.yaml"))
    args = parser.parse_args(argv)

    problems: list[str] = []
    try:
        config_text = args.config_file.read_text()
    except OSError as exc:
        print(f"checkov: cannot read {args.config_file}: {exc}", file=sys.stderr)
        return 2
    problems += [
        f"{args.config_file}: skip-check {check} has no reason (a comment right above it)"
        for check in unexplained_skips(config_text)
    ]

    command = [args.checkov, "--config-file", str(args.config_file), "--output", "json"]
    for template in args.templates:
        command += ["--file", str(template)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(
            f"checkov: cannot run {args.checkov}: {exc} (make lint installs it in .venv-lint)",
            file=sys.stderr,
        )
        return 2
    try:
        reports = _reports(completed.stdout)
    except ValueError:
        reports = []
    if not reports:
        print(f"checkov: no report (exit status {completed.returncode}):", file=sys.stderr)
        print((completed.stderr or completed.stdout).strip()[-4000:], file=sys.stderr)
        return 2

    passed = failed = 0
    resources = 0
    for report in reports:
        summary = report.get("summary", {})
        results = report["results"]
        passed += int(summary.get("passed", 0))
        resources += int(summary.get("resource_count", 0))
        if int(summary.get("parsing_errors", 0)):
            problems.append(f"{report.get('check_type')}: could not parse: {results.get('parsing_errors')}")
        for check in results.get("failed_checks", []):
            failed += 1
            problems.append(
                f"{check['check_id']} {check['resource']} ({_where(check)}): {check.get('check_name', '')}"
            )
        skipped = results.get("skipped_checks", [])
        for check in skipped:
            problems.append(
                f"{check['check_id']} {check['resource']} ({_where(check)}): suppressed inline in the "
                f"template; skips belong in {args.config_file} with their reason"
            )
        if int(summary.get("skipped", 0)) > len(skipped):
            problems.append(f"{summary['skipped']} checks suppressed inline in the templates")
    if resources == 0:
        problems.append("no resource scanned: are these the synthesized templates?")

    if problems:
        for problem in problems:
            print(f"checkov: {problem}", file=sys.stderr)
        print(
            f"checkov: FAILED ({failed} findings, {len(problems) - failed} other problems; "
            f"{passed} checks passed). A real defect is fixed in the template, a check wrong for the "
            f"design is skipped in {args.config_file} with its reason.",
            file=sys.stderr,
        )
        return 1
    print(
        f"checkov: {passed} checks passed on {resources} resources "
        f"({len(args.templates)} template(s); skips and reasons: {args.config_file})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
