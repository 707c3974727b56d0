"""One synthesis of the real stack per session (with cdk-nag attached, as ``cdk synth`` does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

from app import stage_config
from infra.compliance import Compliance, nag_packs
from infra.stacks import StageConfig, WorkflowStack
from workflow_core.registry import Registry

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


def synthesize(
    outdir: Path, config: StageConfig | None = None, registry: Registry | None = None
) -> Synthesized:
    """The real stack, as ``cdk synth`` builds it (cdk-nag included: the packs of the stage's compliance),
    for a fixed test account and region.

    Without ``config``: the ``test`` stage, which keeps its data like every stage but ``dev``. Without
    ``registry``: the app's deployed workflows.
    """
    config = config or StageConfig(
        stage=STAGE,
        functions_dir=ROOT / "functions",
        statemachines_dir=ROOT / "statemachines",
        powertools_version=POWERTOOLS_VERSION,
    )
    app = cdk.App(outdir=str(outdir))
    stack = WorkflowStack(
        app,
        f"WorkflowKit-{config.stage}",
        config=config,
        registry=registry,
        env=cdk.Environment(account="123456789012", region="eu-west-1"),
    )
    cdk.Validations.of(app).add_plugins(*nag_packs(app, config.compliance))
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


def strict_config() -> StageConfig:
    """The ``test`` stage under ``-c compliance=strict``, with the stated reserved figures."""
    return StageConfig(
        stage=STAGE,
        functions_dir=ROOT / "functions",
        statemachines_dir=ROOT / "statemachines",
        powertools_version=POWERTOOLS_VERSION,
        compliance=Compliance.STRICT,
    )


@pytest.fixture(scope="session")
def strict_synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The ``test`` stage under ``-c compliance=strict``: NIST 800-53 R5, PCI DSS and HIPAA packs too."""
    return synthesize(tmp_path_factory.mktemp("cdk.out.strict"), strict_config())


# What ``cdk synth -c stage=dev -c alarmSubscriptions=...`` passes: read by app.py as it reads any context.
DEV_CONTEXT = {
    "stage": "dev",
    "alarmSubscriptions": "email:ops@example.com,https://hooks.example.com/alarms",
    "escalationSubscriptions": "email:oncall@example.com",
    "customerSubscriptions": "email-json:notices@example.com",
}


@pytest.fixture(scope="session")
def dev_synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The ``dev`` stage (data not kept), configured from CDK context through app.py."""
    config = stage_config(cdk.App(context=DEV_CONTEXT))
    return synthesize(tmp_path_factory.mktemp("cdk.out.dev"), config)
