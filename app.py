#!/usr/bin/env python3
"""CDK entry point: one ``WorkflowKit-<stage>`` stack per stage, checked by cdk-nag on every synth.

The only place that reads the environment and CDK context.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The stack derives its wiring from the workflow declaration that the Lambdas also import.
sys.path.insert(0, str(ROOT / "functions"))
# cdk-nag's EventBridge rule reads CfnEventBusPolicy.principal, which jsii reports as deprecated on every
# synth; that is cdk-nag's business, not the user's. Set JSII_DEPRECATED=warn to see such warnings again.
os.environ.setdefault("JSII_DEPRECATED", "quiet")

import aws_cdk as cdk  # noqa: E402
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION  # noqa: E402
from cdk_nag import AwsSolutionsChecks, ServerlessChecks  # noqa: E402

from infra.stacks import StageConfig, WorkflowStack  # noqa: E402


def main() -> None:
    app = cdk.App()
    stage = str(app.node.try_get_context("stage") or "dev")
    layer_arn = app.node.try_get_context("powertoolsLayerArn")
    config = StageConfig(
        stage=stage,
        functions_dir=ROOT / "functions",
        statemachines_dir=ROOT / "statemachines",
        # The layer matches the Powertools version the tests ran against (pinned in pyproject.toml).
        powertools_version=POWERTOOLS_VERSION,
        powertools_layer_arn=str(layer_arn) if layer_arn else None,
        log_level=str(app.node.try_get_context("logLevel") or "INFO"),
    )
    WorkflowStack(
        app,
        f"WorkflowKit-{stage}",
        config=config,
        description=f"WorkflowKit ({stage}): hybrid orchestration/choreography workflows",
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    cdk.Tags.of(app).add("project", "workflowkit")
    cdk.Tags.of(app).add("stage", stage)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
