"""One synthesis of the real stack per session (with cdk-nag attached, as ``cdk synth`` does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra.stacks import StageConfig, WorkflowStack

ROOT = Path(__file__).resolve().parents[2]
STAGE = "test"


@dataclass(frozen=True)
class Synthesized:
    stack: WorkflowStack
    template: Template
    resources: dict[str, dict[str, Any]]
    outdir: Path

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == cfn_type}

    def logical_id(self, construct: cdk.IResource | cdk.CfnResource) -> str:
        node = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
        assert isinstance(node, cdk.CfnResource)
        return str(self.stack.resolve(node.logical_id))


def synthesize(outdir: Path) -> Synthesized:
    """The real stack, as ``cdk synth`` builds it (cdk-nag included), for a fixed test account and region."""
    app = cdk.App(outdir=str(outdir))
    stack = WorkflowStack(
        app,
        f"WorkflowKit-{STAGE}",
        config=StageConfig(
            stage=STAGE,
            functions_dir=ROOT / "functions",
            statemachines_dir=ROOT / "statemachines",
            powertools_version=POWERTOOLS_VERSION,
        ),
        env=cdk.Environment(account="123456789012", region="eu-west-1"),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    assembly = app.synth()  # raises when cdk-nag reports an unacknowledged finding
    template_json = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesized(
        stack=stack,
        template=Template.from_json(template_json),
        resources=template_json["Resources"],
        outdir=outdir,
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
