#!/usr/bin/env python3
"""CDK entry point: one ``WorkflowKit-<stage>`` stack per stage, checked by cdk-nag on every synth.

The only place that reads the environment and CDK context. Context keys (``-c key=value`` or cdk.json):

- ``stage`` (default ``dev``): the stack ``WorkflowKit-<stage>``; every stage but ``dev`` keeps its data.
- ``logLevel`` (default ``INFO``): the functions' Powertools log level.
- ``powertoolsLayerArn``: a layer ARN instead of the public SSM parameter of the pinned Powertools version.
- ``alarmSubscriptions``, ``escalationSubscriptions``, ``customerSubscriptions`` (the notices topic): the
  topics' subscribers, ``protocol:endpoint`` items separated by commas (``email``, ``email-json``, ``sms``,
  or an https:// URL), e.g. ``-c alarmSubscriptions=email:ops@example.com,https://hooks.example.com/x``.
- ``compliance`` (default ``default``): ``strict`` also checks the stage against cdk-nag's NIST 800-53 R5,
  PCI DSS 3.2.1 and HIPAA Security packs and builds what they ask (backups of the tables, reserved
  concurrency, managed policies): ``infra.compliance``.
- ``reservedConcurrency``: under ``strict``, each function's reserved concurrency over the stated figures,
  ``<function service>=<n>`` items separated by commas, ``default`` for the unnamed ones, e.g.
  ``-c reservedConcurrency=default=5,controller=20``.
- ``functionsDir`` (default ``functions``), ``statemachinesDir`` (default ``statemachines``): the code
  asset, whose ``workflow_registry`` lists the deployed workflows, and the ASL files. A copy of the
  functions folder with another workflow added deploys that workflow too.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The stack derives its wiring from the workflow declarations that the Lambdas also import.
sys.path.insert(0, str(ROOT / "functions"))
# cdk-nag's EventBridge rule reads CfnEventBusPolicy.principal, which jsii reports as deprecated on every
# synth; that is cdk-nag's business, not the user's. Set JSII_DEPRECATED=warn to see such warnings again.
os.environ.setdefault("JSII_DEPRECATED", "quiet")

import aws_cdk as cdk  # noqa: E402
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION  # noqa: E402

from infra.compliance import nag_packs, parse_compliance, parse_reserved_concurrency  # noqa: E402
from infra.constructs.topics import parse_subscriptions  # noqa: E402
from infra.stacks import StageConfig, WorkflowStack  # noqa: E402
from workflow_core.registry import REGISTRY_MODULE, Registry  # noqa: E402


def stage_config(app: cdk.App) -> StageConfig:
    """The stage's configuration from the app's CDK context."""
    context = app.node.try_get_context
    layer_arn = context("powertoolsLayerArn")
    return StageConfig(
        stage=str(context("stage") or "dev"),
        functions_dir=_folder(context("functionsDir"), ROOT / "functions"),
        statemachines_dir=_folder(context("statemachinesDir"), ROOT / "statemachines"),
        # The layer matches the Powertools version the tests ran against (pinned in pyproject.toml).
        powertools_version=POWERTOOLS_VERSION,
        powertools_layer_arn=str(layer_arn) if layer_arn else None,
        log_level=str(context("logLevel") or "INFO"),
        alarm_subscriptions=parse_subscriptions(context("alarmSubscriptions")),
        escalation_subscriptions=parse_subscriptions(context("escalationSubscriptions")),
        notice_subscriptions=parse_subscriptions(context("customerSubscriptions")),
        compliance=parse_compliance(context("compliance")),
        reserved_concurrency=parse_reserved_concurrency(context("reservedConcurrency")),
    )


def load_registry(functions_dir: Path) -> Registry:
    """The deployed workflows as the functions in ``functions_dir`` read them: its ``workflow_registry``.

    The folder goes first on the import path, so the workflows and services it adds are imported from it
    (what is already imported, such as the kit's runtime ``workflow_core``, stays as loaded). The registry
    module is read from that folder's file even when another folder's was imported before.
    """
    folder = functions_dir.resolve()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
    path = folder / f"{REGISTRY_MODULE}.py"
    spec = importlib.util.spec_from_file_location(f"{REGISTRY_MODULE}_of_{folder.name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{path}: no workflow registry to deploy")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    workflows = getattr(module, "WORKFLOWS", None)
    if not isinstance(workflows, tuple | list):
        raise RuntimeError(f"{path} must define WORKFLOWS, a tuple of WorkflowDefinition")
    return Registry(workflows)


def main() -> None:
    app = cdk.App()
    config = stage_config(app)
    stage = config.stage
    WorkflowStack(
        app,
        f"WorkflowKit-{stage}",
        config=config,
        registry=load_registry(config.functions_dir),
        description=f"WorkflowKit ({stage}): hybrid orchestration/choreography workflows",
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    cdk.Tags.of(app).add("project", "workflowkit")
    cdk.Tags.of(app).add("stage", stage)
    cdk.Validations.of(app).add_plugins(*nag_packs(app, config.compliance))
    app.synth()


def _folder(value: object, default: Path) -> Path:
    """A folder from context: relative paths are relative to the app (cdk runs it from its own folder)."""
    if not value:
        return default
    path = Path(str(value))
    return path if path.is_absolute() else ROOT / path


if __name__ == "__main__":
    main()
