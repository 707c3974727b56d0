"""Test helpers for preflight: a cloud assembly written like CDK's, and accounts set up on moto.

Plain functions (not fixtures) so the end-to-end test on the real template can use them too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto.cloudformation.models import cloudformation_backends
from moto.ssm.models import Parameter, ssm_backends

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
QUALIFIER = "hnb659fds"
VERSION_PARAMETER = f"/cdk-bootstrap/{QUALIFIER}/version"
ASSET_BUCKET = f"cdk-{QUALIFIER}-assets-{ACCOUNT}-{REGION}"
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/x86_64/python3.13/3.24.0"
POWERTOOLS_LAYER = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:7"
)


def cdk_template(resources: Mapping[str, Any], *, required_version: int = 6) -> dict[str, Any]:
    """A stack template as CDK's default synthesizer writes it: the bootstrap parameter and rule."""
    rejected = [str(v) for v in range(1, required_version)]
    return {
        "Resources": dict(resources),
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": VERSION_PARAMETER,
                "Description": "Version of the CDK Bootstrap resources in this environment. [cdk:skip]",
            }
        },
        "Rules": {
            "CheckBootstrapVersion": {
                "Assertions": [
                    {
                        "Assert": {"Fn::Not": [{"Fn::Contains": [rejected, {"Ref": "BootstrapVersion"}]}]},
                        "AssertDescription": f"CDK bootstrap stack version {required_version} required.",
                    }
                ]
            }
        },
    }


def write_cdk_out(
    root: Path,
    template: Mapping[str, Any],
    *,
    stack: str = "WorkflowKit-dev",
    environment: str = f"aws://unknown-account/{REGION}",
    required_version: int = 6,
    cdk_json: Mapping[str, Any] | None = None,
) -> Path:
    """``root/cdk.out`` with a manifest, asset manifest and template like ``cdk synth`` writes."""
    out = root / "cdk.out"
    out.mkdir(parents=True, exist_ok=True)
    region = environment.rsplit("/", 1)[-1]
    bucket = f"cdk-{QUALIFIER}-assets-${{AWS::AccountId}}-{region}"
    (out / f"{stack}.template.json").write_text(json.dumps(template))
    (out / f"{stack}.assets.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "files": {
                    "abc": {
                        "source": {"path": f"{stack}.template.json", "packaging": "file"},
                        "destinations": {"current": {"bucketName": bucket, "objectKey": "abc.json"}},
                    }
                },
                "dockerImages": {},
            }
        )
    )
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            f"{stack}.assets": {
                "type": "cdk:asset-manifest",
                "properties": {
                    "file": f"{stack}.assets.json",
                    "requiresBootstrapStackVersion": required_version,
                    "bootstrapStackVersionSsmParameter": VERSION_PARAMETER,
                },
            },
            stack: {
                "type": "aws:cloudformation:stack",
                "environment": environment,
                "properties": {
                    "templateFile": f"{stack}.template.json",
                    "requiresBootstrapStackVersion": required_version,
                    "bootstrapStackVersionSsmParameter": VERSION_PARAMETER,
                },
                "dependencies": [f"{stack}.assets"],
                "displayName": stack,
            },
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    if cdk_json is not None:
        (root / "cdk.json").write_text(json.dumps(cdk_json))
    return out


BOOTSTRAP_TEMPLATE = {
    "Resources": {
        "StagingBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": ASSET_BUCKET}},
    },
    "Outputs": {"BootstrapVersion": {"Value": "30"}},
}


def bootstrap(session: boto3.Session, *, version: int = 30, stack: bool = True, bucket: bool = True) -> None:
    """What ``cdk bootstrap`` leaves in the account: the version parameter, the stack, the bucket."""
    session.client("ssm").put_parameter(Name=VERSION_PARAMETER, Value=str(version), Type="String")
    if stack:
        session.client("cloudformation").create_stack(
            StackName="CDKToolkit", TemplateBody=json.dumps(BOOTSTRAP_TEMPLATE)
        )
        if not bucket:
            session.client("s3").delete_bucket(Bucket=ASSET_BUCKET)
    elif bucket:
        session.client("s3").create_bucket(Bucket=ASSET_BUCKET)


def publish_public_parameter(name: str, value: str, *, region: str = REGION) -> None:
    """An AWS public parameter (``/aws/service/...``): moto refuses PutParameter on those names."""
    ssm_backends[ACCOUNT][region]._parameters[name].append(
        Parameter(  # type: ignore[abstract]
            account_id=ACCOUNT,
            name=name,
            value=value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=datetime.now(UTC),
            version=1,
            data_type="text",
        )
    )


def set_stack_status(stack_name: str, status: str) -> None:
    """moto's stacks are always COMPLETE; a stack in another state is set on moto's backend."""
    for stack in cloudformation_backends[ACCOUNT][REGION].stacks.values():
        if stack.name == stack_name:
            stack.status = status


class StubbedSession(boto3.Session):  # type: ignore[misc]
    """A session whose clients for some services are given (botocore Stubber), the rest moto's."""

    def __init__(self, clients: Mapping[str, Any], *, region_name: str = REGION) -> None:
        super().__init__(region_name=region_name)
        self._given = dict(clients)

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        return self._given.get(service_name) or super().client(service_name, *args, **kwargs)
