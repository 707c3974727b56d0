"""What the stack needs from its environment, read from the cloud assembly (``cdk.out``).

The stack is the one synthesized for the stage (``<App>-<stage>``); its manifest entry says which
environment it deploys to and which bootstrap version it requires, its asset manifest which bucket
``cdk deploy`` uploads to, and ``cdk.json`` beside ``cdk.out`` the bootstrap qualifier and toolkit stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflowkit.template import TemplateError

DEFAULT_QUALIFIER = "hnb659fds"
DEFAULT_TOOLKIT_STACK = "CDKToolkit"
QUALIFIER_CONTEXT_KEY = "@aws-cdk/core:bootstrapQualifier"
_STACK_ARTIFACT = "aws:cloudformation:stack"
_ASSET_ARTIFACT = "cdk:asset-manifest"
_UNKNOWN = ("unknown-account", "unknown-region")


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack and what ``cdk deploy`` will ask of the account for it."""

    stack_name: str
    body: Mapping[str, Any]
    account: str | None  # None: environment-agnostic, deploys to the credentials' account
    region: str | None
    bootstrap_parameter: str | None
    required_bootstrap_version: int | None
    qualifier: str
    toolkit_stack_name: str
    asset_buckets: tuple[str, ...] = ()  # with ${AWS::AccountId}/${AWS::Region} placeholders

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources: Mapping[str, Mapping[str, Any]] = self.body.get("Resources", {})
        return resources

    def of_type(self, *types: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(logical id, properties) of every resource of these types."""
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties", {})


def load_stack_template(cdk_out: Path, stage: str) -> StackTemplate:
    """The stack synthesized for ``stage`` in ``cdk_out``; a TemplateError names what is missing."""
    manifest_path = cdk_out / "manifest.json"
    if not manifest_path.exists():
        raise TemplateError(f"{cdk_out} has no manifest.json: run 'npx cdk synth -c stage={stage}' first")
    artifacts: Mapping[str, Any] = json.loads(manifest_path.read_text()).get("artifacts", {})
    stacks = {
        _stack_name(artifact_id, artifact): (artifact_id, artifact)
        for artifact_id, artifact in artifacts.items()
        if artifact.get("type") == _STACK_ARTIFACT
    }
    matching = [name for name in stacks if name.endswith(f"-{stage}")]
    if len(matching) != 1:
        found = ", ".join(sorted(stacks)) or "none"
        raise TemplateError(
            f"{cdk_out} has no single stack for stage {stage!r} (stacks: {found}): "
            f"synthesize it with 'npx cdk synth -c stage={stage}'"
        )
    (stack_name,) = matching
    _, artifact = stacks[stack_name]
    properties: Mapping[str, Any] = artifact.get("properties", {})
    body: Mapping[str, Any] = json.loads((cdk_out / properties["templateFile"]).read_text())
    account, region = _environment(artifact.get("environment", ""))
    context, toolkit_stack = _cdk_json(cdk_out.parent / "cdk.json")
    asset_manifests = [
        artifacts[dependency]
        for dependency in artifact.get("dependencies", [])
        if artifacts.get(dependency, {}).get("type") == _ASSET_ARTIFACT
    ]
    parameter = (
        properties.get("bootstrapStackVersionSsmParameter")
        or _template_bootstrap_parameter(body)
        or next(
            (
                m["properties"]["bootstrapStackVersionSsmParameter"]
                for m in asset_manifests
                if "bootstrapStackVersionSsmParameter" in m.get("properties", {})
            ),
            None,
        )
    )
    qualifier = _qualifier_of(parameter) or str(context.get(QUALIFIER_CONTEXT_KEY) or DEFAULT_QUALIFIER)
    versions = [
        properties.get("requiresBootstrapStackVersion"),
        _template_required_version(body),
        *(m.get("properties", {}).get("requiresBootstrapStackVersion") for m in asset_manifests),
    ]
    required = max((int(v) for v in versions if v is not None), default=None)
    return StackTemplate(
        stack_name=stack_name,
        body=body,
        account=account,
        region=region,
        bootstrap_parameter=parameter or (f"/cdk-bootstrap/{qualifier}/version" if required else None),
        required_bootstrap_version=required,
        qualifier=qualifier,
        toolkit_stack_name=toolkit_stack,
        asset_buckets=tuple(sorted(_asset_buckets(cdk_out, asset_manifests))),
    )


def _stack_name(artifact_id: str, artifact: Mapping[str, Any]) -> str:
    properties = artifact.get("properties", {})
    return str(properties.get("stackName") or artifact.get("displayName") or artifact_id)


def _environment(environment: str) -> tuple[str | None, str | None]:
    """``aws://<account>/<region>``; unknown parts are None (the CLI fills them in at deploy)."""
    match = re.fullmatch(r"aws://([^/]+)/([^/]+)", environment)
    if not match:
        return None, None
    account, region = match.groups()
    return (None if account == _UNKNOWN[0] else account), (None if region == _UNKNOWN[1] else region)


def _cdk_json(path: Path) -> tuple[Mapping[str, Any], str]:
    if not path.exists():
        return {}, DEFAULT_TOOLKIT_STACK
    settings = json.loads(path.read_text())
    return settings.get("context", {}), str(settings.get("toolkitStackName") or DEFAULT_TOOLKIT_STACK)


def _template_bootstrap_parameter(body: Mapping[str, Any]) -> str | None:
    default = body.get("Parameters", {}).get("BootstrapVersion", {}).get("Default")
    return str(default) if default else None


def _qualifier_of(parameter: str | None) -> str | None:
    match = re.fullmatch(r"/cdk-bootstrap/([^/]+)/version", parameter or "")
    return match.group(1) if match else None


def _template_required_version(body: Mapping[str, Any]) -> int | None:
    """The version CDK's ``CheckBootstrapVersion`` rule demands: it rejects every version it lists."""
    rule = body.get("Rules", {}).get("CheckBootstrapVersion", {})
    for assertion in rule.get("Assertions", []):
        rejected = assertion.get("Assert", {}).get("Fn::Not", [{}])[0].get("Fn::Contains", [[]])[0]
        if rejected and all(str(v).isdigit() for v in rejected):
            return max(int(v) for v in rejected) + 1
        match = re.search(r"version (\d+) required", str(assertion.get("AssertDescription", "")))
        if match:
            return int(match.group(1))
    return None


def _asset_buckets(cdk_out: Path, manifests: list[Mapping[str, Any]]) -> set[str]:
    buckets = set()
    for manifest in manifests:
        path = cdk_out / manifest.get("properties", {}).get("file", "")
        if not path.is_file():
            continue
        for asset in json.loads(path.read_text()).get("files", {}).values():
            for destination in asset.get("destinations", {}).values():
                if destination.get("bucketName"):
                    buckets.add(str(destination["bucketName"]))
    return buckets
