"""SSM parameters the template resolves at deploy time, e.g. the Powertools layer for its runtime.

CloudFormation resolves ``{{resolve:ssm:NAME}}`` / ``{{resolve:ssm:NAME:VERSION}}`` dynamic references
and ``AWS::SSM::Parameter::Value<...>`` parameters in the stack's region, and fails the whole deploy
when one is missing. AWS publishes the Powertools layer ARNs as public parameters per architecture,
runtime and version (``/aws/service/powertools/python/<arch>/<runtime>/<version>``), and not every
combination exists in every region.
"""

from __future__ import annotations

import json
import re

import boto3

from workflowkit.preflight.assembly import StackTemplate
from workflowkit.preflight.base import Check, CheckResult

_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(?:ssm|ssm-secure):([^}]+)\}\}")
_POWERTOOLS = re.compile(r"/aws/service/powertools/(?P<language>[^/]+)/(?P<arch>[^/]+)/(?P<runtime>[^/]+)/")
_BATCH = 10  # GetParameters takes at most 10 names


def referenced_parameters(template: StackTemplate) -> list[str]:
    """Every SSM parameter the template resolves, except the bootstrap version (checked on its own)."""
    names = set(_DYNAMIC_REFERENCE.findall(json.dumps(template.body)))
    for parameter in template.body.get("Parameters", {}).values():
        if str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value<") and parameter.get(
            "Default"
        ):
            names.add(str(parameter["Default"]))
    names.discard(template.bootstrap_parameter or "")
    return sorted(names)


class SsmParametersCheck(Check):
    name = "ssm-parameters"

    def run(self, session: boto3.Session, template: StackTemplate) -> CheckResult:
        names = referenced_parameters(template)
        if not names:
            return self.ok("the template resolves no SSM parameter")
        ssm, region = session.client("ssm"), session.region_name
        found: dict[str, str] = {}
        missing: list[str] = []
        for start in range(0, len(names), _BATCH):
            answer = ssm.get_parameters(Names=names[start : start + _BATCH])
            missing.extend(answer.get("InvalidParameters", []))
            found.update({p["Name"]: str(p["Value"]) for p in answer.get("Parameters", [])})
        if missing:
            return self.failed(
                f"{len(missing)} of {len(names)} not found in {region}: {', '.join(sorted(missing))}",
                "\n".join(_fix_for(name) for name in sorted(missing)),
            )
        shown = "; ".join(f"{name} -> {found.get(name, 'found')}" for name in names)
        return self.ok(f"{len(names)} found in {region}: {shown}")


def _fix_for(name: str) -> str:
    powertools = _POWERTOOLS.match(name)
    if powertools:
        path = name.rsplit("/", 1)[0]
        return (
            f"{name}: no Powertools layer is published for that version, runtime and architecture in this "
            f"region; list what is (aws ssm get-parameters-by-path --path {path}) and pin a published "
            "version, or pass -c powertoolsLayerArn=<layer version ARN>"
        )
    if name.startswith("/aws/"):
        return f"{name}: an AWS public parameter this region does not have; use one it has"
    return f"{name}: create it in this region (aws ssm put-parameter), or change the reference"
